import Foundation

/// A place in a chapter, printed the way compilers do so editors can jump to it.
public struct SourceLocation: Hashable, Sendable, Codable, CustomStringConvertible {
    /// Path relative to the project root, e.g. `chapters/02-teacher.md`.
    public var file: String
    public var line: Int
    public init(file: String, line: Int) { self.file = file; self.line = line }
    public var description: String { "\(file):\(line)" }
}

/// An error the author must fix, with where to fix it.
public struct WeaveError: Error, Sendable, Equatable, CustomStringConvertible {
    public var location: SourceLocation?
    public var message: String
    public init(_ message: String, at location: SourceLocation? = nil) {
        self.message = message
        self.location = location
    }
    public var description: String {
        location.map { "\($0): error: \(message)" } ?? "error: \(message)"
    }
}

/// Several errors found in one pass, so the author sees them all at once.
public struct WeaveErrors: Error, Sendable, CustomStringConvertible {
    public var errors: [WeaveError]
    public init(_ errors: [WeaveError]) { self.errors = errors }
    public var description: String { errors.map(\.description).joined(separator: "\n") }
}

public enum StageKind: String, Sendable, Codable, CaseIterable {
    case compute = "stage"
    case figure
    case table

    /// Figures and tables only present results; their cache key fingerprints presentation code.
    public var isPresentation: Bool { self != .compute }
}

/// A fenced `swift stage=|figure=|table=` block.
public struct Stage: Sendable, Equatable {
    public var name: String
    public var kind: StageKind
    public var needs: [String]
    public var code: String
    /// Line of the opening fence (errors about the stage point here).
    public var location: SourceLocation
    /// Line of the first line of code (`#sourceLocation` points here).
    public var codeLine: Int
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
    case stage(Stage)
    /// `swift define`: top-level declarations shared by every stage (and hashed into every key).
    case definitions(code: String, location: SourceLocation, codeLine: Int, hidden: Bool)
    /// A plain `swift` block: shown, highlighted, not run.
    case listing(code: String, location: SourceLocation)
}

public struct Chapter: Sendable, Equatable {
    /// Relative path used in messages and `#sourceLocation`.
    public var file: String
    public var blocks: [Block]

    public init(file: String, blocks: [Block]) { self.file = file; self.blocks = blocks }

    public var stages: [Stage] {
        blocks.compactMap { if case .stage(let s) = $0 { return s } else { return nil } }
    }

    /// A Swift-identifier-safe name for the chapter's generated code.
    public var identifier: String {
        let base = (file as NSString).lastPathComponent.replacingOccurrences(of: ".md", with: "")
        return "Chapter_" + String(base.map { $0.isLetter || $0.isNumber ? $0 : "_" })
    }
}
