import Foundation
import WeaveRuntime

/// How a stage ended up in this build.
public enum StageStatus: Sendable, Equatable {
    /// Its current key was in the cache.
    case cached
    /// It ran now and succeeded.
    case ran
    /// It ran and failed (message for the error card).
    case failed(String)
    /// It did not run because something it needs failed or could not be built.
    case notRun(String)
    /// Not part of this build (`--only`, `--cheap`) and not cached under its current key.
    case skipped

    /// True for `.cached` and `.ran`: the stage's outputs exist under its current key.
    public var succeeded: Bool { self == .cached || self == .ran }
}

/// One stage's outcome in a build, what the report and the exit code are made from.
public struct StageResult: Sendable {
    /// How it ended up.
    public var status: StageStatus
    /// Its cache key in this build.
    public var key: String
    /// Its verified cache entry when it succeeded; nil otherwise.
    public var entry: CacheEntry?
    /// Seconds it took (this run, or the cached run).
    public var duration: Double?
    /// A failed stage's standard output up to the failure (a successful one's is in its entry).
    public var output: String?

    /// A result; `entry`, `duration` and `output` default to none.
    public init(status: StageStatus, key: String, entry: CacheEntry? = nil, duration: Double? = nil, output: String? = nil) {
        self.status = status
        self.key = key
        self.entry = entry
        self.duration = duration
        self.output = output
    }
}

/// Runs the stages that are not cached, in dependency order, up to `jobs` at a time, each in
/// its own process; commits each success to the cache as soon as it finishes, so `kill -9`
/// of the weaver loses only the stages still running. A stage's key is completed from its
/// needs' published outputs when they are done (`Cache.resolve`): if that key is cached, the
/// stage does not run (early cutoff).
public struct Scheduler {
    /// The stages and their dependencies.
    public var graph: StageGraph
    /// Where successes are committed.
    public var cache: Cache
    /// Key parts from `KeyCalculator` (inputs unresolved).
    public var keys: [String: KeyParts]
    /// What every stage process gets (executable, scale, seed, BLAS threads, data paths).
    public var settings: RunSettings
    /// Stages run at once (at least 1), unless the executor sets its own limit.
    public var jobs: Int
    /// Where progress and ✓/✗ lines go.
    public var display: ProgressDisplay
    /// Where replicas run (local processes unless the build chose another executor).
    var executor: any StageExecutor = LocalExecutor()

    /// A scheduler; `jobs` below 1 becomes 1.
    public init(graph: StageGraph, cache: Cache, keys: [String: KeyParts], settings: RunSettings, jobs: Int,
                display: ProgressDisplay) {
        self.graph = graph
        self.cache = cache
        self.keys = keys
        self.settings = settings
        self.jobs = max(1, jobs)
        self.display = display
    }

