import Datasets
import Engine
import Foundation
import Randomness
import Testing
@testable import NoisyStudent

/// The student's loss is `main.py`'s: labeled mean CE + r * unlabeled mean CE, with r the ratio
/// of the batch's real sizes (the loop used to weight the unlabeled term by 1).
@Suite struct ObjectiveTests {
    func ce(_ logits: Tensor, _ targets: Tensor) -> Float {
        softmaxCrossEntropy(logits: Variable(logits), targets: targets).value.scalars[0]
    }

    @Test func unlabeledMeanIsWeightedByTheBatchRatio() {
        var rng = SeededGenerator(seed: 1)
        let classes = 4, n = 2, u = 6
        let logits = Tensor(shape: [n + u, classes], scalars: (0..<((n + u) * classes)).map { _ in rng.normal() })
        let labels = [1, 3]
        var targets = Tensor(shape: [u, classes], scalars: (0..<(u * classes)).map { _ in rng.uniform() + 0.1 })
        for r in 0..<u {
            let s = (0..<classes).map { targets.scalars[r * classes + $0] }.reduce(0, +)
            for c in 0..<classes { targets.scalars[r * classes + c] /= s }
        }
        let lab = ce(Tensor(shape: [n, classes], scalars: Array(logits.scalars[0..<(n * classes)])),
                     oneHotTargets(labels, classes: classes, labelSmoothing: 0.1))
        let unl = ce(Tensor(shape: [u, classes], scalars: Array(logits.scalars[(n * classes)...])), targets)
        let official = StudentObjective(labelSmoothing: 0.1).loss(logits: Variable(logits), labels: labels, unlabeledTargets: targets)
        #expect(abs(official.value.scalars[0] - (lab + 3 * unl)) < 1e-5, "r = 6 / 2 = 3")
        let halved = StudentObjective(labelSmoothing: 0.1, unlabeledLossMultiplier: 0.5)
            .loss(logits: Variable(logits), labels: labels, unlabeledTargets: targets)
        #expect(abs(halved.value.scalars[0] - (lab + 1.5 * unl)) < 1e-5, "the extra multiplier scales r")
        let teacher = StudentObjective(labelSmoothing: 0.1).loss(logits: Variable(Tensor(shape: [n, classes],
            scalars: Array(logits.scalars[0..<(n * classes)]))), labels: labels, unlabeledTargets: nil)
        #expect(abs(teacher.value.scalars[0] - lab) < 1e-6)
    }

    /// The training loop minimises that objective: the loss it records for a one-step run is the
    /// objective of that step's batch under the initial weights (ratio 3 here).
    @Test func trainerRecordsTheOfficialObjective() throws {
        var rng = SeededGenerator(seed: 2)
        let labeled = ImageSet.noise(4, rng: &rng), pool = ImageSet.noise(12, rng: &rng)
        let targets = (0..<12).flatMap { k -> [Float] in k % 2 == 0 ? [0.7, 0.2, 0.1] : [0.1, 0.1, 0.8] }
        let pseudo = PseudoLabeledSet(pool: pool, indices: Array(0..<12), targets: targets, classes: 3)
        let data = TrainingData(labeled: labeled, pseudoLabeled: pseudo, normalization: .symmetric(channels: 1))
        let spec = ModelSpec.wideResNet(depth: 10, width: 1, classes: 3, inputChannels: 1)   // no noise: nothing random in the forward pass
        let settings = TrainingSettings(epochs: 1, batchSize: 4, peakLearningRate: 0.1)
        let trainer = Trainer(spec: spec, settings: settings, seed: 5, phase: "student1", unlabeledRatio: 3)
        let trained = try trainer.train(data)
        #expect(trained.steps == 1)
        let recorded = try #require(trained.history.first).loss

        var initRNG = SeededGenerator(seed: 5)
        let model = spec.build(rng: &initRNG)
        let batch = BatchMaker(data: data, batchSize: 4, unlabeledRatio: 3, seed: 5, stepsPerEpoch: 1).batch(step: 0)
        let logits = model(Variable(batch.images), ForwardContext(training: true))
        let official = StudentObjective(labelSmoothing: 0).loss(logits: logits, labels: batch.labels, unlabeledTargets: batch.unlabeledTargets)
        let weightOne = StudentObjective(labelSmoothing: 0, unlabeledLossMultiplier: 1.0 / 3)
            .loss(logits: logits, labels: batch.labels, unlabeledTargets: batch.unlabeledTargets)
        #expect(abs(recorded - Double(official.value.scalars[0])) < 1e-5, "recorded \(recorded)")
        #expect(abs(recorded - Double(weightOne.value.scalars[0])) > 1e-2, "not the old weight-1 loss")
    }

    /// The teacher labels the pool at temperature 1 (what filtering reads); the recipe's
    /// temperature only sharpens the training targets (the loop used to filter sharpened labels).
    @Test func pseudoLabelsAreTheTeachersProbabilitiesAtTemperatureOne() throws {
        var recipe = Recipe.preset(.tiny)
        recipe.temperature = 0.5
        recipe.data = DataSettings(labeledPerClass: 2, unlabeledCount: 40, validationCount: 10, testCount: 10, syntheticDifficulty: 0)
        let data = try PreparedData.prepare(.synthetic, settings: recipe.data, seed: 0)
        var rng = SeededGenerator(seed: 0)
        let teacher = recipe.teacher.build(rng: &rng)
        let labels = try Pipeline(recipe: recipe, data: data).pseudoLabels(iteration: 1, teacher: teacher)
        let plain = Evaluator.probabilities(teacher, images: data.splits.unlabeled.images, normalization: data.normalization, classes: 10)
        #expect(labels.probabilities == plain)
    }

    /// `main.py`: decay_epochs = (epochs - 5) / log_0.97(final / peak), 1.37 for SVHN.
    @Test func paperPresetDecaysAsMainPyComputesIt() throws {
        let t = Recipe.preset(.paper).studentTraining
        guard case .staircase(let rate, let every) = t.decay else { Issue.record("not a staircase"); return }
        let expected = (109_474.0 * 128 / 69_257 - 5) / (log(0.0002 / 0.016) / log(0.97))
        #expect(rate == 0.97 && abs(every - expected) < 1e-9 && abs(every - 1.3716) < 1e-3, "\(every)")
        // Like tf.train.exponential_decay on the global step, the staircase counts the warm-up
        // epochs too, so the rate is at the final one (within one step of x0.97) 5 epochs
        // before the end.
        let schedule = t.schedule(stepsPerEpoch: 541)
        let lr = Double(schedule(Int((t.epochs - 5) * 541)))
        #expect(lr >= 0.0001 && lr < 0.0001 / 0.97, "\(lr)")
    }
}
