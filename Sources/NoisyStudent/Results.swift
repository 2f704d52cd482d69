import Engine

/// One trained model's results: what the CLI prints and the report charts.
public struct ModelResult: Codable, Sendable, Equatable {
    /// "teacher", "student1", ...
    public var name: String
    /// The architecture.
    public var spec: ModelSpec
    /// Top-1, calibration and per-class results on the test split.
    public var test: Evaluation
    /// nil when there is no validation split.
    public var validationTop1: Double?
    /// Wall time of training, in seconds.
    public var trainingSeconds: Double
    /// Optimizer steps taken.
    public var steps: Int
    /// One record per epoch.
    public var history: [EpochRecord]
    /// Trainable scalars.
    public var parameters: Int
}

/// Pseudo-label quality when keeping only labels at or above a confidence threshold.
public struct ThresholdPoint: Codable, Sendable, Equatable {
    /// Confidence threshold (0-1).
    public var threshold: Double
    /// Percent of the pool kept.
    public var kept: Double
    /// Percent of the kept labels that are right (nil when nothing is kept or truth is unknown).
    public var accuracy: Double?
}

/// What the teacher's labels looked like before a student trained on them.
public struct PseudoLabelStatistics: Codable, Sendable, Equatable {
    /// The iteration whose student learns from these labels (1 = labels of the first teacher).
    public var iteration: Int
    /// Soft or hard labels.
    public var mode: PseudoLabels.Mode
    /// What filtering and balancing kept (`filter_unlabel.py`); its row list is not encoded.
    public var filter: FilterResult
    /// Confidence of the predicted class for every pool image (histograms).
    public var confidences: [Float]
    /// Whether each pool image's pseudo label is right (empty when true labels are unknown).
    public var correct: [Bool]
    /// Wall time of labelling and filtering, in seconds.
    public var seconds: Double

    enum CodingKeys: String, CodingKey { case iteration, mode, filter, confidences, correct, seconds }

    /// Statistics from their parts.
    public init(iteration: Int, mode: PseudoLabels.Mode, filter: FilterResult, confidences: [Float], correct: [Bool], seconds: Double) {
        self.iteration = iteration; self.mode = mode; self.filter = filter; self.confidences = confidences
        self.correct = correct; self.seconds = seconds
    }

    /// Accuracy and coverage of the pseudo labels as the threshold rises.
    public func thresholdCurve(_ thresholds: [Double] = stride(from: 0.1, through: 0.951, by: 0.05).map { $0 }) -> [ThresholdPoint] {
        thresholds.map { t in
            var kept = 0, right = 0
            for (i, c) in confidences.enumerated() where Double(c) >= t {
                kept += 1
                if i < correct.count && correct[i] { right += 1 }
            }
            let n = max(confidences.count, 1)
            return ThresholdPoint(threshold: t, kept: 100 * Double(kept) / Double(n),
                                  accuracy: kept > 0 && !correct.isEmpty ? 100 * Double(right) / Double(kept) : nil)
        }
    }

    /// Encodes every field but `filter.rows` (large; the run folder keeps it), so a decoded value
    /// has an empty row list. Throws what the encoder throws.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(iteration, forKey: .iteration); try c.encode(mode, forKey: .mode)
        var lean = filter
        lean.rows = []  // the row list is large and lives in the run folder; counts suffice here
        try c.encode(lean, forKey: .filter); try c.encode(confidences, forKey: .confidences)
        try c.encode(correct, forKey: .correct); try c.encode(seconds, forKey: .seconds)
    }
}

/// A whole Noisy Student run.
public struct RunResult: Codable, Sendable, Equatable {
    /// The recipe the run followed.
    public var recipe: Recipe
    /// The data's description (`DatasetChoice.description`).
    public var dataset: String
    /// Images per split: labeled, unlabeled, validation, test.
    public var counts: [String: Int]
    /// The supervised teacher.
    public var teacher: ModelResult
    /// One noisy student per iteration, in order.
    public var students: [ModelResult]
    /// The pseudo labels each student learned from, in order.
    public var pseudoLabels: [PseudoLabelStatistics]
    /// Wall time of the whole run, in seconds.
    public var seconds: Double

    /// Teacher then students, in order.
    public var models: [ModelResult] { [teacher] + students }
}

/// Mean and sample standard deviation of a few values (one per seed), with the values.
public struct MeanStd: Codable, Sendable, Equatable {
    /// Arithmetic mean (0 for no values).
    public var mean: Double
    /// Sample standard deviation (n - 1 in the denominator; 0 for fewer than two values).
    public var std: Double
    /// The values, in order (e.g. seed by seed).
    public var values: [Double]

    /// The statistics of `values`.
    public init(_ values: [Double]) {
        let m = values.reduce(0, +) / Double(max(values.count, 1))
        let s = values.count > 1 ? (values.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(values.count - 1)).squareRoot() : 0
        self.mean = m; self.std = s; self.values = values
    }
}

/// One model (teacher, student1, ...) over the seeds' runs: test top-1, validation top-1 and
/// calibration error in percent, training time in seconds.
public struct ModelOverSeeds: Codable, Sendable, Equatable {
    /// Test top-1 (%).
    public var top1: MeanStd
    /// Validation top-1 (%; NaN values for runs without a validation split).
    public var validation: MeanStd
    /// Expected calibration error on the test split (%).
    public var ece: MeanStd
    /// Training time (s).
    public var seconds: MeanStd

    /// The statistics of the same model of several runs.
    public init(_ models: [ModelResult]) {
        top1 = MeanStd(models.map(\.test.top1))
        validation = MeanStd(models.map { $0.validationTop1 ?? .nan })
        ece = MeanStd(models.map(\.test.calibrationError))
        seconds = MeanStd(models.map(\.trainingSeconds))
    }

    /// Each model of the runs by name (`RunFolder.modelName`), over the runs. The runs must
    /// have the same iterations.
    public static func table(_ runs: [RunResult]) -> [String: ModelOverSeeds] {
        guard let first = runs.first else { return [:] }
        var table: [String: ModelOverSeeds] = [:]
        for (k, m) in first.models.enumerated() { table[m.name] = ModelOverSeeds(runs.map { $0.models[k] }) }
        return table
    }
}

extension ModelResult {
    /// Test top-1 (%) below which a student never left the near-chance start of training
    /// (chance is 10%, the largest class about 19%); the report names such runs instead of
    /// hiding them in a mean.
    public static let stalledBelowTop1 = 30.0

    /// Whether a test top-1 (%) is a stalled student's (`stalledBelowTop1`).
    public static func isStalled(top1: Double) -> Bool { top1 < stalledBelowTop1 }
}
