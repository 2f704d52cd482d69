import Foundation
import WeaveRuntime

/// One replica of one stage, started by an executor, watched by the scheduler.
protocol StageJob: AnyObject {
    var stage: Stage { get }
    var replica: Int { get }
    var started: Date { get }
    /// False once the replica has ended (successfully or not).
    var isRunning: Bool { get }
    /// The stage's latest progress report, if it wrote one.
    var progress: ProgressReport? { get }
    /// Nil on success, else what went wrong, for the error card (call once `isRunning` is false).
    func failure() -> String?
    /// A new thread budget (executors whose jobs have fixed resources ignore it).
    func setThreads(_ n: Int)
    /// Stops the replica if it ran past its timeout (and waits for it); true when it did.
    /// Executors whose jobs carry their own time limit keep the default (false).
    func stopIfOverdue(now: Date) -> Bool
}

extension StageJob {
    func stopIfOverdue(now: Date) -> Bool { false }
}

/// Where stage replicas run: here as child processes (`LocalExecutor`), or as Slurm jobs
/// (`SlurmExecutor`). The scheduler decides what may start when; the executor only starts it.
protocol StageExecutor: AnyObject {
    /// Stages that may run at once instead of the scheduler's `jobs` (nil: keep `jobs`).
    var concurrency: Int? { get }
    /// `codeKey`: the code part of the stage's key, which the stage process checks.
    func start(stage: Stage, replica: Int, work: URL, inputs: [String: String], codeKey: String,
               settings: RunSettings) throws -> any StageJob
    /// Called after the last job ended (or the build stopped).
    func end()
    /// Before anything starts: every stage this build may run (graph order), its work folders
    /// to live under `workRoot`. Executors that queue ahead (Slurm) submit here.
    func plan(_ stages: [Stage], workRoot: URL, settings: RunSettings)
    /// The scheduler settled `stage` (ran, failed, or will not run): work queued ahead for it
    /// and never started is no longer wanted.
    func settled(_ stage: String)
}

extension StageExecutor {
    func plan(_ stages: [Stage], workRoot: URL, settings: RunSettings) {}
    func settled(_ stage: String) {}
}

/// Which executor a build uses (`weave build --executor local|slurm`).
public enum ExecutorChoice: Sendable, Equatable {
    /// Every replica a child process of the weaver.
    case local
    /// Every replica a Slurm job (`sbatch`), submitted with these settings.
    case slurm(SlurmSettings)

    func make() -> any StageExecutor {
        switch self {
        case .local: return LocalExecutor()
        case .slurm(let settings): return SlurmExecutor(settings)
        }
    }
}

/// Each replica a child process of the weaver (the default).
final class LocalExecutor: StageExecutor {
    var concurrency: Int? { nil }
    func start(stage: Stage, replica: Int, work: URL, inputs: [String: String], codeKey: String,
               settings: RunSettings) throws -> any StageJob {
        try StageProcess(stage: stage, replica: replica, work: work, inputs: inputs, codeKey: codeKey, settings: settings)
    }
    func end() {}
}

/// What a compute stage asks its executor for (`cpus=4 mem=8G time=2:00:00` on its block).
/// Not part of the cache key: resources change where and how fast, not what.
public struct StageResources: Sendable, Equatable {
    /// CPU cores (and BLAS threads) for each replica.
    public var cpus: Int?
    /// Memory in Slurm's syntax: a number with an optional K/M/G/T suffix.
    public var memory: String?
    /// Wall-time limit in Slurm's syntax: minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM, D-HH:MM:SS.
    public var time: String?

    /// Resources as given; nil leaves the executor's (or cluster's) default.
    public init(cpus: Int? = nil, memory: String? = nil, time: String? = nil) {
        self.cpus = cpus
        self.memory = memory
        self.time = time
    }

    /// The info-string options this reads.
    static let optionNames: Set<String> = ["cpus", "mem", "time"]

    /// Reads `cpus=`, `mem=`, `time=` from a block's options; throws naming the bad one.
    static func parse(_ options: [String: String?], kind: StageKind, at location: SourceLocation) throws -> StageResources {
        var r = StageResources()
        let given = optionNames.filter { options[$0] != nil }
        if !given.isEmpty && kind != .compute {
            throw WeaveError("\(given.sorted().joined(separator: "=, "))= are for compute stages", at: location)
        }
        if let value = options["cpus"] {
            guard let text = value, let n = Int(text), (1...1024).contains(n) else {
                throw WeaveError("cpus= must be a whole number from 1 to 1024", at: location)
            }
            r.cpus = n
        }
        if let value = options["mem"] {
            guard let text = value, text.range(of: #"^[1-9][0-9]*[KMGT]?$"#, options: .regularExpression) != nil else {
                throw WeaveError("mem= must be a number with an optional K, M, G or T (e.g. 8G)", at: location)
            }
            r.memory = text
        }
        if let value = options["time"] {
            let pattern = #"^([0-9]+-)?[0-9]+(:[0-9]{1,2}){0,2}$"#
            guard let text = value, text.range(of: pattern, options: .regularExpression) != nil else {
                throw WeaveError("time= must be Slurm's time syntax (minutes, HH:MM:SS or D-HH:MM:SS)", at: location)
            }
            r.time = text
        }
        return r
    }
}
