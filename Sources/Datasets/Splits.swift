import Randomness

/// Images whose labels are withheld. The true labels are kept beside them only to measure
/// how accurate the teacher's pseudo labels are; `images.labels` are all -1 so nothing can
/// train on them by accident.
public struct UnlabeledPool: Sendable {
    /// The images, every label -1.
    public let images: ImageSet
    /// For measuring pseudo-label accuracy only. Never a training target.
    public let heldOutTrueLabels: [Int32]

    /// A pool from `set`: its labels move to `heldOutTrueLabels`.
    public init(_ set: ImageSet) {
        heldOutTrueLabels = set.labels
        images = set.relabeled([Int32](repeating: -1, count: set.count))
    }

    /// Number of unlabeled images.
    public var count: Int { images.count }
}

/// The four roles data plays in a Noisy Student run.
public struct DataSplits: Sendable {
    /// A fixed number of labeled images per class.
    public var labeled: ImageSet
    /// Everything the teacher labels and the student learns from.
    public var unlabeled: UnlabeledPool
    /// For choosing checkpoints and thresholds.
    public var validation: ImageSet
    /// Reported once, at the end.
    public var test: ImageSet
}

/// How to cut a dataset into `DataSplits`.
public struct SplitSpec: Sendable, Codable, Equatable {
    /// Labeled images drawn per class (0 with SVHN: all of train outside validation, the official setup).
    public var labeledPerClass: Int
    /// Images held out for validation, drawn first from the seeded permutation.
    public var validationCount: Int
    /// nil: every image not used for labeled/validation (or the whole extra set for SVHN).
    public var unlabeledCount: Int?
    /// Number of classes (labels 0..<classes).
    public var classes: Int
    /// Seed of the permutation that decides which image goes where.
    public var seed: UInt64

    /// A split; see the properties.
    public init(labeledPerClass: Int, validationCount: Int, unlabeledCount: Int? = nil, classes: Int = 10, seed: UInt64) {
        self.labeledPerClass = labeledPerClass
        self.validationCount = validationCount
        self.unlabeledCount = unlabeledCount
        self.classes = classes
        self.seed = seed
    }
}

/// Cuts datasets into the labeled, unlabeled, validation and test roles, deterministically from a seed.
public enum Splits {
    /// Index sets for a labeled-per-class subset, a validation set and the remainder, from a
    /// seeded permutation. Validation is drawn first so it does not change with the labeled size.
    public static func partition(labels: [Int32], spec: SplitSpec) throws -> (labeled: [Int], validation: [Int], rest: [Int]) {
        var rng = SeededGenerator(seed: spec.seed)
        let order = rng.permutation(labels.count)
        guard spec.validationCount <= labels.count else {
            throw DatasetError.notEnoughData(what: "validation of \(spec.validationCount) from \(labels.count) images")
        }
        let validation = Array(order[0..<spec.validationCount])
        var taken = [Int](repeating: 0, count: spec.classes)
        var labeled: [Int] = []
        var rest: [Int] = []
        for i in order[spec.validationCount...] {
            let c = Int(labels[i])
            if c >= 0 && c < spec.classes && taken[c] < spec.labeledPerClass {
                taken[c] += 1
                labeled.append(i)
            } else {
                rest.append(i)
            }
        }
        if let short = taken.firstIndex(where: { $0 < spec.labeledPerClass }) {
            throw DatasetError.notEnoughData(what: "class \(short) has \(taken[short]) images after validation, \(spec.labeledPerClass) labeled requested")
        }
        // Class-sorted order is avoided: keep the permutation's order inside each role.
        return (labeled, validation, rest)
    }

    /// Splits one training set (Fashion-MNIST, SVHN train without extra, synthetic).
    public static func make(train: ImageSet, test: ImageSet, spec: SplitSpec) throws -> DataSplits {
        let parts = try partition(labels: train.labels, spec: spec)
        var rest = parts.rest
        if let n = spec.unlabeledCount {
            guard n <= rest.count else {
                throw DatasetError.notEnoughData(what: "\(n) unlabeled images requested, \(rest.count) remain")
            }
            rest = Array(rest[0..<n])
        }
        return DataSplits(labeled: train.subset(parts.labeled), unlabeled: UnlabeledPool(train.subset(rest)),
                          validation: train.subset(parts.validation), test: test)
    }

    /// SVHN as the official recipe uses it: labeled and validation from train, unlabeled = extra
    /// (the remainder of train is unused, as in the paper's SVHN setup when `extra` is given).
    public static func svhn(train: ImageSet, extra: ImageSet, test: ImageSet, spec: SplitSpec) throws -> DataSplits {
        let parts = try partition(labels: train.labels, spec: spec)
        var unlabeled = extra
        if let n = spec.unlabeledCount, n < extra.count {
            var rng = SeededGenerator(seed: spec.seed ^ 0x5EED_0F_E7A)
            unlabeled = extra.subset(Array(rng.permutation(extra.count)[0..<n]))
        }
        return DataSplits(labeled: train.subset(parts.labeled), unlabeled: UnlabeledPool(unlabeled),
                          validation: train.subset(parts.validation), test: test)
    }

    /// Synthetic house numbers: labeled, validation and unlabeled come from one stream, the test
    /// set from an independent stream (different seed), all generated on demand.
    public static func synthetic(generator: SyntheticHouseNumbers, spec: SplitSpec, unlabeledCount: Int,
                                 testCount: Int, threads: Int = 1) throws -> DataSplits {
        // Generate enough for the rarest class to reach its labeled count with margin.
        let weights = generator.parameters.classWeights
        let rarest = (weights.min() ?? 1) / weights.reduce(0, +)
        let forLabeled = Int((Double(spec.labeledPerClass) / max(rarest, 1e-6) * 1.3).rounded(.up)) + 100
        let poolCount = spec.validationCount + max(forLabeled, spec.labeledPerClass * spec.classes) + unlabeledCount
        let pool = generator.generate(count: poolCount, seed: spec.seed, threads: threads)
        let parts = try partition(labels: pool.labels, spec: spec)
        guard parts.rest.count >= unlabeledCount else {
            throw DatasetError.notEnoughData(what: "synthetic pool too small for \(unlabeledCount) unlabeled")
        }
        let test = generator.generate(count: testCount, seed: spec.seed ^ 0x7E57_7E57_7E57_7E57, threads: threads)
        return DataSplits(labeled: pool.subset(parts.labeled),
                          unlabeled: UnlabeledPool(pool.subset(Array(parts.rest[0..<unlabeledCount]))),
                          validation: pool.subset(parts.validation), test: test)
    }
}
