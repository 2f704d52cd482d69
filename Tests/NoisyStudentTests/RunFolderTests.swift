import Foundation
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
}
