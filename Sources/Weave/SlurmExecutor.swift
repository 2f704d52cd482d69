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

    /// Settings; the defaults submit to the cluster's default partition with no extra arguments.
    public init(partition: String? = nil, extraArguments: [String] = []) {
        self.partition = partition
        self.extraArguments = extraArguments
    }
}

/// Runs every stage replica as a Slurm job: a stage is one `sbatch` job, a `seeds=N` stage one
/// job array of N tasks. Every stage the build may run is submitted up front (`plan`), in graph
/// order, with `--dependency=afterok:` on the jobs of the needs this build also runs, so the
/// whole build waits in Slurm's queue from the start; `--kill-on-invalid-dep=yes` ends a job
/// whose need failed. A job that Slurm starts waits in its own folder until the weaver hands it
/// its inputs (`go-R`: work folder and environment, written once every need is committed to the
/// cache, as the local executor would start it), or is told to skip (`skip`: the scheduler
/// settled the stage another way, e.g. a need failed or it came out cached) and is cancelled.
/// The weaver commits each result when its job has ended, as with local processes; the cache,
/// the work folders and the project must therefore be on a file system the nodes share. Each
/// job writes its stdout, stderr, progress and exit status into its work folder, which is all
/// the weaver reads. Ctrl-C/SIGTERM of the weaver cancel the submitted jobs (`InterruptHooks`).
// @unchecked: the state the interrupt hook and the jobs read is behind `lock`.
final class SlurmExecutor: StageExecutor, @unchecked Sendable {
    let settings: SlurmSettings
    /// Slurm queues what the cluster cannot run yet: submit everything that is ready.
    var concurrency: Int? { 10_000 }

    /// A stage's job: its id, the folder its script waits in (and writes its Slurm log to),
    /// whether the weaver handed it its inputs, and whether it failed (its folder is kept).
    struct QueuedJob {
        var id: String
        var slot: URL
        var started = false
        var failed = false
    }

    private let lock = NSLock()
    /// Every job id this build submitted (for `scancel`).
    private var submitted: [String] = []
    /// Stage name -> its job, submitted up front or when the stage became ready.
    private var queued: [String: QueuedJob] = [:]
    /// Work folder -> the stage's job, or why it could not be submitted (the stage's other
    /// replicas report the same reason).
    private var jobOfWork: [String: Result<QueuedJob, WeaveError>] = [:]
    /// Folders of jobs told to skip (removed at the end of the build, once they are cancelled).
    private var skipped: [URL] = []
    /// Slurm's view of the submitted jobs, asked at most every `pollInterval` seconds.
    private var activeSnapshot: (time: Date, ids: Set<String>?) = (.distantPast, nil)
    private let pollInterval = 2.0
    private var interruptHook: InterruptHooks.Token?

    init(_ settings: SlurmSettings) {
        self.settings = settings
        // The weaver's Ctrl-C / SIGTERM handler runs this before it exits.
        interruptHook = InterruptHooks.add { [weak self] in self?.cancelSubmitted() }
    }

    /// Submits every stage up front, each depending on its needs' jobs. A stage whose need
    /// could not be submitted is left to `start` (which submits it then, or reports why not);
    /// the first refusal stops the planning, and `start` reports it on that stage's card.
    func plan(_ stages: [Stage], workRoot: URL, settings run: RunSettings) {
        let planned = Set(stages.map(\.name))
        for stage in stages {
            let known = lock.withLock { queued }
            if stage.needs.contains(where: { planned.contains($0) && known[$0] == nil }) { continue }
            let afterOK = stage.needs.compactMap { known[$0]?.id }
            guard let job = try? queue(stage, afterOK: afterOK, workRoot: workRoot, settings: run) else { return }
            lock.withLock { queued[stage.name] = job }
        }
    }

    /// A stage that will not start here (a need failed, or it is cached after all): its job,
    /// if it never got its inputs, is told to skip and cancelled, so nothing stays pending.
    func settled(_ stage: String) {
        let unwanted: QueuedJob? = lock.withLock {
            guard let job = queued[stage], !job.started else { return nil }
            queued[stage] = nil
            return job
        }
        guard let unwanted else { return }
        try? AtomicFile.write(Data(), to: unwanted.slot.appendingPathComponent("skip"))
        Slurm.cancel([unwanted.id])
        lock.withLock { skipped.append(unwanted.slot) }
    }

    func end() {
        if let interruptHook { InterruptHooks.remove(interruptHook) }
        interruptHook = nil
        for name in lock.withLock({ Array(queued.keys) }) { settled(name) }
        // Folders of jobs that succeeded or were skipped; a failed job's log stays for its card
        // (a later build's cache clean removes it, as it does abandoned work folders).
        let done = lock.withLock { queued.values.filter { $0.started && !$0.failed }.map(\.slot) + skipped }
        for slot in done { try? FileManager.default.removeItem(at: slot) }
        lock.withLock { queued = [:]; skipped = [] }
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
        // Replica 0 comes first: it hands every replica its inputs (submitting the stage now if
        // `plan` did not).
        if replica == 0 {
            do {
                var job: QueuedJob
                if let ahead = lock.withLock({ queued[stage.name] }) {
                    job = ahead
                } else {
                    job = try queue(stage, afterOK: [], workRoot: work.deletingLastPathComponent(), settings: run)
                }
                for r in 0..<stage.seeds {
                    try handOver(stage: stage, replica: r, work: work, slot: job.slot, inputs: inputs, codeKey: codeKey, settings: run)
                }
                job.started = true
                lock.withLock {
                    queued[stage.name] = job
                    jobOfWork[work.path] = .success(job)
                }
            } catch {
                let failure = error as? WeaveError ?? WeaveError("\(error)")
                lock.withLock { jobOfWork[work.path] = .failure(failure) }
                settled(stage.name)
                throw failure
            }
        }
        guard let submission = lock.withLock({ jobOfWork[work.path] }) else {
            throw WeaveError("replica \(replica) of \(stage.name) started before its job was submitted")
        }
        let job = try submission.get()
        let task = stage.seeds > 1 ? "\(job.id)_\(replica)" : job.id
        return SlurmJob(stage: stage, replica: replica, work: work, slot: job.slot, jobID: task, executor: self)
    }

