import Foundation

/// A compiler diagnostic that points into a chapter.
public struct CompileDiagnostic: Sendable, Equatable {
    public var location: SourceLocation
    public var column: Int
    public var message: String
}

/// Builds the generated package in release mode (libraries optimised once, in the package's
/// own scratch folder) and maps errors back to stages.
public struct StageCompiler: Sendable {
    public var packageFolder: URL
    public var scratchFolder: URL

    public init(packageFolder: URL, scratchFolder: URL) {
        self.packageFolder = packageFolder
        self.scratchFolder = scratchFolder
    }

    public struct Outcome: Sendable {
        public var succeeded: Bool
        public var executable: URL
        /// Errors located in chapters.
        public var diagnostics: [CompileDiagnostic]
        /// The compiler's full output when it failed (errors outside chapters, e.g. a library).
        public var log: String
        public var seconds: Double
    }

    public var executable: URL {
        scratchFolder.appendingPathComponent("release").appendingPathComponent(CodeGenerator.targetName)
    }

    public func build() throws -> Outcome {
        let start = Date()
        let result = try Shell.run(["swift", "build", "-c", "release", "--package-path", packageFolder.path,
                                    "--scratch-path", scratchFolder.path, "--product", CodeGenerator.targetName],
                                   in: packageFolder)
        let log = result.stdout + result.stderr
        return Outcome(succeeded: result.status == 0, executable: executable,
                       diagnostics: Self.diagnostics(in: log), log: log, seconds: Date().timeIntervalSince(start))
    }

    /// `chapters/02-x.md:14:9: error: message` lines (deduplicated: SwiftPM repeats them).
    public static func diagnostics(in log: String) -> [CompileDiagnostic] {
        var seen: Set<String> = []
        var found: [CompileDiagnostic] = []
        for raw in log.split(separator: "\n") {
            let line = String(raw)
            guard let range = line.range(of: ": error: ") else { continue }
            let head = line[..<range.lowerBound].split(separator: ":")
            guard head.count >= 3, let lineNo = Int(head[head.count - 2]), let column = Int(head[head.count - 1]) else { continue }
            let file = head.dropLast(2).joined(separator: ":")
            guard file.hasSuffix(".md"), seen.insert(line).inserted else { continue }
            found.append(CompileDiagnostic(location: SourceLocation(file: file, line: lineNo), column: column,
                                           message: String(line[range.upperBound...])))
        }
        return found
    }
}
