import Foundation
import Testing
import WeaveRuntime
import Weave

/// What a build decides to run, from the cache alone.
@Suite struct PlanTests {
    func setUp() throws -> (cache: Cache, graph: StageGraph, keys: [String: KeyParts], folder: URL) {
        let folder = try temporaryFolder()
        var heavy = stage("heavy", needs: ["data"])
        heavy.expensive = true
        let graph = try StageGraph(stages: [stage("data"), stage("train", needs: ["data"]), heavy,
                                            stage("plot", kind: .figure, needs: ["train"])])
        let keys = KeyCalculator(scale: "tiny", seed: 0, computeLibrary: "l", presentationLibrary: "p").keys(for: graph, definitions: "")
        return (Cache(folder: folder), graph, keys, folder)
    }

    func store(_ cache: Cache, _ name: String, _ parts: KeyParts?, blob: Data? = nil) throws {
        let parts = try #require(parts)
        let work = try cache.makeWorkFolder(for: name)
        let files = work.appendingPathComponent("out/files")
        try FileManager.default.createDirectory(at: files, withIntermediateDirectories: true)
        try (blob ?? Data("x".utf8)).write(to: files.appendingPathComponent(name))
        try cache.commit(work: work, stage: name, parts: parts, duration: 1)
    }

    @Test func cachedStagesAreReusedAndTheRestRuns() throws {
        let (cache, graph, keys, folder) = try setUp()
        defer { try? FileManager.default.removeItem(at: folder) }
        try store(cache, "data", keys["data"])
        let plan = Weaver.plan(graph: graph, keys: keys, cache: cache, selected: Set(graph.order), cheap: true)
        #expect(plan.known["data"]?.status == .cached)
        #expect(plan.known["heavy"]?.status == .skipped)  // expensive, --cheap
        #expect(plan.toRun == ["train", "plot"])
        let only = Weaver.plan(graph: graph, keys: keys, cache: cache, selected: graph.closure(of: ["train"]), cheap: false)
        #expect(only.toRun == ["train"])
        #expect(only.known["plot"]?.status == .skipped && only.known["heavy"]?.status == .skipped)
        // plot waits on train's output: cached if train publishes what it published before.
        #expect(only.lookups == ["plot"])
    }

    @Test func aNeedWithDamagedFilesIsRecomputedFirst() throws {
        let (cache, graph, keys, folder) = try setUp()
        defer { try? FileManager.default.removeItem(at: folder) }
        try store(cache, "data", keys["data"], blob: Data(repeating: 1, count: 64))
        let blob = cache.entryFolder(keys["data"]?.digest ?? "").appendingPathComponent("out/files/data")
        try Data(repeating: 2, count: 64).write(to: blob)  // same size: only a full check sees it
        let plan = Weaver.plan(graph: graph, keys: keys, cache: cache, selected: Set(graph.order), cheap: false)
        #expect(plan.toRun == ["data", "train", "heavy", "plot"])
    }
}
