import Foundation
import Testing
import WeaveRuntime
import Weave

/// The scheduler with a shell script standing in for the compiled stage binary: real processes,
/// real cache, no Swift compile.
@Suite struct SchedulerTests {
    static let script = """
    #!/bin/sh
    out="$WEAVE_OUTPUT"
    mkdir -p "$out/artifacts"
    case "$WEAVE_STAGE" in
      source) echo "{\\"n\\": 41}" > "$out/artifacts/source.json"; echo "made source" ;;
      plus) echo "$WEAVE_INPUTS" > "$out/artifacts/plus-inputs.json.txt"; cat "$out/../../../inputs-probe" 2>/dev/null
            printf '%s' "$WEAVE_INPUTS" > "$out/artifacts/plus.json" ;;
      fails) printf '{"message":"boom at epoch 3"}' > "$out/failure.json"; exit 3 ;;
      after) echo 1 > "$out/artifacts/after.json" ;;
      crashes) kill -SEGV $$ ;;
      slow1|slow2) date +%s.%N > "$out/artifacts/$WEAVE_STAGE.json.start"; sleep 1; echo "[$OPENBLAS_NUM_THREADS]" > "$out/artifacts/$WEAVE_STAGE.json" ;;
      seeded) echo "$WEAVE_SEED" > "$out/artifacts/seeded.json" ;;
      upstream) cat "$(dirname "$0")/upstream-value" > "$out/artifacts/upstream.json" ;;
      downstream) echo ran >> "$(dirname "$0")/downstream-runs"; echo 1 > "$out/artifacts/downstream.json" ;;
      tail) echo 2 > "$out/artifacts/tail.json" ;;
      lone) n=0; while [ "$(cat "$WEAVE_THREADS_FILE")" != 2 ] && [ $n -lt 100 ]; do sleep 0.05; n=$((n+1)); done
            cat "$WEAVE_THREADS_FILE" > "$out/artifacts/lone.json" ;;
    esac
    """

    func setUp() throws -> (folder: URL, settings: RunSettings) {
        let folder = try temporaryFolder()
        let exe = folder.appendingPathComponent("stages.sh")
        try Self.script.write(to: exe, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: exe.path)
        return (folder, RunSettings(executable: exe, scale: "tiny", seed: 10, blasThreads: 1, root: folder))
    }

    func graph() throws -> StageGraph {
        var seeded = stage("seeded")
        seeded.seeds = 3
        return try StageGraph(stages: [
            stage("source"), stage("plus", needs: ["source"]), stage("fails"), stage("after", needs: ["fails"]),
            stage("after-after", needs: ["after"]), stage("crashes"), stage("slow1"), stage("slow2"), seeded,
        ])
    }

    func keys(_ graph: StageGraph) -> [String: KeyParts] {
        KeyCalculator(scale: "tiny", seed: 10, computeLibrary: "l", presentationLibrary: "p").keys(for: graph, definitions: "")
    }

    @Test func aStageRunningAloneGetsTheIdleCores() throws {
        let (folder, settings) = try setUp()
        defer { try? FileManager.default.removeItem(at: folder) }
        let graph = try StageGraph(stages: [stage("lone")])
        let cache = Cache(folder: folder.appendingPathComponent("cache"))
        var scheduler = Scheduler(graph: graph, cache: cache, keys: keys(graph), settings: settings, jobs: 2,
                                  display: ProgressDisplay(mode: .quiet))
        let results = scheduler.run(graph.order, known: [:])
        let entry = try #require(results["lone"]?.entry)
        let budget = try Data(contentsOf: entry.output.appendingPathComponent("artifacts/lone.json"))
        #expect(String(decoding: budget, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) == "2")
    }

