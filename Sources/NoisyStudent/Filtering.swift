import Datasets
import Randomness

/// Confidence filtering and class balancing of pseudo labels, as the official `filter_unlabel`
/// and the paper (section 3) do it: per predicted class keep the images whose confidence clears
/// the threshold; then bring every class to the same count, taking the most confident images of
/// over-full classes and duplicating the images of under-full ones.
public struct FilterSettings: Codable, Hashable, Sendable {
    public var threshold: Float
    /// The threshold is never lower than this (the official code's floor).
    public var minimumThreshold: Float
    public var balance: Bool
    /// Images per class after balancing; nil = pool size / classes (the official SVHN setting,
    /// 531,131 / 10 = 53,113).
    public var perClass: Int?

    public init(threshold: Float = 0.3, minimumThreshold: Float = 0.3, balance: Bool = true, perClass: Int? = nil) {
        self.threshold = threshold; self.minimumThreshold = minimumThreshold; self.balance = balance; self.perClass = perClass
    }

    public var effectiveThreshold: Float { max(threshold, minimumThreshold) }

    /// No filtering and no balancing (an ablation).
    public static let none = FilterSettings(threshold: 0, minimumThreshold: 0, balance: false)
}

/// What filtering kept, and how good the kept labels are.
public struct FilterResult: Codable, Sendable, Equatable {
    /// Rows of the pseudo labels used for training, in training order; repeats are duplicates.
    public var rows: [Int]
    /// Per predicted class: images predicted, images above the threshold, images after balancing.
    public var predictedPerClass: [Int]
    public var keptPerClass: [Int]
    public var finalPerClass: [Int]
    /// Accuracy (percent) of the pseudo labels against the held-aside true labels: over the
    /// whole pool, and over the kept images (nil when true labels are unknown).
    public var accuracyAll: Double?
    public var accuracyKept: Double?
    public var threshold: Float

    /// How many times each row appears in `rows` (0 = filtered out).
    public func copies(rowCount: Int) -> [Int] {
        var c = [Int](repeating: 0, count: rowCount)
        for r in rows { c[r] += 1 }
        return c
    }
}

public enum PseudoLabelFilter {
    /// - Parameter trueLabels: held-aside labels by pool index (-1 or absent when unknown), used
    ///   only to measure pseudo-label accuracy, never to choose images.
    public static func apply(_ labels: PseudoLabels, settings: FilterSettings, trueLabels: [Int32]?,
                             seed: UInt64) -> FilterResult {
        let classes = labels.classes
        let threshold = settings.effectiveThreshold
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
            if conf >= threshold { byClass[c].append((k, conf)) }
        }
        let kept = byClass.map(\.count)
        var rows: [Int] = []
        var final = [Int](repeating: 0, count: classes)
        var rng = SeededGenerator(seed: seed ^ 0xF117_E12)
        let target = settings.perClass ?? max(1, labels.count / classes)
        for c in 0..<classes {
            // Most confident first (ties by row, so the order is deterministic).
            let members = byClass[c].sorted { $0.confidence != $1.confidence ? $0.confidence > $1.confidence : $0.row < $1.row }.map(\.row)
            guard settings.balance else { rows += members; final[c] = members.count; continue }
            guard !members.isEmpty else { continue }  // nothing to duplicate: the class stays empty
            if members.count >= target {
                rows += members.prefix(target)
            } else {
                // Whole copies, then a seeded sample without replacement for the remainder.
                for _ in 0..<(target / members.count) { rows += members }
                let rest = target % members.count
                let perm = rng.permutation(members.count)
                rows += perm.prefix(rest).map { members[$0] }
            }
            final[c] = target
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
                            threshold: threshold)
    }

    /// The student's unlabeled training set: kept images with their targets.
    public static func trainingSet(_ labels: PseudoLabels, _ result: FilterResult, pool: ImageSet,
                                   mode: PseudoLabels.Mode) -> PseudoLabeledSet {
        var targets: [Float] = []
        targets.reserveCapacity(result.rows.count * labels.classes)
        for r in result.rows { targets += labels.target(r, mode: mode) }
        return PseudoLabeledSet(pool: pool, indices: result.rows.map { labels.indices[$0] }, targets: targets, classes: labels.classes)
    }
}
