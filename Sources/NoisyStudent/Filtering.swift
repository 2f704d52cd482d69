import Datasets
import Randomness

/// Confidence filtering and class balancing of pseudo labels, as the official
/// `filter_unlabel.py` (google-research/noisystudent) does it; see `PseudoLabelFilter.apply`.
public struct FilterSettings: Codable, Hashable, Sendable {
    /// Base confidence threshold (the official `--min_threshold`, 0.3 for SVHN).
    public var threshold: Float
    /// The threshold is never lower than this (the official code's floor).
    public var minimumThreshold: Float
    /// Whether to balance classes with `filter_unlabel.py`'s resampling to `perClass` images;
    /// false keeps every image at or above the threshold once (`FilterRule.thresholdOnly`).
    public var balance: Bool
    /// Images per class after balancing (the official `--num_image`); nil = pool size / classes
    /// (the official SVHN setting, 531,131 / 10 = 53,113).
    public var perClass: Int?

    /// Defaults are the official SVHN filter: threshold 0.3, balanced to pool size / classes.
    public init(threshold: Float = 0.3, minimumThreshold: Float = 0.3, balance: Bool = true, perClass: Int? = nil) {
        self.threshold = threshold; self.minimumThreshold = minimumThreshold; self.balance = balance; self.perClass = perClass
    }

    /// The base threshold actually applied: the larger of `threshold` and `minimumThreshold`.
    public var effectiveThreshold: Float { max(threshold, minimumThreshold) }

    /// No filtering and no balancing (an ablation).
    public static let none = FilterSettings(threshold: 0, minimumThreshold: 0, balance: false)
}

/// Which rule turned the teacher's labels into the student's unlabeled set.
public enum FilterRule: String, Codable, Sendable, Equatable, CustomStringConvertible {
    /// Every image at or above the base threshold, once.
    case thresholdOnly
    /// `filter_unlabel.py`: per predicted class a threshold raised on the 0.01 grid, then a
    /// seeded random number of copies of each image at or above it (expected K per class).
    case officialResampling

    /// A sentence describing the rule, for the report.
    public var description: String {
        switch self {
        case .thresholdOnly: return "threshold only: every image at or above the confidence threshold, once (no balancing)"
        case .officialResampling:
            return "the official filter_unlabel.py rule: per predicted class with target K, an over-full class raises its "
                + "threshold on a 0.01 grid to the highest value that still keeps K images and keeps each image at or above it "
                + "with probability K/count; an under-full class gets floor(K/n) copies of each image plus one more with "
                + "probability frac(K/n)"
        }
    }
}

/// What filtering kept, and how good the kept labels are.
public struct FilterResult: Codable, Sendable, Equatable {
    /// Rows of the pseudo labels used for training, in training order; repeats are duplicates.
    public var rows: [Int]
    /// Per predicted class: images predicted, images at or above the base threshold, images
    /// (copies counted) after balancing.
    public var predictedPerClass: [Int]
    /// Per predicted class: images at or above the base threshold (before balancing).
    public var keptPerClass: [Int]
    /// Per predicted class: rows in `rows` after balancing, copies counted.
    public var finalPerClass: [Int]
    /// Accuracy (percent) of the pseudo labels against the held-aside true labels: over the
    /// whole pool, and over the kept images (nil when true labels are unknown).
    public var accuracyAll: Double?
    /// Accuracy (percent) over the kept rows, copies counted; nil when no kept row has a known label.
    public var accuracyKept: Double?
    /// The base threshold.
    public var threshold: Float
    /// Per predicted class, the threshold balancing used (above the base for over-full classes).
    public var classThresholds: [Float]
    /// The rule that produced `rows` (official resampling when `balance` was on).
    public var rule: FilterRule

    /// How many times each row appears in `rows` (0 = filtered out).
    public func copies(rowCount: Int) -> [Int] {
        var c = [Int](repeating: 0, count: rowCount)
        for r in rows { c[r] += 1 }
        return c
    }
}

/// The pseudo-label filter of the official `filter_unlabel.py` (the paper's "data filtering and
/// balancing", section 2), and the student's training set built from its result.
public enum PseudoLabelFilter {
    /// The candidate thresholds of `filter_unlabel.py` at or above `base`: the base itself and
    /// every point of the grid 0.00, 0.01, ..., 1.00 above it, ascending.
    static func thresholdGrid(above base: Float) -> [Float] {
        [base] + (0...100).map { Float($0) / 100 }.filter { $0 > base }
    }