    /// Early cutoff: a need whose code changed re-runs, and when it publishes the same bytes
    /// what follows it is served from the cache; when its output changes, that re-runs too.
    /// Also for a stage outside `--only` (a lookup): cached when the key it completes exists.
    @Test func unchangedOutputsStopReRunsDownstream() throws {
        let (folder, settings) = try setUp()
        defer { try? FileManager.default.removeItem(at: folder) }
        let graph = try StageGraph(stages: [stage("upstream"), stage("downstream", needs: ["upstream"]), stage("tail", needs: ["downstream"])])
        let cache = Cache(folder: folder.appendingPathComponent("cache"))
        let runs = folder.appendingPathComponent("downstream-runs")
        func build(upstreamCode: String, value: String, only: Set<String>? = nil) throws -> [String: StageResult] {
            try Data(value.utf8).write(to: folder.appendingPathComponent("upstream-value"))
            var keys = keys(graph)
            keys["upstream"]?.code = upstreamCode
            let plan = Weaver.plan(graph: graph, keys: keys, cache: cache, selected: only ?? Set(graph.order), cheap: false)
            var scheduler = Scheduler(graph: graph, cache: cache, keys: keys, settings: settings, jobs: 2, display: ProgressDisplay(mode: .quiet))
            return scheduler.run(plan.toRun, known: plan.known, lookups: plan.lookups)
        }
        func downstreamRuns() -> Int { ((try? String(contentsOf: runs, encoding: .utf8)) ?? "").split(separator: "\n").count }

        let first = try build(upstreamCode: "v1", value: "1")
        #expect(first["upstream"]?.status == .ran && first["downstream"]?.status == .ran && first["tail"]?.status == .ran)
        let same = try build(upstreamCode: "v2", value: "1")
        #expect(same["upstream"]?.status == .ran)
        #expect(same["downstream"]?.status == .cached && same["tail"]?.status == .cached)
        #expect(same["downstream"]?.key == first["downstream"]?.key)
        #expect(downstreamRuns() == 1)

        let other = try build(upstreamCode: "v3", value: "2")
        #expect(other["upstream"]?.status == .ran && other["downstream"]?.status == .ran)
        #expect(other["downstream"]?.key != first["downstream"]?.key)
        #expect(downstreamRuns() == 2)

        // --only upstream: downstream and tail do not run, but are cached when upstream's output is
        // (tail waits for downstream's lookup, which is listed as skipped until it is decided).
        let onlySame = try build(upstreamCode: "v4", value: "2", only: ["upstream"])
        #expect(onlySame["upstream"]?.status == .ran && onlySame["downstream"]?.status == .cached && onlySame["tail"]?.status == .cached)
        let onlyOther = try build(upstreamCode: "v5", value: "3", only: ["upstream"])
        #expect(onlyOther["upstream"]?.status == .ran && onlyOther["downstream"]?.status == .skipped && onlyOther["tail"]?.status == .skipped)
        #expect(downstreamRuns() == 2)
    }

    @Test func idleThreadsAreLentOnlyWhenNothingWaits() {
        func budgets(running: Int, jobs: Int, per: Int, waiting: Bool) -> [Int] {
            (0..<running).map { Scheduler.threadBudget(index: $0, running: running, jobs: jobs, threadsPerJob: per, waiting: waiting) }
        }
        #expect(budgets(running: 2, jobs: 2, per: 1, waiting: false) == [1, 1])
        #expect(budgets(running: 1, jobs: 2, per: 1, waiting: false) == [2])
        #expect(budgets(running: 1, jobs: 2, per: 1, waiting: true) == [1])
        #expect(budgets(running: 2, jobs: 3, per: 1, waiting: false) == [2, 1])
        #expect(budgets(running: 1, jobs: 2, per: 2, waiting: false) == [4])
        #expect(budgets(running: 1, jobs: 1, per: 2, waiting: false) == [2])
    }

    @Test func failuresStayContainedAndEverythingElseRuns() throws {
        let (folder, settings) = try setUp()
        defer { try? FileManager.default.removeItem(at: folder) }
        let graph = try graph()
        let keys = keys(graph)
        let cache = Cache(folder: folder.appendingPathComponent("cache"))
        var scheduler = Scheduler(graph: graph, cache: cache, keys: keys, settings: settings, jobs: 2, display: ProgressDisplay(mode: .quiet))
        let results = scheduler.run(graph.order, known: [:])

        #expect(results["source"]?.status == .ran)
        #expect(results["plus"]?.status == .ran)
        #expect(results["fails"]?.status == .failed("boom at epoch 3"))
        #expect(results["after"]?.status == .notRun("needs fails, which failed"))
        #expect(results["after-after"]?.status == .notRun("needs after, which did not run"))
        guard case .failed(let crash) = results["crashes"]?.status else { Issue.record("crash not reported"); return }
        #expect(crash.contains("signal 11"))
        #expect(results["slow1"]?.status == .ran && results["slow2"]?.status == .ran)

        // The dependent saw exactly its declared need's artifacts.
        let plus = try #require(results["plus"]?.entry)
        let inputs = try JSONDecoder().decode([String: String].self, from: Data(contentsOf: plus.output.appendingPathComponent("artifacts/plus.json")))
        #expect(inputs.keys.sorted() == ["source"])
        let stdout = try String(contentsOf: try #require(results["source"]?.entry).output.appendingPathComponent("stdout.txt"), encoding: .utf8)
        #expect(stdout == "made source\n")

        // Two jobs: the slow stages overlapped.
        func start(_ name: String) throws -> Double {
            let url = try #require(results[name]?.entry).output.appendingPathComponent("artifacts/\(name).json.start")
            return Double(try String(contentsOf: url, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        }
        #expect(abs(try start("slow1") - start("slow2")) < 0.9)

        // Seeds: one process per seed, merged into an array in seed order.
        let seeded = try #require(results["seeded"]?.entry)
        let values = try JSONDecoder().decode([Int].self, from: Data(contentsOf: seeded.output.appendingPathComponent("artifacts/seeded.json")))
        #expect(values == [10, 11, 12])

        // Failures are not cached; successes are, and nothing is left in work/.
        #expect(cache.entry(for: keys["fails"]?.digest ?? "") == nil)
        #expect(cache.entry(for: keys["source"]?.digest ?? "") != nil)
        let leftovers = (try? FileManager.default.contentsOfDirectory(atPath: folder.appendingPathComponent("cache/work").path)) ?? []
        #expect(leftovers.isEmpty)
    }
}
