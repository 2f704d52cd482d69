import Foundation
import WeaveRuntime

/// A compiler diagnostic that points into a chapter.
public struct CompileDiagnostic: Sendable, Equatable {
    /// The chapter line the compiler pointed at (through `#sourceLocation`).
    public var location: SourceLocation
    /// 1-based column on that line.
    public var column: Int
    /// The compiler's message, without location and severity.
    public var message: String
}

/// Builds the generated package in release mode (libraries optimised once, in the package's
/// own scratch folder) and maps errors back to stages.
public struct StageCompiler: Sendable {
    /// Folder of the generated package (as `CodeGenerator` wrote it).
    var packageFolder: URL
    /// SwiftPM's build folder; kept between builds so only edited chapters recompile.
    var scratchFolder: URL

    /// A compiler for one generated package.
    public init(packageFolder: URL, scratchFolder: URL) {
        self.packageFolder = packageFolder
        self.scratchFolder = scratchFolder
    }

    /// What one `swift build` of the generated package gave.
    public struct Outcome: Sendable {
        /// True when `swift build` exited with status 0.
        public var succeeded: Bool
        /// The stage executable (present only when `succeeded`).
        public var executable: URL
        /// Errors located in chapters.
        public var diagnostics: [CompileDiagnostic]
        /// The compiler's full output when it failed (errors outside chapters, e.g. a library).
        public var log: String
        /// Wall-clock seconds the build took.
        public var seconds: Double
    }

    /// The scratch folder's record of its last compile (`lastCompileRecord`); absent while one
    /// runs, so an interrupted compile also counts as failed.
    static let lastCompileFile = "weave-last-compile.txt"

    /// Which package the scratch folder last compiled and whether that compile succeeded.
    public static func lastCompileRecord(package: String, succeeded: Bool) -> String {
        "\(package)\n\(succeeded ? "succeeded" : "failed")\n"
    }

    /// Removes the record of the scratch folder that `executable` (SCRATCH/release/WeaveStages)
    /// was built in, so its next compile plans anew: a stage found the program stale.
    public static func forgetLastCompile(executable: URL) {
        let scratch = executable.deletingLastPathComponent().deletingLastPathComponent()
        try? FileManager.default.removeItem(at: scratch.appendingPathComponent(lastCompileFile))
    }

    /// Whether SwiftPM must make its build plan anew (`--disable-build-manifest-caching`): unless
    /// the scratch folder's last compile (`lastCompile`, the record file's text; nil: none, or
    /// one was interrupted) was of `package` and succeeded.
    public static func plansAnew(lastCompile: String?, package: String) -> Bool {
        lastCompile != lastCompileRecord(package: package, succeeded: true)
    }

    /// Where the built stage executable lands: scratch/release/WeaveStages.
    public var executable: URL {
        scratchFolder.appendingPathComponent("release").appendingPathComponent(CodeGenerator.targetName)
    }

    /// `progress` hears SwiftPM's latest "[12/340] Compiling Engine Conv.swift" line about twice a
    /// second: the first build compiles every library in release and takes minutes.
    public func build(progress: (ProgressReport, Double) -> Void = { _, _ in }) throws -> Outcome {
        let start = Date()
        // The logs live in the scratch folder (one build at a time holds the cache's lock), so an
        // interrupted build leaves no temp folder behind.
        try FileManager.default.createDirectory(at: scratchFolder, withIntermediateDirectories: true)
        let out = scratchFolder.appendingPathComponent("weave-compile-out.txt")
        let err = scratchFolder.appendingPathComponent("weave-compile-err.txt")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        // SwiftPM keeps its build plan (release.yaml) in the scratch folder. A scratch shared by
        // several caches, after a failed compile of one cache's package, kept planning the other
        // package's sources: "complete (0.30s)" and a stale program, build after build. So the
        // plan is made anew whenever the last compile here was of another package or failed.
        let marker = scratchFolder.appendingPathComponent(Self.lastCompileFile)
        let lastCompile = try? String(contentsOf: marker, encoding: .utf8)
        let thisPackage = packageFolder.standardizedFileURL.path
        let planAnew = Self.plansAnew(lastCompile: lastCompile, package: thisPackage)
        try? FileManager.default.removeItem(at: marker)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = Self.diesWithParent(["swift", "build", "-c", "release", "--package-path", packageFolder.path,
                                                 "--scratch-path", scratchFolder.path, "--product", CodeGenerator.targetName]
                                                + (planAnew ? ["--disable-build-manifest-caching"] : []))
        process.currentDirectoryURL = packageFolder
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        try process.run()
        while process.isRunning {
            Thread.sleep(forTimeInterval: 0.5)
            if let text = try? String(contentsOf: out, encoding: .utf8), let report = Self.latestStep(in: text) {
                progress(report, Date().timeIntervalSince(start))
            }
        }
        let succeeded = process.terminationStatus == 0
        try? Data(Self.lastCompileRecord(package: thisPackage, succeeded: succeeded).utf8).write(to: marker, options: .atomic)
        let log = ((try? String(contentsOf: out, encoding: .utf8)) ?? "") + ((try? String(contentsOf: err, encoding: .utf8)) ?? "")
        return Outcome(succeeded: succeeded, executable: executable,
                       diagnostics: Self.diagnostics(in: log), log: log, seconds: Date().timeIntervalSince(start))
    }

    /// `arguments` (a program on PATH and its arguments, for `/usr/bin/env`) run under
    /// util-linux's `setpriv --pdeathsig INT` (when installed), with SIGINT's default action
    /// restored (the weaver ignores SIGINT, and children inherit that): the compiler gets SIGINT
    /// when the weaver dies in any way (Ctrl-C, SIGTERM, kill -9), and SwiftPM answers SIGINT by
    /// stopping its compiler processes. (Each of those runs in its own process group, so
    /// signalling swift build's group would miss them, and SIGTERM leaves them running.) The
    /// signal follows the thread that started the compiler, which waits for it in `build`.
    public static func diesWithParent(_ arguments: [String]) -> [String] {
        let setpriv = "/usr/bin/setpriv"
        guard FileManager.default.isExecutableFile(atPath: setpriv) else { return arguments }
        return [setpriv, "--pdeathsig", "INT", "--", "/usr/bin/env", "--default-signal=INT"] + arguments
    }

    /// The last `[n/m] what` line of SwiftPM's output, as progress.
    public static func latestStep(in log: String) -> ProgressReport? {
        for line in log.split(separator: "\n").reversed() where line.hasPrefix("[") {
            guard let close = line.firstIndex(of: "]") else { continue }
            let counts = line[line.index(after: line.startIndex)..<close].split(separator: "/")
            guard counts.count == 2, let n = Double(counts[0]), let m = Double(counts[1]), m > 0 else { continue }
            let what = line[line.index(after: close)...].trimmingCharacters(in: .whitespaces)
            return ProgressReport(text: String(what.prefix(60)), fraction: n / m)
        }
        return nil
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