    /// A job ended with a failure: keep its folder (its Slurm log) for the card.
    func keepFolder(of stage: String) {
        lock.withLock { queued[stage]?.failed = true }
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

    /// Files of one replica: the same layout `StageProcess` uses, plus `exit-R`.
    static func output(of stage: Stage, replica: Int, work: URL) -> URL {
        stage.seeds > 1 ? work.appendingPathComponent("replica-\(replica)") : work.appendingPathComponent("out")
    }

    /// Writes `go-R` into the job's folder (atomically: the waiting job reads it whole): the
    /// replica's work folder and the environment `StageProcess` would give it.
    private func handOver(stage: Stage, replica: Int, work: URL, slot: URL, inputs: [String: String], codeKey: String,
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
        let lines = ["w=\(Slurm.shellQuote(work.path))"]
            + env.keys.sorted().filter { own[$0] != env[$0] }.map { "export \($0)=\(Slurm.shellQuote(env[$0] ?? ""))" }
        try AtomicFile.write(Data((lines.joined(separator: "\n") + "\n").utf8), to: slot.appendingPathComponent("go-\(replica)"))
    }

    /// Seconds a started job waits for its inputs before giving up (the weaver hands them over
    /// within seconds of the needs' jobs ending; this only ends jobs of a weaver that died).
    static let handOverTimeout = 1800

    /// Submits `stage` as a job (an array for seeds=N) that waits for its inputs in a new folder
    /// under `workRoot`, named like a work folder (STAGE-slurm-PID-RANDOM) so that a later
    /// build's cache clean removes it once this weaver is gone.
    private func queue(_ stage: Stage, afterOK: [String], workRoot: URL, settings run: RunSettings) throws -> QueuedJob {
        let slot = workRoot.appendingPathComponent("\(stage.name)-slurm-\(getpid())-\(UUID().uuidString.prefix(8))")
        do { try FileManager.default.createDirectory(at: slot, withIntermediateDirectories: true) } catch {
            throw WeaveError("could not create the Slurm job folder \(slot.path): \(error)")
        }
        let s = Slurm.shellQuote(slot.path)
        let script = """
        #!/bin/sh
        # A weave stage (\(stage.name)), submitted by weave build --executor slurm.
        r=${SLURM_ARRAY_TASK_ID:-0}
        # Wait until the weaver has committed every need and hands over the inputs, or says skip.
        waited=0
        until [ -f \(s)/go-$r ]; do
            [ -f \(s)/skip ] && exit 0
            if [ $waited -ge \(Self.handOverTimeout) ]; then
                echo "weave: no inputs from the weaver after \(Self.handOverTimeout) s (did the build stop?)" >&2; exit 1
            fi
            sleep 1; waited=$((waited + 1))
        done
        . \(s)/go-$r
        \(Slurm.shellQuote(run.executable.path)) > "$\(StageProtocol.outputVariable)/stdout.txt" 2> "$w/stderr-$r.txt"
        status=$?
        echo $status > "$w/.exit-$r.tmp" && mv "$w/.exit-$r.tmp" "$w/exit-$r"
        exit $status

        """
        let submission = Slurm.Submission(
            name: "weave-\(stage.name)", partition: settings.partition, arraySize: stage.seeds > 1 ? stage.seeds : nil,
            afterOK: afterOK, output: slot.appendingPathComponent(stage.seeds > 1 ? "slurm-%a.out" : "slurm-0.out").path,
            cpus: stage.resources.cpus ?? run.blasThreads, memory: stage.resources.memory, time: stage.resources.time,
            extraArguments: settings.extraArguments, directory: run.root.path)
        let id: String
        do { id = try Slurm.submit(script: script, submission) } catch { throw WeaveError("\(error)") }
        lock.withLock { submitted.append(id) }
        return QueuedJob(id: id, slot: slot)
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

    init(stage: Stage, replica: Int, work: URL, slot: URL, jobID: String, executor: SlurmExecutor) {
        self.stage = stage
        self.replica = replica
        self.jobID = jobID
        self.executor = executor
        output = SlurmExecutor.output(of: stage, replica: replica, work: work)
        exitFile = work.appendingPathComponent("exit-\(replica)")
        stderrFile = work.appendingPathComponent("stderr-\(replica).txt")
        logFile = slot.appendingPathComponent("slurm-\(replica).out")
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
        let failure = describeFailure()
        if failure != nil { executor.keepFolder(of: stage.name) }
        return failure
    }

    private func describeFailure() -> String? {
        guard let text = try? String(contentsOf: exitFile, encoding: .utf8),
              let status = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            let log = StageProcess.tail(of: logFile, lines: 15)
            let err = StageProcess.tail(of: stderrFile, lines: 15)
            return "Slurm job \(jobID) ended without an exit status (cancelled, out of time or memory, its node failed, or it waited too long for its inputs); log \(logFile.path)"
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
