import Datasets
import Engine
import Foundation

/// The teacher's predictions on the unlabeled pool: for each image (by its index in the pool)
/// the class probabilities, from a clean image, in eval mode, without noise.
public struct PseudoLabels: Codable, Sendable, Equatable {
    /// How the probabilities become training targets (the paper's section 3 compares both).
    public enum Mode: String, Codable, Sendable, CaseIterable {
        /// The teacher's softmax (sharpened by the recipe's temperature after filtering): the paper's default.
        case soft
        /// One-hot argmax.
        case hard
    }

    /// Number of classes (the width of a row).
    public var classes: Int
    /// Pool indices these rows belong to (a shard covers a range of the pool).
    public var indices: [Int]
    /// indices.count x classes probabilities (always the full soft distribution; `targets`
    /// turns it into hard labels when asked).
    public var probabilities: [Float]

    /// Labels from their parts (`probabilities.count == indices.count * classes`).
    public init(classes: Int, indices: [Int], probabilities: [Float]) {
        precondition(probabilities.count == indices.count * classes, "PseudoLabels: sizes disagree")
        self.classes = classes; self.indices = indices; self.probabilities = probabilities
    }

    /// Rows (labelled images).
    public var count: Int { indices.count }

    /// Row `k`'s probabilities, one per class.
    public func row(_ k: Int) -> ArraySlice<Float> { probabilities[(k * classes)..<((k + 1) * classes)] }

    /// Predicted class and its confidence for row k.
    public func prediction(_ k: Int) -> (label: Int, confidence: Float) {
        let p = Prediction(row(k))
        return (p.label, p.confidence)
    }

    /// Training target of row k, made after filtering as `main.py` does with filtered labels:
    /// soft targets are the probabilities sharpened by the temperature, p^(1/T) renormalised
    /// (`tf.pow(unl_probs, 1 / teacher_softmax_temp)`, the same as softmax(logits / T)); hard
    /// targets are the one-hot argmax with the label smoothing of the labeled loss,
    /// (1 - eps) * onehot + eps / C (`softmax_cross_entropy(..., label_smoothing=FLAGS.label_smoothing)`
    /// on the unlabeled logits).
    public func target(_ k: Int, mode: Mode, temperature: Float, labelSmoothing: Float) -> [Float] {
        switch mode {
        case .soft:
            guard temperature != 1 else { return Array(row(k)) }
            precondition(temperature > 0, "PseudoLabels: temperature must be positive, got \(temperature)")
            // Relative to the row's maximum, so small probabilities do not underflow before normalising.
            let top = row(k).max() ?? 1
            let sharpened = row(k).map { top > 0 ? powf($0 / top, 1 / temperature) : 0 }
            let sum = sharpened.reduce(0, +)
            return sharpened.map { $0 / sum }
        case .hard:
            return oneHotTargets([prediction(k).label], classes: classes, labelSmoothing: labelSmoothing).scalars
        }
    }

    /// Labels the pool (or the shard `shard` of `shards` of it) with `teacher`: its softmax at
    /// temperature 1, as `predict_label.py` writes it. Filtering reads these; a recipe's
    /// temperature sharpens only the training targets (`target`).
    public static func predict(teacher: any Layer, pool: ImageSet, normalization: Normalization, classes: Int,
                               shard: Int = 0, shards: Int = 1, batchSize: Int = 256,
                               progress: any ProgressReporter = SilentProgress()) -> PseudoLabels {
        let range = shardRange(count: pool.count, shard: shard, shards: shards)
        var probs: [Float] = []
        probs.reserveCapacity(range.count * classes)
        let start = Date()
        var done = 0
        var s = range.lowerBound
        while s < range.upperBound {
            let idx = Array(s..<min(s + batchSize * 8, range.upperBound))
            let part = pool.subset(idx)
            probs += Evaluator.probabilities(teacher, images: part, normalization: normalization, classes: classes,
                                             batchSize: batchSize)
            done += idx.count
            s += idx.count
            let elapsed = Date().timeIntervalSince(start)
            progress.report(ProgressEvent(phase: "predict", epoch: 1, epochs: 1, step: done, totalSteps: range.count, loss: .nan,
                                          imagesPerSecond: Double(done) / max(elapsed, 1e-9), elapsed: elapsed,
                                          endOfEpoch: s >= range.upperBound, note: nil))
        }
        return PseudoLabels(classes: classes, indices: Array(range), probabilities: probs)
    }

    /// The contiguous part of 0..<count that shard i of n labels.
    public static func shardRange(count: Int, shard: Int, shards: Int) -> Range<Int> {
        precondition(shards > 0 && shard >= 0 && shard < shards, "shard \(shard) of \(shards) is not valid")
        return (count * shard / shards)..<(count * (shard + 1) / shards)
    }

    /// Joins shards back into one set ordered by pool index; overlapping or missing rows are errors.
    public static func merge(_ shards: [PseudoLabels], poolCount: Int? = nil) throws -> PseudoLabels {
        guard let first = shards.first else { throw PipelineError.invalid("no pseudo-label shards to merge") }
        guard shards.allSatisfy({ $0.classes == first.classes }) else { throw PipelineError.invalid("shards disagree on the number of classes") }
        let sorted = shards.sorted { ($0.indices.first ?? 0) < ($1.indices.first ?? 0) }
        var merged = PseudoLabels(classes: first.classes, indices: [], probabilities: [])
        for s in sorted {
            if let last = merged.indices.last, let next = s.indices.first, next <= last {
                throw PipelineError.invalid("pseudo-label shards overlap at pool index \(next)")
            }
            merged.indices += s.indices
            merged.probabilities += s.probabilities
        }
        if let n = poolCount, merged.indices != Array(0..<n) {
            throw PipelineError.invalid("merged shards cover \(merged.count) of \(n) pool images (a shard is missing)")
        }
        return merged
    }
}

/// Why the pipeline refused its input, with the file or the setting to fix.
public enum PipelineError: Error, CustomStringConvertible, Equatable {
    /// A bad setting or combination; the message says which and what to do.
    case invalid(String)
    /// A file the step needs is missing: (path, what makes it).
    case missingFile(String, String)
    /// A file is there but unusable: (path, why).
    case corruptFile(String, String)

    /// The message, starting with the path for file errors.
    public var description: String {
        switch self {
        case .invalid(let s): return s
        case .missingFile(let path, let what): return "\(path): missing (\(what))"
        case .corruptFile(let path, let why): return "\(path): \(why)"
        }
    }
}
