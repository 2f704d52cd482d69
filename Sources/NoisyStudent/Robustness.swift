import Augment
import Datasets
import Engine

/// How a model holds up: common corruptions at 5 severities, and L-infinity adversarial attacks.
public struct RobustnessResult: Codable, Sendable, Equatable {
    /// The model's name, as passed to `Robustness.evaluate`.
    public var model: String
    /// Top-1 (percent) on the uncorrupted test set.
    public var clean: Double
    /// Top-1 (percent) per corruption name, one value per severity 1...5.
    public var corruptions: [String: [Double]]
    /// Attack strengths in pixel units (fractions of the 0-255 range), and top-1 under each.
    public var epsilons: [Double]
    /// Top-1 (percent) under FGSM, one value per entry of `epsilons`.
    public var fgsm: [Double]
    /// Top-1 (percent) under PGD, one value per entry of `epsilons`.
    public var pgd: [Double]

    /// A result from its parts (fgsm and pgd must match `epsilons` one to one).
    public init(model: String, clean: Double, corruptions: [String: [Double]], epsilons: [Double], fgsm: [Double], pgd: [Double]) {
        self.model = model; self.clean = clean; self.corruptions = corruptions
        self.epsilons = epsilons; self.fgsm = fgsm; self.pgd = pgd
    }
}

/// CE_c and mCE (Hendrycks & Dietterich 2019): a model's summed errors over severities divided by
/// the baseline's, per corruption; mCE is their mean (baseline = 100%).
public struct CorruptionErrors: Codable, Sendable, Equatable {
    /// CE_c in percent of the baseline's error (100 = as bad as the baseline; NaN when the baseline
    /// made no error), for each corruption both results have.
    public var perCorruption: [String: Double]
    /// Mean of `perCorruption` in percent (NaN when there is none).
    public var mCE: Double

    /// Errors (100 - top-1) of `model` relative to `baseline`, summed over severities per corruption.
    public init(model: RobustnessResult, baseline: RobustnessResult) {
        var ce: [String: Double] = [:]
        for (name, acc) in model.corruptions {
            guard let base = baseline.corruptions[name] else { continue }
            let e = acc.reduce(0) { $0 + (100 - $1) }, b = base.reduce(0) { $0 + (100 - $1) }
            ce[name] = b > 0 ? 100 * e / b : .nan
        }
        perCorruption = ce
        // Summed in name order: a Dictionary's order changes from process to process, and so
        // would the last digit of the mean.
        mCE = ce.isEmpty ? .nan : ce.keys.sorted().reduce(0) { $0 + ce[$1, default: 0] } / Double(ce.count)
    }
}

/// Robustness evaluation of a trained model, after the paper's sections 3.3-3.4 (ImageNet-C and
/// FGSM): here CIFAR-10-C-style corruptions of the test set, and PGD as well as FGSM.
public enum Robustness {
    /// Attack radii 0, 1, 2, 4 and 8 / 255, in pixel units (fractions of the 0-255 range).
    public static let defaultEpsilons: [Double] = [0, 1, 2, 4, 8].map { $0 / 255 }

    /// Clean top-1, top-1 under every corruption at severities 1...5 (3-channel test sets only:
    /// `corruptions` stays empty otherwise), and top-1 under FGSM and `pgdSteps`-step PGD at each
    /// epsilon. `test` is NHWC UInt8 with labels; `seed` drives the corruptions' random parts and
    /// `threads` their parallelism. Reports one progress event per corruption.
    public static func evaluate(name: String, model: any Layer, test: ImageSet, normalization: Normalization, classes: Int,
                                corruptions: [Corruption] = Corruption.allCases, epsilons: [Double] = defaultEpsilons,
                                pgdSteps: Int = 7, seed: UInt64 = 0, threads: Int = 2,
                                progress: any ProgressReporter = SilentProgress()) -> RobustnessResult {
        let clean = Evaluator.evaluate(model, on: test, normalization: normalization, classes: classes).top1
        var byName: [String: [Double]] = [:]
        if test.channels == 3 {
            for (k, c) in corruptions.enumerated() {
                byName[c.rawValue] = (1...5).map { s in
                    let corrupted = c.apply(to: test, severity: s, seed: seed, threads: threads)
                    return Evaluator.evaluate(model, on: corrupted, normalization: normalization, classes: classes).top1
                }
                progress.report(ProgressEvent(phase: "robustness \(name)", epoch: 1, epochs: 1, step: k + 1, totalSteps: corruptions.count,
                                              loss: .nan, imagesPerSecond: 0, elapsed: 0, endOfEpoch: k + 1 == corruptions.count, note: c.rawValue))
            }
        }
        let fgsm = epsilons.map { attackAccuracy(model, test: test, normalization: normalization, classes: classes, epsilon: $0, steps: 1) }
        let pgd = epsilons.map { attackAccuracy(model, test: test, normalization: normalization, classes: classes, epsilon: $0, steps: pgdSteps) }
        return RobustnessResult(model: name, clean: clean, corruptions: byName, epsilons: epsilons, fgsm: fgsm, pgd: pgd)
    }

    /// Top-1 under an L-infinity attack of radius `epsilon` (pixel units): FGSM for one step
    /// (step = epsilon), PGD for more (step 2.5 epsilon / steps, Madry et al.), without random
    /// start so results are deterministic. Perturbed images stay in the valid pixel range.
    public static func attackAccuracy(_ model: any Layer, test: ImageSet, normalization: Normalization, classes: Int,
                                      epsilon: Double, steps: Int, batchSize: Int = 200) -> Double {
        let c = test.channels
        // Pixel-space quantities in normalised units, per channel.
        let scale = (0..<c).map { Float(1 / Double(normalization.std[$0])) }
        let lo = (0..<c).map { (0 - normalization.mean[$0]) / normalization.std[$0] }
        let hi = (0..<c).map { (1 - normalization.mean[$0]) / normalization.std[$0] }
        let stepSize = steps == 1 ? epsilon : 2.5 * epsilon / Double(steps)
        var correct = 0
        var start = 0
        while start < test.count {
            let idx = Array(start..<min(start + batchSize, test.count))
            let clean = Tensor(test.floatBatch(indices: idx, normalization: normalization))
            let labels = idx.map { Int(test.labels[$0]) }
            var x = clean
            if epsilon > 0 {
                for _ in 0..<steps {
                    let input = Variable(x, requiresGrad: true)
                    softmaxCrossEntropy(logits: model(input, ForwardContext(training: false)), labels: labels).backward()
                    guard let g = input.grad else { break }
                    for i in 0..<x.count {
                        let ch = i % c
                        let e = Float(epsilon) * scale[ch]
                        let sign: Float = g.scalars[i] > 0 ? 1 : (g.scalars[i] < 0 ? -1 : 0)
                        var v = x.scalars[i] + Float(stepSize) * scale[ch] * sign
                        v = min(max(v, clean.scalars[i] - e), clean.scalars[i] + e)  // project onto the ball
                        x.scalars[i] = min(max(v, lo[ch]), hi[ch])                 // stay a valid image
                    }
                }
            }
            let logits = model.predict(x)
            for (k, y) in labels.enumerated() {
                let row = logits.scalars[(k * classes)..<((k + 1) * classes)]
                if Prediction(row).label == y { correct += 1 }   // argmax of the logits: the same class as of their softmax
            }
            start += idx.count
        }
        return 100 * Double(correct) / Double(max(test.count, 1))
    }
}
