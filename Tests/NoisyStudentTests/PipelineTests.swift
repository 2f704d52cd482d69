import Datasets
import Engine
import Foundation
import Testing
@testable import NoisyStudent

/// Small, real runs on Fashion-MNIST (Debian's dataset-fashion-mnist): fast to learn, so a few
/// hundred steps show real effects.
@Suite(.serialized) struct PipelineTests {
    static let data: PreparedData? = try? PreparedData.prepare(
        .fashionMNIST(directory: FashionMNIST.defaultDirectory),
        settings: DataSettings(labeledPerClass: 30, unlabeledCount: 1_000, validationCount: 200, testCount: 0), seed: 3)

    static func recipe(students: Int = 1) -> Recipe {
        var r = Recipe.preset(.tiny, inputChannels: 1)
        let model = ModelSpec.wideResNet(depth: 10, width: 1, inputChannels: 1)
        r.teacher = model
        r.students = Array(repeating: model, count: students)
        r.teacherTraining = TrainingSettings(epochs: 10, batchSize: 32, peakLearningRate: 0.05, warmupEpochs: 1)
        r.studentTraining = TrainingSettings(epochs: 6, batchSize: 32, peakLearningRate: 0.05, warmupEpochs: 1)
        r.studentNoise = NoiseSettings(randAugment: true, cutout: false, crop: true, dropout: 0.1, stochasticDepth: 0.1)
        r.unlabeledRatio = 2
        return r
    }

