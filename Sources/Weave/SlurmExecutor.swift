import Foundation
import Slurm
import SystemSupport
import WeaveRuntime

/// How `weave build --executor slurm` submits: partition and the user's own sbatch arguments.
public struct SlurmSettings: Sendable, Equatable {
    /// `--partition` (nil: the cluster's default).
    public var partition: String?
    /// More `sbatch` arguments, as they are (e.g. `--account=x --qos=y`).
    public var extraArguments: [String]

    public init(partition: String? = nil, extraArguments: [String] = []) {
        self.partition = partition
        self.extraArguments = extraArguments
    }
}

/// Runs every stage replica as a Slurm job: a stage is one `sbatch` job, a `seeds=N` stage one
/// job array of N tasks. The weaver submits a stage once everything it needs is in the cache
/// (so its inputs exist when the job starts) and commits its result when the job has ended, as
/// with local processes; the cache, the work folders and the project must therefore be on a
/// file system the nodes share. Each job writes its stdout, stderr, progress and exit status
/// into its work folder, which is all the weaver reads. Ctrl-C/SIGTERM of the weaver cancel the submitted jobs (`InterruptHooks`).
// @unchecked: the state the interrupt hook reads (`submitted`) is behind `lock`.
final class SlurmExecutor: StageExecutor, @unchecked Sendable {
    let settings: SlurmSettings
    /// Slurm queues what the cluster cannot run yet: submit everything that is ready.
    var concurrency: Int? { 10_000 }

    private let lock = NSLock()
    /// Every job id this build submitted (for `scancel`).
    private var submitted: [String] = []
    /// Work folder -> job id of the stage submitted for it, or why it could not be submitted
    /// (the stage's other replicas report the same reason).
    private var jobOfWork: [String: Result<String, WeaveError>] = [:]
    /// Slurm's view of the submitted jobs, asked at most every `pollInterval` seconds.
    private var activeSnapshot: (time: Date, ids: Set<String>?) = (.distantPast, nil)
    private let pollInterval = 2.0
    private var interruptHook: InterruptHooks.Token?

    init(_ settings: SlurmSettings) {
        self.settings = settings
        // The weaver's Ctrl-C / SIGTERM handler runs this before it exits.
        interruptHook = InterruptHooks.add { [weak self] in self?.cancelSubmitted() }
    }

    func end() {
        if let interruptHook { InterruptHooks.remove(interruptHook) }
        interruptHook = nil
    }

    /// Ctrl-C: cancel what this build submitted. The work folders are left; the next build
    /// starts them over.
    private func cancelSubmitted() {
        let ids = lock.withLock { submitted }
        guard !ids.isEmpty else { return }
        Slurm.cancel(ids)
        FileHandle.standardError.write(Data("weave: cancelled \(ids.count) Slurm job\(ids.count == 1 ? "" : "s") (scancel \(ids.joined(separator: " ")))\n".utf8))
    }

    func start(stage: Stage, replica: Int, work: URL, inputs: [String: String], codeKey: String,
               settings run: RunSettings) throws -> any StageJob {
        var run = run
        if let cpus = stage.resources.cpus { run.blasThreads = cpus }
        // Replica 0 comes first: it writes every replica's environment and submits the stage.
        if replica == 0 {
            do {
                for r in 0..<stage.seeds {
                    try writeReplicaEnvironment(stage: stage, replica: r, work: work, inputs: inputs, codeKey: codeKey, settings: run)
                }
                let id = try submit(stage: stage, work: work, settings: run)
                lock.withLock {
                    submitted.append(id)
                    jobOfWork[work.path] = .success(id)
                }
            } catch {
                let failure = error as? WeaveError ?? WeaveError("\(error)")
                lock.withLock { jobOfWork[work.path] = .failure(failure) }
                throw failure
            }
        }
        guard let submission = lock.withLock({ jobOfWork[work.path] }) else {
            throw WeaveError("replica \(replica) of \(stage.name) started before its job was submitted")
        }
        let id = try submission.get()
        let task = stage.seeds > 1 ? "\(id)_\(replica)" : id
        return SlurmJob(stage: stage, replica: replica, work: work, jobID: task, executor: self)
    }

    /// Whether Slurm still lists `task` (pending or running), and when Slurm was asked; nil
    /// when it could not be asked. Answers come from one `squeue` call for all jobs every
    /// `pollInterval` seconds.
    func isActive(_ task: String) -> (active: Bool, asked: Date)? {
        let now = Date()
        let snapshot = lock.withLock {
            if now.timeIntervalSince(activeSnapshot.time) >= pollInterval {
                let asked = Date()
                activeSnapshot = (asked, Slurm.active(submitted))
            }
            return activeSnapshot
        }
        return snapshot.ids.map { ($0.contains(task), snapshot.time) }
    }

    /// Files of one replica: the same layout `StageProcess` uses, plus `env-R.sh` and `exit-R`.
    static func output(of stage: Stage, replica: Int, work: URL) -> URL {
        stage.seeds > 1 ? work.appendingPathComponent("replica-\(replica)") : work.appendingPathComponent("out")
    }

