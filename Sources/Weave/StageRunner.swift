import Foundation
import SystemSupport
import WeaveRuntime

/// How stage processes are started: which binary, which environment.
public struct RunSettings: Sendable {
    /// The compiled stage executable (one binary holds every stage).
    public var executable: URL
    /// Experiment scale every stage gets.
    public var scale: String
    /// Base seed; replica r of a `seeds=N` stage gets seed + r.
    public var seed: UInt64
    /// BLAS threads each stage process may use (`OPENBLAS_NUM_THREADS`).
    public var blasThreads: Int
    /// External data paths (`--data`) every stage gets.
    public var dataPaths: [String]
    /// The project root: stages run there, so relative paths in stage code mean the same as in chapters.
    public var root: URL
    /// Seconds a stage may run when its block sets no `timeout=` (nil: no limit).
    public var timeout: Double?

    /// Settings for one build's stage processes.
    public init(executable: URL, scale: String, seed: UInt64, blasThreads: Int, dataPaths: [String] = [], root: URL,
                timeout: Double? = nil) {
        self.executable = executable
        self.scale = scale
        self.seed = seed
        self.blasThreads = blasThreads
        self.dataPaths = dataPaths
        self.root = root
        self.timeout = timeout
    }

    /// OpenBLAS picks its kernel when it loads, so the choice must be in the environment before
    /// the stage starts: the user's `OPENBLAS_CORETYPE`, else the AVX-512 (SkylakeX) kernel when
    /// the CPU has every subset it uses (`CPUFeatures.openBLASCoreType`, the engine's rule too).
    public static func blasCoreType(environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        CPUFeatures.openBLASCoreType(environment: environment)
    }

    /// The engine's C kernel path the stages run with ("avx512", "avx2", "portable"): the
    /// `ENGINE_ISA` the user set, else the path the engine's own code (`ck_isa_best` in
    /// CKernelPath) picks on this CPU. Stages get it explicitly in their environment, so the path
    /// recorded with each result is the one that computed it.
    public static func engineKernelPath(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        CPUFeatures.engineKernelPath(environment: environment)
    }
}

/// One process running one replica of one stage.
final class StageProcess: StageJob {
    let stage: Stage
    let replica: Int
    let output: URL
    let progressFile: URL
    let stderrFile: URL
    /// The stage's thread budget, which the scheduler may change while it runs (see `Scheduler.lendIdleThreads`).
    let threadsFile: URL
    private(set) var threads: Int
    let process = Process()
    let started = Date()
    /// The stage's standard input: the weaver holds the writing end until the stage ends, so the
    /// stage sees end of file (and exits) when the weaver dies in any way.
    private let parentPipe = Pipe()
    /// Seconds it may run (`timeout=` or `--timeout`), and whether it was stopped for that.
    let timeout: Double?
    private(set) var timedOut = false

    /// Starts the stage. `inputs` maps artifact name -> file, for the declared needs only;
    /// `codeKey` is the code part of its key, which the stage checks against its program.
    init(stage: Stage, replica: Int, work: URL, inputs: [String: String], codeKey: String, settings: RunSettings) throws {
        self.stage = stage
        self.replica = replica
        self.timeout = stage.timeout ?? settings.timeout
        let out = work.appendingPathComponent("out")
        self.output = stage.seeds > 1 ? work.appendingPathComponent("replica-\(replica)") : out
        self.progressFile = work.appendingPathComponent("progress-\(replica).json")
        self.stderrFile = work.appendingPathComponent("stderr-\(replica).txt")
        self.threadsFile = work.appendingPathComponent("threads-\(replica)")
        self.threads = settings.blasThreads
        try AtomicFile.write(Data("\(threads)\n".utf8), to: threadsFile)
        try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
        let stdoutFile = output.appendingPathComponent("stdout.txt")
        _ = FileManager.default.createFile(atPath: stdoutFile.path, contents: nil)
        _ = FileManager.default.createFile(atPath: stderrFile.path, contents: nil)

        let env = try Self.environment(stage: stage, replica: replica, output: output, progressFile: progressFile,
                                       threadsFile: threadsFile, inputs: inputs, codeKey: codeKey, watchParent: true,
                                       settings: settings)
        process.executableURL = settings.executable
        process.environment = env
        process.currentDirectoryURL = settings.root
        // Neither end may leak into other children: a sibling holding this writing end would
        // keep the stage alive after the weaver died. (The child gets its own copy as stdin.)
        for handle in [parentPipe.fileHandleForReading, parentPipe.fileHandleForWriting] {
            _ = fcntl(handle.fileDescriptor, F_SETFD, FD_CLOEXEC)
        }
        process.standardInput = parentPipe
        process.standardOutput = try FileHandle(forWritingTo: stdoutFile)
        process.standardError = try FileHandle(forWritingTo: stderrFile)
        try process.run()
        try? parentPipe.fileHandleForReading.close()
    }

