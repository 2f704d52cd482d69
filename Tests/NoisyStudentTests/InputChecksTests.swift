import Engine
import Foundation
import Testing
@testable import NoisyStudent

/// Bad input found by a newcomer's review after issue 17: each was accepted silently or gave a
/// message that named the wrong thing. Each now stops before work with the file, key or option.
@Suite struct InputChecksTests {
    private func cli(_ args: [String], environment: [String: String] = [:]) throws -> CLI.Outcome {
        let exe = try #require(CLI.binary, "noisy-student binary not built")
        return try CLI.outcome(exe, args, timeout: 300, environment: environment)
    }

    @Test func negativeThreadsNameTheOption() throws {
        // ArgumentParser took "-1" for an option and said "Missing value".
        let r = try cli(["run", "--scale", "tiny", "--threads", "-1", "--run", CLI.tempDir("thr").path])
        #expect(r.status == 64 && !r.signalled)
        #expect(r.err.contains("--threads must be 1 or more, got -1"), "\(r.err)")
    }

    @Test func negativeSeedNamesTheOption() throws {
        // The same for a seed (a UInt64): "Missing value for '--seed <seed>'".
        for command in [["run", "--scale", "tiny", "--run", CLI.tempDir("seed").path], ["supervised"], ["data-preview"]] {
            let r = try cli(command + ["--seed", "-1"])
            #expect(r.status == 64 && !r.signalled, "\(command)")
            #expect(r.err.contains("The value '-1' is invalid for '--seed <seed>'"), "\(command): \(r.err)")
        }
    }

    @Test func threadsAboveOpenBLASsLimitAreRefused() throws {
        // OpenBLAS capped 100000 at its MAX_THREADS silently while the run recorded 100000.
        let r = try cli(["supervised", "--threads", "100000"])
        #expect(r.status == 64)
        #expect(r.err.contains("must be at most \(BLASRuntime.maximumThreads)"), "\(r.err)")
    }

    @Test func unknownOpenBLASCoreTypeIsRefused() throws {
        let r = try cli(["inspect", "--help"], environment: ["OPENBLAS_CORETYPE": "bogus"])
        #expect(r.status == 2 && !r.signalled)
        #expect(r.err.contains("OPENBLAS_CORETYPE=bogus") && r.err.contains("instead"), "\(r.err)")
        let fine = try cli(["inspect", "--help"], environment: ["OPENBLAS_CORETYPE": "haswell"])
        #expect(fine.status == 0, "\(fine.err)")
    }

    @Test func warmupLongerThanTheScheduleIsRefused() throws {
        var t = TrainingSettings(epochs: 2, batchSize: 8, peakLearningRate: 0.1, warmupEpochs: 3)
        #expect { try t.validate("teacherTraining") } throws: { "\($0)".contains("teacherTraining.warmupEpochs") }
        t.warmupEpochs = 2
        try t.validate("teacherTraining")
    }

    @Test func aDamagedLabelFileIsCalledALabelFile() throws {
        let dir = CLI.tempDir("labels")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let url = dir.appendingPathComponent("pseudo-1.labels")
        try Data("garbage".utf8).write(to: url)
        #expect { try PseudoLabelFile.read(url) } throws: { e in
            let s = "\(e)"
            return s.contains("pseudo-label file") && s.contains("bad magic bytes") && !s.contains("checkpoint")
        }
    }

    @Test func aFilterFileWithAnUnknownKeyIsRefused() throws {
        let dir = CLI.tempDir("filter")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let labels = PseudoLabels(classes: 2, indices: [0, 1, 2], probabilities: [0.9, 0.1, 0.2, 0.8, 0.6, 0.4])
        let result = PseudoLabelFilter.apply(labels, settings: FilterSettings(), trueLabels: nil, seed: 1)
        var json = try #require(try JSONSerialization.jsonObject(with: RunFolder.json(result)) as? [String: Any])
        let url = dir.appendingPathComponent("filter-1.json")
        try JSONSerialization.data(withJSONObject: json).write(to: url)
        _ = try FilterResult.load(from: url, labels: labels)  // as written: fine
        json["treshold"] = 0.5
        try JSONSerialization.data(withJSONObject: json).write(to: url)
        #expect { try FilterResult.load(from: url, labels: labels) } throws: { "\($0)".contains("unknown key treshold") }
    }

    @Test func aRecipeFileForOtherDataIsRefusedNotRewritten() throws {
        // The recipe file says 1-channel models; the synthetic data is RGB. It used to be fitted silently.
        var recipe = Recipe.preset(.tiny)
        recipe.teacher.inputChannels = 1
        let dir = CLI.tempDir("recipe-fit")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let file = dir.appendingPathComponent("r.json")
        try JSONEncoder().encode(recipe).write(to: file)
        let r = try cli(["run", "--recipe", file.path, "--run", dir.appendingPathComponent("run").path, "--threads", "1"])
        #expect(r.status != 0 && !r.signalled)
        #expect(r.err.contains("r.json: teacher.inputChannels: is 1") && r.err.contains("3-channel"), "\(r.err)")
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("run/teacher.ckpt").path))
    }

    @Test func submitPredictWithoutItsModelSubmitsNothing() throws {
        let run = CLI.tempDir("submit")
        try FileManager.default.createDirectory(at: run, withIntermediateDirectories: true)
        let r = try cli(["submit", "predict", "--shards", "2", "--run", run.path])
        #expect(r.status == 64 && !r.signalled)
        #expect(r.err.contains("teacher.ckpt does not exist"), "\(r.err)")
        #expect(!FileManager.default.fileExists(atPath: run.appendingPathComponent("slurm").path))
    }
}
