import Foundation

/// A place in a chapter, printed the way compilers do so editors can jump to it.
public struct SourceLocation: Hashable, Sendable, Codable, CustomStringConvertible {
    /// Path relative to the project root, e.g. `chapters/02-teacher.md`.
    public var file: String
    /// 1-based line in that file.
    public var line: Int
    /// A location at `line` (1-based) of `file` (relative to the project root).
    public init(file: String, line: Int) { self.file = file; self.line = line }
    /// `file:line`.
    public var description: String { "\(file):\(line)" }
}

/// An error the author must fix, with where to fix it.
public struct WeaveError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Where to fix it; nil for errors about no one place (options, missing folders).
    public var location: SourceLocation?
    /// What is wrong, without the location prefix.
    public var message: String
    /// An error with an optional place.
    public init(_ message: String, at location: SourceLocation? = nil) {
        self.message = message
        self.location = location
    }
    /// `file:line: error: message`, the compiler format editors jump from.
    public var description: String {
        location.map { "\($0): error: \(message)" } ?? "error: \(message)"
    }
}

/// Several errors found in one pass, so the author sees them all at once.
public struct WeaveErrors: Error, Sendable, CustomStringConvertible {
    /// The errors in the order found.
    public var errors: [WeaveError]
    /// Several errors reported as one.
    public init(_ errors: [WeaveError]) { self.errors = errors }
    /// One error per line.
    public var description: String { errors.map(\.description).joined(separator: "\n") }
}

/// What a fenced stage block produces; the raw value is the block's attribute (`stage=`,
/// `figure=`, `table=`).
public enum StageKind: String, Sendable, Codable, CaseIterable {
    /// Computes results (training, evaluation) that other stages read.
    case compute = "stage"
    /// Draws a figure: written as SVG and PNG and shown in the report.
    case figure
    /// Returns a `WeaveRuntime.Table`, shown as a numbered table in the report.
    case table

    /// Figures and tables only present results; their cache key fingerprints presentation code.
    var isPresentation: Bool { self != .compute }
}

/// A fenced `swift stage=|figure=|table=` block.
public struct Stage: Sendable, Equatable {
    /// Unique name other stages `needs=`; a figure's or table's file name stem.
    public var name: String
    /// Compute, figure or table.
    public var kind: StageKind
    /// Stages whose artifacts this one reads (`needs=a,b`); they run first and their keys are in its key.
    public var needs: [String]
    /// The block's Swift code, as written.
    public var code: String
    /// Line of the opening fence (errors about the stage point here).
    public var location: SourceLocation
    /// Line of the first line of code (`#sourceLocation` points here).
    public var codeLine: Int
    /// Caption shown under a figure or table (`caption="..."`); nil for none.
    public var caption: String?
    /// `hide`: run and show results, but not the code.
    public var hidden: Bool
    /// `seeds=N`: run N times with seeds seed...seed+N-1; each artifact becomes an array.
    public var seeds: Int
    /// `expensive`: skipped by `weave build --cheap` unless cached.
    public var expensive: Bool
    /// `cpus= mem= time=`: what a cluster job running it asks for (not part of its key).
    public var resources = StageResources()
    /// `files=PATH,...`: files or folders (relative to the project root) the code reads; their
    /// contents are part of the key (knitr's `cache.extra`).
    public var files: [String]
    /// `env=NAME,...`: environment variables the code reads; their values are part of the key.
    public var environment: [String]
    /// `timeout=SECONDS`: the stage fails (and is stopped) when it runs longer; nil: `--timeout`.
    public var timeout: Double?

    /// A stage as the parser builds it; options default to those of a bare block.
    public init(name: String, kind: StageKind, needs: [String] = [], code: String, location: SourceLocation,
                codeLine: Int, caption: String? = nil, hidden: Bool = false, seeds: Int = 1, expensive: Bool = false,
                files: [String] = [], environment: [String] = [], timeout: Double? = nil) {
        self.name = name
        self.kind = kind
        self.needs = needs
        self.code = code
        self.location = location
        self.codeLine = codeLine
        self.caption = caption
        self.hidden = hidden
        self.seeds = seeds
        self.expensive = expensive
        self.files = files
        self.environment = environment
        self.timeout = timeout
    }

    /// Lines of the chapter the stage's code occupies (compiler diagnostics map back by line).
    public var codeLines: ClosedRange<Int> {
        codeLine...max(codeLine, codeLine + code.split(separator: "\n", omittingEmptySubsequences: false).count - 1)
    }
}

/// A piece of a chapter, in order.
public enum Block: Sendable, Equatable {
    /// Prose; `line` is the chapter line of its first line.
    case markdown(String, line: Int)
    /// A fenced stage, figure or table block.
    case stage(Stage)
    /// `swift define`: top-level declarations shared by every stage (and hashed into every key).
    case definitions(code: String, location: SourceLocation, codeLine: Int, hidden: Bool)
    /// A plain `swift` block: shown, highlighted, not run.
    case listing(code: String, location: SourceLocation)
}

/// One Markdown chapter file as a sequence of blocks.
public struct Chapter: Sendable, Equatable {
    /// Relative path used in messages and `#sourceLocation`.
    public var file: String
    /// Prose and code blocks in file order.
    public var blocks: [Block]

    /// A chapter from its parsed blocks.
    public init(file: String, blocks: [Block]) { self.file = file; self.blocks = blocks }

    /// The chapter's stage blocks, in file order.
    public var stages: [Stage] {
        blocks.compactMap { if case .stage(let s) = $0 { return s } else { return nil } }
    }

    /// A Swift-identifier-safe name for the chapter's generated code.
    var identifier: String {
        let base = (file as NSString).lastPathComponent.replacingOccurrences(of: ".md", with: "")
        return "Chapter_" + String(base.map { $0.isLetter || $0.isNumber ? $0 : "_" })
    }
}