    /// `toRun`: stages to execute (in graph order) unless their completed key is cached;
    /// `known`: results already decided (cached, skipped, compile failures); `lookups`: stages in
    /// `known` as skipped that are not to run but become cached when their needs, once run,
    /// complete a key the cache holds (`weave build --only`, `--cheap`). Returns results for all.
    public mutating func run(_ toRun: [String], known: [String: StageResult], lookups: [String] = []) -> [String: StageResult] {
        var results = known
        var pending = graph.order.filter { toRun.contains($0) || lookups.contains($0) }
        let lookupOnly = Set(lookups).subtracting(toRun)
        // Stage -> its key parts with inputs resolved, once its needs are done.
        var resolved: [String: KeyParts] = [:]
        var running: [any StageJob] = []
        let jobs = executor.concurrency ?? self.jobs
        defer { executor.end() }
        // Stage -> (work folder, replicas left, failure so far, when its first replica started:
        // a seeds=N stage's duration runs from there to its last replica's end).
        var inFlight: [String: (work: URL, left: Int, failure: String?, started: Date?)] = [:]
        var replicaQueue: [(stage: Stage, replica: Int, work: URL, inputs: [String: String])] = []
        var lastDraw = Date.distantPast
        let priority = graph.dispatchPriority()
        executor.plan(pending.compactMap { graph[$0] }, workRoot: cache.work, settings: settings)

        func finish(_ name: String, _ result: StageResult) {
            results[name] = result
            executor.settled(name)
            let seconds = result.duration.map { ProgressDisplay.duration($0) } ?? ""
            switch result.status {
            case .ran: display.message("✓ \(name)  \(seconds)")
            case .failed(let m): display.message("✗ \(name) failed: \(m.split(separator: "\n").first ?? "")")
            case .notRun(let why): display.message("– \(name) not run: \(why)")
            default: break
            }
        }

        while !pending.isEmpty || !running.isEmpty || !replicaQueue.isEmpty {
            // Decide what can start: all needs succeeded -> start; a need failed -> not run.
            var index = 0
            while index < pending.count {
                let name = pending[index]
                guard let stage = graph[name], let base = keys[name] else { pending.remove(at: index); continue }
                // A lookup still pending is undecided (listed as skipped until it is).
                let needResults = stage.needs.map { pending.contains($0) ? nil : results[$0] }
                if lookupOnly.contains(name), needResults.contains(where: { $0.map { !$0.status.succeeded } ?? false }) {
                    pending.remove(at: index)  // stays skipped
                    continue
                }
                if let bad = zip(stage.needs, needResults).first(where: { $0.1.map { !$0.status.succeeded && $0.status != .skipped } ?? false }) {
                    pending.remove(at: index)
                    finish(name, StageResult(status: .notRun("needs \(bad.0), which \(Self.phrase(bad.1?.status))"), key: ""))
                    continue
                }
                if let skipped = zip(stage.needs, needResults).first(where: { $0.1?.status == .skipped }) {
                    pending.remove(at: index)
                    finish(name, StageResult(status: .notRun("needs \(skipped.0), which was not built"), key: ""))
                    continue
                }
                guard needResults.allSatisfy({ $0?.status.succeeded ?? false }) else { index += 1; continue }
                pending.remove(at: index)
                let parts: KeyParts
                do {
                    var needKeys: [String: String] = [:]
                    for need in stage.needs { needKeys[need] = results[need]?.key }
                    parts = try cache.resolve(base, needKeys: needKeys)
                } catch {
                    finish(name, StageResult(status: .failed("could not read its inputs: \(error)"), key: ""))
                    continue
                }
                resolved[name] = parts
                if let entry = cache.entry(for: parts.digest) {
                    // Its needs re-ran and published what they published before.
                    results[name] = StageResult(status: .cached, key: parts.digest, entry: entry, duration: entry.manifest.duration)
                    display.message("= \(name) cached (inputs unchanged)")
                    continue
                }
                if lookupOnly.contains(name) { continue }
                do {
                    let inputs = try inputMap(for: stage, results: results)
                    let work = try cache.makeWorkFolder(for: name)
                    inFlight[name] = (work, stage.seeds, nil, nil)
                    for r in 0..<stage.seeds { replicaQueue.append((stage, r, work, inputs)) }
                } catch {
                    finish(name, StageResult(status: .failed("could not prepare inputs: \(error)"), key: parts.digest))
                }
            }
            while running.count < jobs, !replicaQueue.isEmpty {
                // Highest priority first; replicas of one stage keep their order (stable).
                var best = 0
                for (i, r) in replicaQueue.enumerated() where (priority[r.stage.name] ?? 0) > (priority[replicaQueue[best].stage.name] ?? 0) {
                    best = i
                }
                let next = replicaQueue.remove(at: best)
                do {
                    let p = try executor.start(stage: next.stage, replica: next.replica, work: next.work, inputs: next.inputs,
                                               codeKey: keys[next.stage.name]?.code ?? "", settings: settings)
                    if inFlight[next.stage.name]?.started == nil { inFlight[next.stage.name]?.started = p.started }
                    if next.replica == 0 { display.message("▸ \(next.stage.name)" + (next.stage.seeds > 1 ? " (\(next.stage.seeds) seeds)" : "")) }
                    running.append(p)
                } catch {
                    inFlight[next.stage.name]?.left -= 1
                    inFlight[next.stage.name]?.failure = "could not start: \(error)"
                }
            }
            Self.lendIdleThreads(to: running, jobs: jobs, threadsPerJob: settings.blasThreads,
                                 waiting: !replicaQueue.isEmpty)
            // Completed stages (every replica done).
            for (name, state) in inFlight where state.left == 0 {
                inFlight[name] = nil
                finish(name, complete(name, parts: resolved[name], work: state.work, failure: state.failure, started: state.started))
            }
            if running.isEmpty { continue }
            Thread.sleep(forTimeInterval: 0.1)
            var still: [any StageJob] = []
            for p in running {
                _ = p.stopIfOverdue(now: Date())
                if p.isRunning { still.append(p); continue }
                let name = p.stage.name
                guard var state = inFlight[name] else { continue }
                state.left -= 1
                if state.failure == nil, let failure = p.failure() {
                    state.failure = p.stage.seeds > 1 ? "seed \(settings.seed &+ UInt64(p.replica)): \(failure)" : failure
                }
                inFlight[name] = state
                if state.left == 0 {
                    inFlight[name] = nil
                    finish(name, complete(name, parts: resolved[name], work: state.work, failure: state.failure,
                                          started: state.started ?? p.started))
                }
            }
            running = still
            // A few redraws a second are live enough and do not flicker.
            let now = Date()
            guard now.timeIntervalSince(lastDraw) >= 0.25 else { continue }
            lastDraw = now
            display.update(running.map {
                RunningStage(name: $0.stage.seeds > 1 ? "\($0.stage.name)#\($0.replica)" : $0.stage.name,
                             elapsed: now.timeIntervalSince($0.started), progress: $0.progress,
                             lastDuration: cache.lastRecord(stage: $0.stage.name, scale: settings.scale)?.duration)
            }, now: now.timeIntervalSince1970)
        }
        display.finish()
        return results
    }