    /// The environment a stage replica runs with (the weaver's own, plus the stage protocol's
    /// variables); every executor starts stages with exactly this. `codeKey` is the code part of
    /// the stage's key (the stage refuses to run code generated for another key); `watchParent`:
    /// the stage exits when its standard input (a pipe from this weaver) closes (local processes
    /// only: a Slurm job's standard input is not the weaver's).
    static func environment(stage: Stage, replica: Int, output: URL, progressFile: URL, threadsFile: URL,
                            inputs: [String: String], codeKey: String, watchParent: Bool,
                            settings: RunSettings) throws -> [String: String] {
        var env = ProcessInfo.processInfo.environment
        env[StageProtocol.stageVariable] = stage.name
        env[StageProtocol.scaleVariable] = settings.scale
        env[StageProtocol.seedVariable] = String(settings.seed &+ UInt64(replica))
        env[StageProtocol.outputVariable] = output.path
        env[StageProtocol.progressVariable] = progressFile.path
        env[StageProtocol.dataVariable] = settings.dataPaths.joined(separator: ":")
        env[StageProtocol.inputsVariable] = String(decoding: try JSONEncoder().encode(inputs), as: UTF8.self)
        env["OPENBLAS_NUM_THREADS"] = String(settings.blasThreads)
        env[StageProtocol.threadsVariable] = threadsFile.path
        env[StageProtocol.codeKeyVariable] = codeKey
        if watchParent { env[StageProtocol.watchParentVariable] = "1" } else { env[StageProtocol.watchParentVariable] = nil }
        if let core = RunSettings.blasCoreType() { env["OPENBLAS_CORETYPE"] = core }
        env["ENGINE_ISA"] = RunSettings.engineKernelPath()
        // The runtime's crash backtracer prints pages of registers; the error card wants the
        // "Fatal error: ..." line. Authors who want the backtrace can set SWIFT_BACKTRACE.
        if env["SWIFT_BACKTRACE"] == nil { env["SWIFT_BACKTRACE"] = "enable=no" }
        return env
    }

    /// Kills the stage when it has run longer than its timeout (and waits for it); true when it did.
    @discardableResult
    func stopIfOverdue(now: Date = Date()) -> Bool {
        guard let timeout, !timedOut, process.isRunning, now.timeIntervalSince(started) > timeout else { return false }
        timedOut = true
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        return true
    }

    /// Changes the thread budget the stage reads between steps (a no-op when unchanged).
    func setThreads(_ n: Int) {
        guard n != threads, (try? AtomicFile.write(Data("\(n)\n".utf8), to: threadsFile)) != nil else { return }
        threads = n
    }

    var progress: ProgressReport? {
        guard let data = try? Data(contentsOf: progressFile) else { return nil }
        return try? JSONDecoder().decode(ProgressReport.self, from: data)
    }

    var isRunning: Bool { process.isRunning }

    /// Nil on success, else what went wrong, in words for the error card.
    func failure() -> String? {
        if timedOut, let timeout {
            let source = stage.timeout != nil ? "timeout=\(ProgressDisplay.duration(timeout)) on the block" : "--timeout"
            return "timed out: stopped after \(ProgressDisplay.duration(timeout)) (\(source))"
        }
        let signaled = process.terminationReason == .uncaughtSignal
        if !signaled, process.terminationStatus == StageProtocol.wrongProgramExitCode, let program = process.executableURL {
            // Whatever compiled it reported success: the next compile must plan anew ("build
            // again" would otherwise keep the same stale program).
            StageCompiler.forgetLastCompile(executable: program)
        }
        return Self.failure(stage: stage, output: output, stderrFile: stderrFile,
                            status: signaled ? nil : process.terminationStatus, signal: signaled ? process.terminationStatus : nil)
    }

