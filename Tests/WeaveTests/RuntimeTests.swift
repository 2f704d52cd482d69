import Foundation
import SystemSupport
import Testing
import WeaveRuntime
import Weave

@Suite struct RuntimeTests {
    @Test func publishedValuesAreReadableOnlyThroughDeclaredInputs() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let producer = StageContext(stage: "data", scale: "tiny", seed: 1, inputs: [:], output: folder.appendingPathComponent("data"))
        try producer.publish("data", ["a": 1.5])
        try producer.publish([1, 2])  // under the stage's own name (replaces the first)
        let path = folder.appendingPathComponent("data/artifacts/data.json").path
        let consumer = StageContext(stage: "use", scale: "tiny", seed: 1, inputs: ["data": path], output: folder.appendingPathComponent("use"))
        #expect(try consumer.input("data", as: [Int].self) == [1, 2])
        #expect(throws: WeaveRuntimeError.undeclaredInput("other", declared: ["data"])) {
            _ = try consumer.input("other", as: Int.self)
        }
    }

    @Test func nonFiniteValuesFailThePublish() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let context = StageContext(stage: "s", scale: "tiny", seed: 0, inputs: [:], output: folder)
        #expect {
            try context.publish("loss", ["epoch": [1.0, Double.nan]])
        } throws: { error in
            guard case WeaveRuntimeError.nonFinite(let name, _) = error else { return false }
            return name == "loss"
        }
        #expect(throws: WeaveRuntimeError.badName("a/b")) { try context.publish("a/b", 1) }
    }

    @Test func progressIsWrittenForTheDisplay() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("progress.json")
        let context = StageContext(stage: "s", scale: "tiny", seed: 0, inputs: [:], output: folder, progressFile: file)
        context.progress("epoch 3/10", fraction: 0.3)
        let report = try JSONDecoder().decode(ProgressReport.self, from: Data(contentsOf: file))
        #expect(report == ProgressReport(text: "epoch 3/10", fraction: 0.3))
    }

    @Test func threadBudgetIsReadFromTheWeaversFile() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("threads-0")
        let env = [StageProtocol.stageVariable: "s", StageProtocol.outputVariable: folder.path,
                   StageProtocol.threadsVariable: file.path]
        let context = try StageContext.fromEnvironment(env)
        #expect(context.threadBudget() == nil)  // not written yet
        try "2\n".write(to: file, atomically: true, encoding: .utf8)
        #expect(context.threadBudget() == 2)
        try "0".write(to: file, atomically: true, encoding: .utf8)
        #expect(context.threadBudget() == nil)  // nonsense is ignored, not obeyed
        #expect(try StageContext.fromEnvironment([StageProtocol.stageVariable: "s", StageProtocol.outputVariable: "/tmp/x"])
            .threadBudget() == nil)
    }

    @Test func contextComesFromTheEnvironment() throws {
        let env = [
            StageProtocol.stageVariable: "train", StageProtocol.scaleVariable: "paper", StageProtocol.seedVariable: "7",
            StageProtocol.outputVariable: "/tmp/x", StageProtocol.inputsVariable: "{\"data\": \"/tmp/d.json\"}",
        ]
        let context = try StageContext.fromEnvironment(env)
        #expect(context.stage == "train")
        #expect(context.scale == "paper")
        #expect(context.seed == 7)
        #expect(context.availableInputs == ["data"])
        #expect(throws: WeaveRuntimeError.missingEnvironment(StageProtocol.stageVariable)) {
            _ = try StageContext.fromEnvironment([:])
        }
    }

    /// The kernel paths stages get (and each cache entry records) are the user's, else the
    /// engine's own choice (the rule itself is tested in SystemSupportTests).
    @Test func stageKernelsHonourTheUsersChoice() {
        #expect(RunSettings.blasCoreType(environment: ["OPENBLAS_CORETYPE": "Haswell"]) == "Haswell")
        #expect(RunSettings.blasCoreType(environment: [:]) == CPUFeatures.openBLASCoreType())
        #expect(RunSettings.engineKernelPath(environment: ["ENGINE_ISA": "portable"]) == "portable")
        #expect(RunSettings.engineKernelPath(environment: [:]) == CPUFeatures.bestKernelPath)
    }

    @Test func progressLinesShowElapsedAndETA() {
        let stage = RunningStage(name: "teacher", elapsed: 30, progress: ProgressReport(text: "epoch 3/10", fraction: 0.25), lastDuration: nil)
        #expect(ProgressDisplay.eta(stage) == 90)
        let line = ProgressDisplay.line(stage)
        #expect(line.contains("teacher") && line.contains("epoch 3/10") && line.contains("25%") && line.contains("ETA 1m30s"))
        let unknown = RunningStage(name: "x", elapsed: 5, progress: nil, lastDuration: 20)
        #expect(ProgressDisplay.eta(unknown) == 15)
        #expect(ProgressDisplay.duration(3725) == "1h02m")
    }

    @Test func plainDisplayThrottlesProgressLines() {
        final class Sink: @unchecked Sendable { var lines: [String] = [] }
        let sink = Sink()
        var display = ProgressDisplay(mode: .plain) { sink.lines.append($0) }
        let s = { (text: String) in RunningStage(name: "a", elapsed: 1, progress: ProgressReport(text: text), lastDuration: nil) }
        display.update([s("epoch 1")], now: 0)
        display.update([s("epoch 2")], now: 1)   // too soon
        display.update([s("epoch 3")], now: 11)
        #expect(sink.lines.count == 2)
    }
}
