import Datasets
import Engine
import Randomness

/// Input noise applied to a batch of images (as bytes) before they become Floats.
public protocol ImageAugmenter: Sendable {
    func augment(_ batch: inout ImageSet, rng: inout SeededGenerator)
}

/// Images of the unlabeled pool chosen for training, each with its target distribution.
/// Indices may repeat (balancing duplicates images of under-full classes).
public struct PseudoLabeledSet: Sendable {
    public var pool: ImageSet
    public var indices: [Int]
    /// indices.count x classes target probabilities (soft labels, or one-hot for hard ones).
    public var targets: [Float]
    public var classes: Int

    public init(pool: ImageSet, indices: [Int], targets: [Float], classes: Int) {
        precondition(targets.count == indices.count * classes, "PseudoLabeledSet: \(targets.count) targets for \(indices.count) images")
        self.pool = pool; self.indices = indices; self.targets = targets; self.classes = classes
    }

    public var count: Int { indices.count }
}

/// Everything a training run reads.
public struct TrainingData: Sendable {
    public var labeled: ImageSet
    public var pseudoLabeled: PseudoLabeledSet?
    public var normalization: Normalization
    /// Input noise for this run (nil: clean images, as the teacher sees them by default).
    public var augmenter: (any ImageAugmenter)?

    public init(labeled: ImageSet, pseudoLabeled: PseudoLabeledSet? = nil, normalization: Normalization,
                augmenter: (any ImageAugmenter)? = nil) {
        self.labeled = labeled; self.pseudoLabeled = pseudoLabeled; self.normalization = normalization
        self.augmenter = augmenter
    }
}

/// One step's input: labeled images first, then unlabeled ones, in a single tensor (one forward
/// pass, so batch norm sees both, as in the official implementation).
public struct TrainingBatch: Sendable {
    public var images: Tensor
    public var labels: [Int]
    public var unlabeledTargets: Tensor?
    public var labeledCount: Int { labels.count }
}

extension Tensor {
    /// A float batch from the data layer as an engine tensor.
    public init(_ batch: Batch) {
        self.init(shape: [batch.count, batch.height, batch.width, batch.channels], scalars: batch.images)
    }
}