    private func writeReplicaEnvironment(stage: Stage, replica: Int, work: URL, inputs: [String: String], codeKey: String,
                                          settings run: RunSettings) throws {
        let output = Self.output(of: stage, replica: replica, work: work)
        try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
        let threadsFile = work.appendingPathComponent("threads-\(replica)")
        try AtomicFile.write(Data("\(run.blasThreads)\n".utf8), to: threadsFile)
        let env = try StageProcess.environment(stage: stage, replica: replica, output: output,
                                               progressFile: work.appendingPathComponent("progress-\(replica).json"),
                                               threadsFile: threadsFile, inputs: inputs, codeKey: codeKey,
                                               watchParent: false, settings: run)
        // sbatch passes the weaver's own environment to the job; the script adds what differs.
        let own = ProcessInfo.processInfo.environment
        let lines = env.keys.sorted().filter { own[$0] != env[$0] }.map { "export \($0)=\(Slurm.shellQuote(env[$0] ?? ""))" }
        try AtomicFile.write(Data((lines.joined(separator: "\n") + "\n").utf8), to: work.appendingPathComponent("env-\(replica).sh"))
    }

    private func submit(stage: Stage, work: URL, settings run: RunSettings) throws -> String {
        let w = Slurm.shellQuote(work.path)
        let script = """
        #!/bin/sh
        # A weave stage (\(stage.name)), submitted by weave build --executor slurm.
        r=${SLURM_ARRAY_TASK_ID:-0}
        . \(w)/env-$r.sh
        \(Slurm.shellQuote(run.executable.path)) > "$\(StageProtocol.outputVariable)/stdout.txt" 2> \(w)/stderr-$r.txt
        status=$?
        echo $status > \(w)/.exit-$r.tmp && mv \(w)/.exit-$r.tmp \(w)/exit-$r
        exit $status

        """
        let submission = Slurm.Submission(
            name: "weave-\(stage.name)", partition: settings.partition, arraySize: stage.seeds > 1 ? stage.seeds : nil,
            output: work.appendingPathComponent(stage.seeds > 1 ? "slurm-%a.out" : "slurm-0.out").path,
            cpus: run.blasThreads, memory: stage.resources.memory, time: stage.resources.time,
            extraArguments: settings.extraArguments, directory: run.root.path)
        do { return try Slurm.submit(script: script, submission) } catch { throw WeaveError("\(error)") }
    }
}

/// One replica of a stage running as a Slurm job (or array task), watched through its files.
final class SlurmJob: StageJob {
    let stage: Stage
    let replica: Int
    let started = Date()
    let jobID: String
    let output: URL
    let exitFile: URL
    let stderrFile: URL
    let logFile: URL
    let progressFile: URL
    private unowned let executor: SlurmExecutor
    /// `squeue` answers, after the submission, that no longer listed the job while it had no
    /// exit file yet (a shared file system can show the file late).
    private var goneCount = 0
    private var lastAsked = Date.distantPast

    init(stage: Stage, replica: Int, work: URL, jobID: String, executor: SlurmExecutor) {
        self.stage = stage
        self.replica = replica
        self.jobID = jobID
        self.executor = executor
        output = SlurmExecutor.output(of: stage, replica: replica, work: work)
        exitFile = work.appendingPathComponent("exit-\(replica)")
        stderrFile = work.appendingPathComponent("stderr-\(replica).txt")
        logFile = work.appendingPathComponent("slurm-\(replica).out")
        progressFile = work.appendingPathComponent("progress-\(replica).json")
    }

    var isRunning: Bool {
        if FileManager.default.fileExists(atPath: exitFile.path) { return false }
        guard let answer = executor.isActive(jobID), answer.asked > started, answer.asked != lastAsked else { return true }
        lastAsked = answer.asked
        if answer.active { goneCount = 0; return true }
        goneCount += 1
        return goneCount < 3
    }

    var progress: ProgressReport? {
        guard let data = try? Data(contentsOf: progressFile) else { return nil }
        return try? JSONDecoder().decode(ProgressReport.self, from: data)
    }

    func failure() -> String? {
        guard let text = try? String(contentsOf: exitFile, encoding: .utf8),
              let status = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            let log = StageProcess.tail(of: logFile, lines: 15)
            let err = StageProcess.tail(of: stderrFile, lines: 15)
            return "Slurm job \(jobID) ended without an exit status (cancelled, out of time or memory, or its node failed); log \(logFile.path)"
                + (log.isEmpty ? "" : "\n\(log)") + (err.isEmpty ? "" : "\n\(err)")
        }
        // The job's shell reports a stage killed by signal S as 128 + S.
        let failure = status > 128
            ? StageProcess.failure(stage: stage, output: output, stderrFile: stderrFile, status: nil, signal: status - 128)
            : StageProcess.failure(stage: stage, output: output, stderrFile: stderrFile, status: status, signal: nil)
        return failure.map { "\($0)\n(Slurm job \(jobID))" }
    }

    func setThreads(_ n: Int) {}
}
