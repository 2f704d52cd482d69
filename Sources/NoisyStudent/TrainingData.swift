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
    /// The whole unlabeled pool (NHWC UInt8); `indices` point into it.
    public var pool: ImageSet
    /// The pool index of each training row, in training order (repeats are duplicates).
    public var indices: [Int]
    /// indices.count x classes target probabilities (soft labels, or one-hot for hard ones).
    public var targets: [Float]
    /// C: the length of each target row.
    public var classes: Int

    /// Traps unless `targets` holds `classes` values per index.
    public init(pool: ImageSet, indices: [Int], targets: [Float], classes: Int) {
        precondition(targets.count == indices.count * classes, "PseudoLabeledSet: \(targets.count) targets for \(indices.count) images")
        self.pool = pool; self.indices = indices; self.targets = targets; self.classes = classes
    }

    /// Training rows, copies counted.
    public var count: Int { indices.count }
}

/// Everything a training run reads.
public struct TrainingData: Sendable {
    /// Labeled images (NHWC UInt8) with their labels.
    public var labeled: ImageSet
    /// A student's pseudo-labeled images; nil for a teacher.
    public var pseudoLabeled: PseudoLabeledSet?
    /// Per-channel standardisation applied after the noise, when bytes become Floats.
    public var normalization: Normalization
    /// Input noise for this run (nil: clean images, as the teacher sees them by default).
    public var augmenter: (any ImageAugmenter)?

    /// Defaults: no pseudo labels (a teacher), clean images.
    public init(labeled: ImageSet, pseudoLabeled: PseudoLabeledSet? = nil, normalization: Normalization,
                augmenter: (any ImageAugmenter)? = nil) {
        self.labeled = labeled; self.pseudoLabeled = pseudoLabeled; self.normalization = normalization
        self.augmenter = augmenter
    }
}

/// One step's input: labeled images first, then unlabeled ones, in a single tensor (one forward
/// pass, so batch norm sees both, as in the official implementation).
public struct TrainingBatch: Sendable {
    /// [L + U, H, W, C] normalised images: the L labeled rows first, then U pseudo-labeled ones.
    public var images: Tensor
    /// Class of each of the first L rows.
    public var labels: [Int]
    /// [U, classes] target probabilities of the pseudo-labeled rows; nil when U = 0.
    public var unlabeledTargets: Tensor?
    /// L: how many leading rows are labeled.
    public var labeledCount: Int { labels.count }
}

extension Tensor {
    /// A float batch from the data layer as an engine tensor.
    public init(_ batch: Batch) {
        self.init(shape: [batch.count, batch.height, batch.width, batch.channels], scalars: batch.images)
    }
}
