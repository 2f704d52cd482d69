import Datasets
import Engine

/// Test-set metrics of one model.
public struct Evaluation: Codable, Sendable, Equatable {
    /// Top-1 accuracy in percent.
    public var top1: Double
    /// Accuracy per true class, in percent.
    public var perClass: [Double]
    /// confusion[true][predicted] counts.
    public var confusion: [[Int]]
    /// Expected calibration error (15 equal-width confidence bins), in percent.
    public var calibrationError: Double
    /// Images evaluated (0: no test set; the percentages are then 0).
    public var count: Int
}

/// Softmax probabilities and test metrics of a model, in inference mode (EMA weights when the
/// run keeps them; clean images, as the official code evaluates).
public enum Evaluator {
    /// Softmax probabilities [N, classes] of `model` on `images`, in inference mode, in batches
    /// (never a float copy of the whole set).
    public static func probabilities(_ model: any Layer, images: ImageSet, normalization: Normalization,
                                     classes: Int, batchSize: Int = 256, temperature: Float = 1) -> [Float] {
        var out = [Float](repeating: 0, count: images.count * classes)
        var start = 0
        while start < images.count {
            let idx = Array(start..<min(start + batchSize, images.count))
            let x = Tensor(images.floatBatch(indices: idx, normalization: normalization))
            let p = softmax(model.predict(x), temperature: temperature)
            out.replaceSubrange((start * classes)..<((start + idx.count) * classes), with: p.scalars)
            start += idx.count
        }
        return out
    }

    /// Top-1, per-class accuracy, confusion and calibration of `model` on `images` (NHWC UInt8,
    /// normalised with `normalization`); an image whose label is outside 0..<classes counts, never as right.
    public static func evaluate(_ model: any Layer, on images: ImageSet, normalization: Normalization,
                                classes: Int, batchSize: Int = 256) -> Evaluation {
        let probs = probabilities(model, images: images, normalization: normalization, classes: classes, batchSize: batchSize)
        return metrics(probabilities: probs, labels: images.labels.map(Int.init), classes: classes)
    }

    /// Top-1 (percent) of `model` on `images` for a training curve, or NaN when any output
    /// probability is NaN or infinite (a diverged model has no accuracy; the trainer stops on it).
    public static func validationTop1(_ model: any Layer, on images: ImageSet, normalization: Normalization,
                                      classes: Int) -> Double {
        let probs = probabilities(model, images: images, normalization: normalization, classes: classes)
        guard probs.allSatisfy(\.isFinite) else { return .nan }
        return metrics(probabilities: probs, labels: images.labels.map(Int.init), classes: classes).top1
    }

    /// The metrics of predicted probabilities (`[labels.count, classes]`, row-major) against
    /// `labels`; the prediction of each row is its `Prediction` (first class wins a tie).
    public static func metrics(probabilities probs: [Float], labels: [Int], classes: Int) -> Evaluation {
        var confusion = [[Int]](repeating: [Int](repeating: 0, count: classes), count: classes)
        let bins = 15
        var binCount = [Int](repeating: 0, count: bins), binConf = [Double](repeating: 0, count: bins)
        var binCorrect = [Int](repeating: 0, count: bins)
        var correct = 0
        for (i, y) in labels.enumerated() {
            let row = probs[(i * classes)..<((i + 1) * classes)]
            let prediction = Prediction(row)
            let (best, conf) = (prediction.label, prediction.confidence)
            guard y >= 0 && y < classes else { continue }
            confusion[y][best] += 1
            if best == y { correct += 1 }
            // A NaN confidence (a diverged model) must not trap converting to a bin.
            let b = conf.isFinite ? min(bins - 1, max(0, Int(Double(conf) * Double(bins)))) : 0
            binCount[b] += 1; binConf[b] += Double(conf); binCorrect[b] += best == y ? 1 : 0
        }
        let n = max(1, labels.count)  // an empty set reports 0 of 0 (check `count`)
        var ece = 0.0
        for b in 0..<bins where binCount[b] > 0 {
            ece += Double(binCount[b]) / Double(n) * abs(Double(binCorrect[b]) / Double(binCount[b]) - binConf[b] / Double(binCount[b]))
        }
        let perClass = (0..<classes).map { c -> Double in
            let total = confusion[c].reduce(0, +)
            return total == 0 ? 0 : 100 * Double(confusion[c][c]) / Double(total)
        }
        return Evaluation(top1: 100 * Double(correct) / Double(n), perClass: perClass, confusion: confusion,
                          calibrationError: 100 * ece, count: labels.count)
    }
}

/// The predicted class of one row of class probabilities and its probability: the one argmax
/// of evaluation, pseudo labels and their exports. The first class wins a tie; NaN never wins.
public struct Prediction: Equatable, Sendable {
    /// Index of the most probable class.
    public var label: Int
    /// Its probability (0-1).
    public var confidence: Float

    /// The prediction of `row` (one probability per class, at least one class).
    public init(_ row: ArraySlice<Float>) {
        var best = 0
        var conf = row[row.startIndex]
        for c in 1..<row.count where row[row.startIndex + c] > conf { best = c; conf = row[row.startIndex + c] }
        self.label = best; self.confidence = conf
    }
}
