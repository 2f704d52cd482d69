import Engine

/// One trained model's results: what the CLI prints and the report charts.
public struct ModelResult: Codable, Sendable, Equatable {
    /// "teacher", "student1", ...
    public var name: String
    public var spec: ModelSpec
    public var test: Evaluation
    /// nil when there is no validation split.
    public var validationTop1: Double?
    public var trainingSeconds: Double
    public var steps: Int
    public var history: [EpochRecord]
    public var parameters: Int
}

/// Pseudo-label quality when keeping only labels at or above a confidence threshold.
public struct ThresholdPoint: Codable, Sendable, Equatable {
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
    public var mode: PseudoLabels.Mode
    public var filter: FilterResult
    /// Confidence of the predicted class for every pool image (histograms).
    public var confidences: [Float]
    /// Whether each pool image's pseudo label is right (empty when true labels are unknown).
    public var correct: [Bool]
    public var seconds: Double

    enum CodingKeys: String, CodingKey { case iteration, mode, filter, confidences, correct, seconds }

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
    public var recipe: Recipe
    public var dataset: String
    public var counts: [String: Int]
    public var teacher: ModelResult
    public var students: [ModelResult]
    public var pseudoLabels: [PseudoLabelStatistics]
    public var seconds: Double

    /// Teacher then students, in order.
    public var models: [ModelResult] { [teacher] + students }
}