    func tempDir() -> URL {
        let u = FileManager.default.temporaryDirectory.appendingPathComponent("ns-test-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: u, withIntermediateDirectories: true)
        return u
    }

    @Test func loopLearnsAndLabels() throws {
        let data = try #require(Self.data, "Fashion-MNIST is missing: apt-get install dataset-fashion-mnist")
        var split = data
        split.splits.test = data.splits.validation  // keep the suite fast: 200 images
        var attacks: [Double] = []
        let result = try Pipeline(recipe: Self.recipe(), data: split).run { name, trained in
            guard name == "teacher" else { return }
            // FGSM/PGD use the engine's input gradients: accuracy must fall as epsilon grows,
            // and PGD (iterated) must hurt at least as much as FGSM at the same radius.
            let test = split.splits.test
            attacks = [0, 8.0 / 255, 32.0 / 255].map {
                Robustness.attackAccuracy(trained.model, test: test, normalization: split.normalization, classes: 10, epsilon: $0, steps: 1)
            }
            attacks.append(Robustness.attackAccuracy(trained.model, test: test, normalization: split.normalization, classes: 10,
                                                     epsilon: 32.0 / 255, steps: 5))
        }
        #expect(abs(attacks[0] - result.teacher.test.top1) < 1e-9, "epsilon 0 is the clean accuracy")
        #expect(attacks[1] < attacks[0] - 5 && attacks[2] < attacks[1], "FGSM accuracy by epsilon: \(attacks)")
        #expect(attacks[3] <= attacks[2] + 1, "PGD \(attacks[3]) vs FGSM \(attacks[2])")
        // Chance is 10%; 300 labels and 100 steps reach well above it.
        #expect(result.teacher.test.top1 > 50, "teacher \(result.teacher.test.top1)%")
        let stats = try #require(result.pseudoLabels.first)
        #expect((stats.filter.accuracyAll ?? 0) > 45, "pseudo-label accuracy \(stats.filter.accuracyAll ?? -1)%")
        // Balanced to pool/classes = 100 per class in expectation (the official rule draws
        // copies at random, so not exactly; it used to be a strict 100).
        let filled = stats.filter.finalPerClass.filter { $0 > 0 }
        #expect(stats.filter.rule == .officialResampling && !filled.isEmpty)
        #expect(abs(Double(filled.reduce(0, +)) / Double(filled.count) - 100) < 10, "\(stats.filter.finalPerClass)")
        #expect(result.students.count == 1 && result.students[0].test.top1 > 30, "student \(result.students.first?.test.top1 ?? -1)%")
        #expect(result.teacher.history.count == 10 && result.teacher.history.last!.loss < result.teacher.history.first!.loss)
    }

    /// Ablation students skip the per-epoch validation pass; the weights must not depend on it.
    @Test func perEpochValidationIsOptionalAndChangesNothing() throws {
        let data = try #require(Self.data, "Fashion-MNIST is missing: apt-get install dataset-fashion-mnist")
        var recipe = Self.recipe()
        recipe.teacherTraining.epochs = 2
        var quiet = Pipeline(recipe: recipe, data: data)
        quiet.validatesEachEpoch = false
        let a = try quiet.trainModel(0, pseudoLabeled: nil)
        let b = try Pipeline(recipe: recipe, data: data).trainModel(0, pseudoLabeled: nil)
        #expect(a.history.count == 2 && a.history.allSatisfy { $0.validationTop1 == nil })
        #expect(b.history.count == 2 && b.history.allSatisfy { $0.validationTop1 != nil })
        #expect(a.model.checkpointTensors().map { $0.tensor.scalars } == b.model.checkpointTensors().map { $0.tensor.scalars })
    }

    @Test func interruptedTrainingResumesToTheSameWeights() throws {
        let data = try #require(Self.data)
        let spec = ModelSpec.wideResNet(depth: 10, width: 1, inputChannels: 1, dropout: 0.2, stochasticDepth: 0.2)
        let settings = TrainingSettings(epochs: 1, batchSize: 16, peakLearningRate: 0.05, warmupEpochs: 0.2, emaDecay: 0.99)
        let training = TrainingData(labeled: data.splits.labeled, normalization: data.normalization,
                                    augmenter: NoiseSettings.official.inputNoise)
        let dir = tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let whole = try Trainer(spec: spec, settings: settings, seed: 7, phase: "t").train(training)
        var first = Trainer(spec: spec, settings: settings, seed: 7, phase: "t", checkpoint: dir.appendingPathComponent("t.ckpt"),
                            checkpointEverySteps: 4)
        first.stopAfterSteps = 10  // "killed" at step 10; the last checkpoint is from step 8
        _ = try first.train(training)
        let saved = try Checkpoint.read(from: dir.appendingPathComponent("t.ckpt"))
        let before = try #require(saved.metadata["trainingSeconds"].flatMap(Double.init), "the checkpoint records its training time")
        var second = first
        second.stopAfterSteps = nil
        let resumeStart = Date()
        let resumed = try second.train(training, resume: true)
        let wall = Date().timeIntervalSince(resumeStart)
        #expect(resumed.steps == whole.steps)
        // The resumed model's time includes the 8 steps before the checkpoint: more than the
        // resumed call itself took (without them it could not exceed it).
        #expect(before > 0 && resumed.seconds > wall)
        // Issue 17, item 10: the checkpoint (step 8) is inside the first epoch; the epoch's
        // logged loss must still be the uninterrupted run's, bit for bit.
        #expect(resumed.history.map(\.loss.bitPattern) == whole.history.map(\.loss.bitPattern))
        for (a, b) in zip(whole.model.parameters, resumed.model.parameters) {
            #expect(a.value.scalars.map(\.bitPattern) == b.value.scalars.map(\.bitPattern))
        }
    }

    @Test func nonFiniteLossStopsWithoutOverwritingTheCheckpoint() throws {
        let data = try #require(Self.data)
        let dir = tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("t.ckpt")
        let settings = TrainingSettings(epochs: 3, batchSize: 16, peakLearningRate: 1e9, warmupEpochs: 0)
        let trainer = Trainer(spec: .wideResNet(depth: 10, width: 1, inputChannels: 1), settings: settings, seed: 1,
                              phase: "teacher", checkpoint: url, checkpointEverySteps: 1)
        do {
            _ = try trainer.train(TrainingData(labeled: data.splits.labeled, normalization: data.normalization))
            Issue.record("a learning rate of 1e9 should blow up")
        } catch let TrainingError.nonFiniteLoss(phase, _, step) {
            #expect(phase == "teacher" && step > 1)
            let saved = try Checkpoint.read(from: url)
            #expect(saved.tensors.allSatisfy { $0.tensor.isFinite })
            #expect((Int(saved.metadata["step"] ?? "") ?? .max) < step)
        }
    }

    /// An update that overflows the weights after a finite loss, at the end of an epoch (one
    /// step per epoch here), stops training before the validation pass evaluates NaN weights
    /// (`Evaluator.metrics` would trap converting a NaN confidence to a bin).
    @Test func overflowingWeightsStopBeforeValidation() throws {
        let data = try #require(Self.data)
        let labeled = data.splits.labeled
        let settings = TrainingSettings(epochs: 20, batchSize: labeled.count, peakLearningRate: 1e30, warmupEpochs: 0)
        var trainer = Trainer(spec: .wideResNet(depth: 10, width: 1, inputChannels: 1), settings: settings, seed: 1, phase: "teacher")
        final class Seen { var nonFinite = 0 }
        let seen = Seen()
        trainer.validation = { model in
            if !model.parameters.allSatisfy({ $0.value.isFinite }) { seen.nonFinite += 1 }
            return 0
        }
        #expect(throws: TrainingError.self) { _ = try trainer.train(TrainingData(labeled: labeled, normalization: data.normalization)) }
        #expect(seen.nonFinite == 0)
    }

    @Test func runFolderResumesFinishedPhases() throws {
        let data = try #require(Self.data)
        var split = data
        split.splits.test = data.splits.validation
        var recipe = Self.recipe()
        recipe.teacherTraining.epochs = 2; recipe.studentTraining.epochs = 1
        let dir = tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let a = try Pipeline(recipe: recipe, data: split, folder: RunFolder(dir)).run()
        for f in ["recipe.json", "teacher.ckpt", "pseudo-1.labels", "filter-1.json", "student1.ckpt", "results.json"] {
            #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent(f).path), "\(f)")
        }
        // Everything is on disk: a resumed run recomputes nothing and gives the same numbers.
        let b = try Pipeline(recipe: recipe, data: split, folder: RunFolder(dir), resume: true).run()
        #expect(a.teacher.test == b.teacher.test && a.students == b.students.map { var s = $0; s.trainingSeconds = a.students[0].trainingSeconds; return s })
        // A different recipe in the same folder is refused.
        var other = recipe
        other.seed = 99
        #expect(throws: PipelineError.self) { try Pipeline(recipe: other, data: split, folder: RunFolder(dir), resume: true).run() }
        // A corrupt pseudo-label file is named in the error.
        try Data("garbage".utf8).write(to: dir.appendingPathComponent("pseudo-1.labels"))
        try FileManager.default.removeItem(at: dir.appendingPathComponent("student1.ckpt"))
        do { _ = try Pipeline(recipe: recipe, data: split, folder: RunFolder(dir), resume: true).run(); Issue.record("expected an error") } catch {
            #expect("\(error)".contains("pseudo-1.labels"))
        }
    }
}
