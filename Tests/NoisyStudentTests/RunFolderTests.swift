import Engine
import Foundation
import Randomness
import Testing
@testable import NoisyStudent

/// One run folder holds one run: commands refuse, before any work, to mix another run's
/// files into it (found by a newcomer review: both used to finish with exit 0 and wrong numbers).
@Suite struct RunFolderTests {
    static func folder(_ name: String) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("runfolder-\(name)-\(getpid())")
        try? FileManager.default.removeItem(at: dir)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    @Test func aFreshRunRefusesAFolderThatHoldsARun() throws {
        let exe = try #require(CLI.binary, "noisy-student is not built next to the tests")
        let dir = try Self.folder("fresh")
        FileManager.default.createFile(atPath: dir.appendingPathComponent("teacher.ckpt").path, contents: Data([1]))
        let o = try CLI.outcome(exe, ["run", "--scale", "tiny", "--run", dir.path, "--threads", "1"], timeout: 120)
        #expect(!o.signalled && o.status != 0)
        #expect(o.err.contains("already holds a run") && o.err.contains("teacher.ckpt") && o.err.contains("--resume"), "\(o.err)")
    }

    @Test func phaseCommandsRefuseAnotherRecipeThanTheFolders() throws {
        let exe = try #require(CLI.binary, "noisy-student is not built next to the tests")
        let dir = try Self.folder("phase")
        var recipe = Recipe.preset(.tiny)
        recipe.seed = 0
        let e = JSONEncoder(); e.outputFormatting = [.prettyPrinted, .sortedKeys]
        try e.encode(recipe).write(to: dir.appendingPathComponent("recipe.json"))
        let o = try CLI.outcome(exe, ["predict", "--scale", "tiny", "--seed", "1", "--run", dir.path, "--threads", "1"], timeout: 120)
        #expect(!o.signalled && o.status != 0)
        #expect(o.err.contains("holds another recipe") && o.err.contains("seed"), "\(o.err)")
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("pseudo-1.labels").path))
    }

    /// The names and seed rules every reader and writer of a run shares: pinned to what runs
    /// made before `RunFolder` existed, so old run folders resume and reproduce.
    @Test func fileNamesAndSeedsAreTheRunsOfBefore() throws {
        let folder = RunFolder(path: "/runs/a")
        #expect(folder.model(0).path == "/runs/a/teacher.ckpt" && folder.model(2).path == "/runs/a/student2.ckpt")
        #expect(folder.trainingState(1).lastPathComponent == "student1.training.ckpt")
        #expect(folder.pseudoLabels(3).lastPathComponent == "pseudo-3.labels")
        #expect(folder.pseudoLabelShard(1, index: 2, count: 8).lastPathComponent == "pseudo-1.shard-2-of-8.labels")
        #expect(ShardMerge.parse(folder.pseudoLabelShard(1, index: 2, count: 8).lastPathComponent, iteration: 1) == .init(index: 2, count: 8))
        #expect(folder.filterRecord(2).lastPathComponent == "filter-2.json")
        #expect([folder.recipe, folder.dataset, folder.results].map(\.lastPathComponent) == ["recipe.json", "dataset.json", "results.json"])
        #expect(RunFolder.trainingSeed(runSeed: 5, model: 0) == 5 && RunFolder.trainingSeed(runSeed: 5, model: 2) == 2_000_011)
        #expect(RunFolder.trainingSeed(runSeed: .max, model: 1) == 1_000_002)  // wraps, as before
        #expect(RunFolder.filterSeed(runSeed: 7, iteration: 1) == 8 && RunFolder.filterSeed(runSeed: 7, iteration: 3) == 10)
        #expect(try Recipe.Scale(parsing: "tiny") == .tiny)
        #expect { try Recipe.Scale(parsing: "huge") } throws: { "\($0)".contains("unknown scale 'huge' (tiny, default, paper)") }
    }

    /// A model written through the run folder carries its card: `classify` and the fit checks read it back.
    @Test func modelsAreWrittenWithTheirCard() throws {
        let dir = try Self.folder("card")
        let spec = ModelSpec.resnet(depth: 8, width: 2, classes: 3, inputChannels: 1)
        var rng = SeededGenerator(seed: 1)
        let card = ModelCard(classNames: ["a", "b", "c"], normalization: .symmetric(channels: 1), inputSize: 12)
        let url = RunFolder(dir).model(0)
        try RunFolder.writeModel(spec.build(rng: &rng), spec: spec, card: card, extra: ["name": "teacher"], to: url)
        let loaded = try Pipeline.loadModel(url, expected: spec)
        #expect(try ModelCard(metadata: loaded.metadata, path: url.path) == card)
        #expect(loaded.metadata["name"] == "teacher")
    }
}