    /// While fewer stages run than `jobs` and none waits to start (the end of a build, or a
    /// stage everything else needs), the running stages share the whole budget of
    /// `jobs x threadsPerJob` threads instead of leaving cores idle; when stages wait again,
    /// each goes back to `threadsPerJob`. Safe because results do not depend on thread counts.
    static func lendIdleThreads(to running: [any StageJob], jobs: Int, threadsPerJob: Int, waiting: Bool) {
        for (i, p) in running.enumerated() {
            p.setThreads(threadBudget(index: i, running: running.count, jobs: jobs, threadsPerJob: threadsPerJob,
                                      waiting: waiting))
        }
    }

    /// The budget of the `index`-th of `running` stages (see `lendIdleThreads`).
    public static func threadBudget(index: Int, running: Int, jobs: Int, threadsPerJob: Int, waiting: Bool) -> Int {
        guard !waiting, running > 0, running < jobs else { return threadsPerJob }
        let total = jobs * threadsPerJob
        return total / running + (index < total % running ? 1 : 0)
    }

    /// Commits a finished stage to the cache under `parts` (its resolved key), or records its failure.
    func complete(_ name: String, parts: KeyParts?, work: URL, failure: String?, started: Date?) -> StageResult {
        guard let stage = graph[name], let parts else { return StageResult(status: .failed("unknown stage"), key: "") }
        // From the first replica's start to now (the last replica's end).
        let duration = started.map { Date().timeIntervalSince($0) }
        if let failure {
            // What it printed before failing belongs on its error card.
            let printed = Self.printedOutput(work: work, replicas: stage.seeds, baseSeed: settings.seed)
            try? FileManager.default.removeItem(at: work)
            return StageResult(status: .failed(failure), key: parts.digest, duration: duration, output: printed)
        }
        do {
            if stage.seeds > 1 { try ReplicaMerger.merge(work: work, replicas: stage.seeds, baseSeed: settings.seed) }
            for leftover in (try? FileManager.default.contentsOfDirectory(atPath: work.path)) ?? [] where leftover != "out" {
                try? FileManager.default.removeItem(at: work.appendingPathComponent(leftover))
            }
            let entry = try cache.commit(work: work, stage: name, parts: parts, duration: duration ?? 0,
                                         threads: settings.blasThreads, jobs: jobs)
            return StageResult(status: .ran, key: parts.digest, entry: entry, duration: duration)
        } catch {
            try? FileManager.default.removeItem(at: work)
            return StageResult(status: .failed("could not store results: \(error)"), key: parts.digest, duration: duration)
        }
    }

    /// The standard output of a stage's work folder (every replica's, labelled by seed), with
    /// invalid UTF-8 shown as replacement characters rather than dropping everything.
    static func printedOutput(work: URL, replicas: Int, baseSeed: UInt64) -> String {
        let folders = replicas > 1 ? (0..<replicas).map { work.appendingPathComponent("replica-\($0)") } : [work.appendingPathComponent("out")]
        var text = ""
        for (i, folder) in folders.enumerated() {
            guard let data = try? Data(contentsOf: folder.appendingPathComponent("stdout.txt")), !data.isEmpty else { continue }
            let part = String(decoding: data, as: UTF8.self)
            text += (replicas > 1 ? "— seed \(baseSeed &+ UInt64(i)) —\n" : "") + part + (part.hasSuffix("\n") ? "" : "\n")
        }
        return text
    }

    /// Artifact name -> path, for every artifact of every declared need (and nothing else).
    func inputMap(for stage: Stage, results: [String: StageResult]) throws -> [String: String] {
        var map: [String: String] = [:]
        for need in stage.needs {
            guard let key = results[need]?.key, let entry = cache.entry(for: key, verifyBlobs: true) else {
                throw WeaveError("the cache entry of \(need) is missing or damaged")
            }
            for (name, url) in Self.artifacts(of: entry) {
                if map[name] != nil { throw WeaveError("two needs publish an artifact named \(name)") }
                map[name] = url.path
            }
        }
        return map
    }

    /// An entry's artifacts: `artifacts/NAME.json` and `files/NAME`.
    public static func artifacts(of entry: CacheEntry) -> [String: URL] {
        var found: [String: URL] = [:]
        let fm = FileManager.default
        let a = entry.output.appendingPathComponent(StageProtocol.artifactsFolder)
        for name in (try? fm.contentsOfDirectory(atPath: a.path)) ?? [] where name.hasSuffix(".json") && !name.hasPrefix(".") {
            found[String(name.dropLast(5))] = a.appendingPathComponent(name)
        }
        let f = entry.output.appendingPathComponent(StageProtocol.filesFolder)
        for name in (try? fm.contentsOfDirectory(atPath: f.path)) ?? [] where !name.hasPrefix(".") {
            found[name] = f.appendingPathComponent(name)
        }
        return found
    }

    static func phrase(_ status: StageStatus?) -> String {
        switch status {
        case .failed: return "failed"
        case .notRun: return "did not run"
        case .skipped: return "was not built"
        default: return "is unavailable"
        }
    }
}