    /// What went wrong with a replica that exited with `status` or was killed by `signal`
    /// (nil when it succeeded), read from its output folder and stderr file.
    static func failure(stage: Stage, output: URL, stderrFile: URL, status: Int32?, signal: Int32?) -> String? {
        let stderrTail = Self.tail(of: stderrFile, lines: 15)
        if let signal {
            let name = String(cString: strsignal(signal))
            return "crashed: signal \(signal) (\(name))" + (stderrTail.isEmpty ? "" : "\n\(stderrTail)")
        }
        let status = status ?? 0
        if status == StageProtocol.failureExitCode,
           let data = try? Data(contentsOf: output.appendingPathComponent(StageProtocol.failureFile)),
           let failure = try? JSONDecoder().decode(StageFailure.self, from: data) {
            return failure.message
        }
        if status == StageProtocol.wrongProgramExitCode {
            return "not run: the compiled program does not match this stage's code (another build compiled into the same scratch folder); build again"
        }
        if status != 0 {
            return "exited with status \(status)" + (stderrTail.isEmpty ? "" : "\n\(stderrTail)")
        }
        switch stage.kind {
        case .figure where !FileManager.default.fileExists(atPath: output.appendingPathComponent(StageProtocol.figureSVG).path):
            return "figure stage produced no figure"
        case .table where !FileManager.default.fileExists(atPath: output.appendingPathComponent(StageProtocol.tableFile).path):
            return "table stage produced no table"
        default:
            return nil
        }
    }

    /// The end of stderr, without the runtime's stack trace (addresses mean nothing on a card).
    static func tail(of url: URL, lines: Int) -> String {
        guard let data = try? Data(contentsOf: url) else { return "" }
        var text = String(decoding: data, as: UTF8.self)
        if let trace = text.range(of: "Current stack trace:") { text = String(text[..<trace.lowerBound]) }
        return text.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines)
            .joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// Merges the replicas of a `seeds=N` stage: each JSON artifact becomes an array (one element
/// per seed, in seed order), each file artifact `NAME` becomes `NAME_seedI`, outputs are joined.
enum ReplicaMerger {
    static func merge(work: URL, replicas: Int, baseSeed: UInt64) throws {
        let fm = FileManager.default
        let out = work.appendingPathComponent("out")
        let artifacts = out.appendingPathComponent(StageProtocol.artifactsFolder)
        let files = out.appendingPathComponent(StageProtocol.filesFolder)
        try fm.createDirectory(at: artifacts, withIntermediateDirectories: true)
        var values: [String: [Data]] = [:]
        var stdout = ""
        for i in 0..<replicas {
            let folder = work.appendingPathComponent("replica-\(i)")
            let a = folder.appendingPathComponent(StageProtocol.artifactsFolder)
            for name in (try? fm.contentsOfDirectory(atPath: a.path))?.sorted() ?? [] where name.hasSuffix(".json") {
                values[name, default: []].append(try Data(contentsOf: a.appendingPathComponent(name)))
            }
            let f = folder.appendingPathComponent(StageProtocol.filesFolder)
            for name in (try? fm.contentsOfDirectory(atPath: f.path)) ?? [] {
                try fm.createDirectory(at: files, withIntermediateDirectories: true)
                try fm.moveItem(at: f.appendingPathComponent(name), to: files.appendingPathComponent("\(name)_seed\(i)"))
            }
            let text = (try? Data(contentsOf: folder.appendingPathComponent("stdout.txt"))).map { String(decoding: $0, as: UTF8.self) } ?? ""
            if !text.isEmpty { stdout += "— seed \(baseSeed &+ UInt64(i)) —\n" + text + (text.hasSuffix("\n") ? "" : "\n") }
            try fm.removeItem(at: folder)
        }
        for (name, parts) in values {
            var joined = Data("[\n".utf8)
            for (i, part) in parts.enumerated() {
                joined += part
                joined += Data((i + 1 < parts.count ? ",\n" : "\n").utf8)
            }
            joined += Data("]".utf8)
            try joined.write(to: artifacts.appendingPathComponent(name))
        }
        try Data(stdout.utf8).write(to: out.appendingPathComponent("stdout.txt"))
    }
}