    /// Filters and balances `labels` as `filter_unlabel.py` does (`get_threshold`,
    /// `get_keep_image_idx`). Per predicted class with target K (`settings.perClass`, default
    /// pool / classes) and base threshold t0:
    /// - over-full (at least K images at or above t0): the threshold rises on the 0.01 grid to
    ///   the highest t that still keeps at least K images; each of the `count` images at or
    ///   above t is kept with probability K / count;
    /// - under-full (n < K images at or above t0): each gets floor(K/n) copies plus one more
    ///   with probability frac(K/n).
    /// Both are one formula: copies = floor(K/count) + Bernoulli(frac(K/count)), one draw per
    /// image, most confident first, from a generator seeded by `seed`. So a class ends with K
    /// images in expectation, not exactly.
    /// - Parameter trueLabels: held-aside labels by pool index (-1 or absent when unknown), used
    ///   only to measure pseudo-label accuracy, never to choose images.
    public static func apply(_ labels: PseudoLabels, settings: FilterSettings, trueLabels: [Int32]?,
                             seed: UInt64) -> FilterResult {
        let classes = labels.classes
        let base = settings.effectiveThreshold
        var byClass = [[(row: Int, confidence: Float)]](repeating: [], count: classes)
        var predicted = [Int](repeating: 0, count: classes)
        var correctAll = 0, knownAll = 0
        for k in 0..<labels.count {
            let (c, conf) = labels.prediction(k)
            predicted[c] += 1
            if let t = trueLabels, labels.indices[k] < t.count, t[labels.indices[k]] >= 0 {
                knownAll += 1
                if Int(t[labels.indices[k]]) == c { correctAll += 1 }
            }
            if conf >= base { byClass[c].append((k, conf)) }
        }
        let kept = byClass.map(\.count)
        var rows: [Int] = []
        var final = [Int](repeating: 0, count: classes)
        var classThresholds = [Float](repeating: base, count: classes)
        var rng = SeededGenerator(seed: seed ^ 0xF117_E12)
        let target = settings.perClass ?? max(1, labels.count / classes)
        let grid = thresholdGrid(above: base)
        for c in 0..<classes {
            // Most confident first (ties by row, so the order and the draws are deterministic).
            let members = byClass[c].sorted { $0.confidence != $1.confidence ? $0.confidence > $1.confidence : $0.row < $1.row }
            guard settings.balance else { rows += members.map(\.row); final[c] = members.count; continue }
            guard !members.isEmpty else { continue }  // nothing to copy: the class stays empty
            // The highest grid threshold that still keeps K images (the base when none does).
            let t = grid.last { t in members.lazy.filter { $0.confidence >= t }.count >= target } ?? base
            classThresholds[c] = t
            let chosen = members.filter { $0.confidence >= t }
            let ratio = Double(target) / Double(chosen.count)
            let whole = Int(ratio.rounded(.down)), fraction = ratio - Double(whole)
            for m in chosen {
                let copies = whole + (Double(rng.uniform()) < fraction ? 1 : 0)
                rows += repeatElement(m.row, count: copies)
                final[c] += copies
            }
        }
        var correctKept = 0, knownKept = 0
        if let t = trueLabels {
            for r in rows where labels.indices[r] < t.count && t[labels.indices[r]] >= 0 {
                knownKept += 1
                if Int(t[labels.indices[r]]) == labels.prediction(r).label { correctKept += 1 }
            }
        }
        return FilterResult(rows: rows, predictedPerClass: predicted, keptPerClass: kept, finalPerClass: final,
                            accuracyAll: knownAll > 0 ? 100 * Double(correctAll) / Double(knownAll) : nil,
                            accuracyKept: knownKept > 0 ? 100 * Double(correctKept) / Double(knownKept) : nil,
                            threshold: base, classThresholds: classThresholds,
                            rule: settings.balance ? .officialResampling : .thresholdOnly)
    }

    /// The student's unlabeled training set: kept images with their targets (see
    /// `PseudoLabels.target`: temperature and label smoothing act here, after filtering).
    public static func trainingSet(_ labels: PseudoLabels, _ result: FilterResult, pool: ImageSet,
                                   mode: PseudoLabels.Mode, temperature: Float, labelSmoothing: Float) -> PseudoLabeledSet {
        var targets: [Float] = []
        targets.reserveCapacity(result.rows.count * labels.classes)
        for r in result.rows { targets += labels.target(r, mode: mode, temperature: temperature, labelSmoothing: labelSmoothing) }
        return PseudoLabeledSet(pool: pool, indices: result.rows.map { labels.indices[$0] }, targets: targets, classes: labels.classes)
    }
}
