import Testing
import NoisyStudent

@Suite struct FilteringTests {
    /// Rows: (predicted class, confidence) for 3 classes.
    func labels(_ rows: [(Int, Float)]) -> PseudoLabels {
        var p: [Float] = []
        for (c, conf) in rows {
            var r = [Float](repeating: (1 - conf) / 2, count: 3)
            r[c] = conf
            p += r
        }
        return PseudoLabels(classes: 3, indices: Array(0..<rows.count), probabilities: p)
    }

    @Test func thresholdThenBalanceByConfidenceAndDuplication() {
        let l = labels([(0, 0.9), (0, 0.8), (0, 0.7), (0, 0.35), (0, 0.34), (1, 0.95), (2, 0.6), (2, 0.5), (2, 0.34)])
        let r = PseudoLabelFilter.apply(l, settings: FilterSettings(threshold: 0.4, perClass: 2), trueLabels: nil, seed: 1)
        #expect(r.predictedPerClass == [5, 1, 3])
        #expect(r.keptPerClass == [3, 1, 2])          // confidence >= 0.4
        #expect(r.finalPerClass == [2, 2, 2])
        #expect(Array(r.rows[0..<2]) == [0, 1])       // the two most confident of class 0
        #expect(Array(r.rows[2..<4]) == [5, 5])       // class 1 duplicated
        #expect(Set(r.rows[4..<6]) == [6, 7])
        #expect(r.copies(rowCount: 9) == [1, 1, 0, 0, 0, 2, 1, 1, 0])
        // Class 0 is over-full: its threshold rises on the 0.01 grid to 0.80, where exactly 2 remain.
        #expect(r.classThresholds == [0.8, 0.4, 0.5] && r.rule == .officialResampling)
    }

    /// `filter_unlabel.py`, over-full class: the threshold rises to the highest grid value that
    /// keeps >= K images, then each image at or above it is kept with probability K / count.
    /// (A strict top-K would always keep the five most confident images.)
    @Test func overFullClassKeepsEachImageAboveTheRaisedThresholdWithProbabilityKOverCount() {
        // Class 0: five images at 0.95, ten at 0.855; K = 10. At 0.86 only 5 remain, at 0.85 15.
        let l = labels(Array(repeating: (0, Float(0.95)), count: 5) + Array(repeating: (0, Float(0.855)), count: 10) + [(1, 0.9)])
        var keptTop = 0, keptAll = 0, totals = Set<Int>()
        let seeds = 400
        for seed in 0..<seeds {
            let r = PseudoLabelFilter.apply(l, settings: FilterSettings(threshold: 0.3, perClass: 10), trueLabels: nil, seed: UInt64(seed))
            #expect(r.classThresholds[0] == 0.85)
            let copies = r.copies(rowCount: 16)
            #expect(copies[0..<15].allSatisfy { $0 <= 1 })
            keptTop += copies[0..<5].reduce(0, +); keptAll += copies[0..<15].reduce(0, +)
            totals.insert(r.finalPerClass[0])
        }
        let pTop = Double(keptTop) / Double(5 * seeds), mean = Double(keptAll) / Double(seeds)
        #expect(abs(pTop - 2.0 / 3.0) < 0.05, "the most confident images are kept with p = 10/15, got \(pTop)")
        #expect(abs(mean - 10) < 0.4, "K images per class in expectation, got \(mean)")
        #expect(totals.count > 3, "the count per class varies from seed to seed: \(totals)")
    }

    /// Under-full class: floor(K/n) copies of each image plus one more with probability frac(K/n).
    /// (Whole copies plus a sample without replacement would always give exactly K.)
    @Test func underFullClassGetsFloorCopiesPlusABernoulliCopy() {
        let l = labels([(0, 0.9), (0, 0.8), (0, 0.7), (0, 0.6), (1, 0.99), (2, 0.34)])
        var threes = 0, totals = Set<Int>(), sum = 0
        let seeds = 400
        for seed in 0..<seeds {
            let r = PseudoLabelFilter.apply(l, settings: FilterSettings(threshold: 0.35, perClass: 10), trueLabels: nil, seed: UInt64(seed))
            let copies = r.copies(rowCount: 6)
            #expect(copies[0..<4].allSatisfy { $0 == 2 || $0 == 3 }, "\(copies)")
            #expect(copies[4] == 10 && copies[5] == 0)   // 10/1 = 10 copies exactly; below the threshold: none
            #expect(r.classThresholds[0] == 0.35 && r.finalPerClass[2] == 0)
            threes += copies[0..<4].filter { $0 == 3 }.count
            totals.insert(r.finalPerClass[0]); sum += r.finalPerClass[0]
        }
        #expect(abs(Double(threes) / Double(4 * seeds) - 0.5) < 0.05)
        #expect(abs(Double(sum) / Double(seeds) - 10) < 0.3 && totals.count > 2, "\(totals)")
        // Seeded: the same seed draws the same copies.
        let a = PseudoLabelFilter.apply(l, settings: FilterSettings(perClass: 10), trueLabels: nil, seed: 7)
        #expect(a == PseudoLabelFilter.apply(l, settings: FilterSettings(perClass: 10), trueLabels: nil, seed: 7))
    }

    /// Targets are made after filtering: the temperature sharpens soft targets (p^(1/T),
    /// renormalised, as `main.py` does), and hard targets carry the labeled loss's smoothing.
    @Test func temperatureAndLabelSmoothingShapeTheTargetsOnly() {
        let l = PseudoLabels(classes: 3, indices: [0], probabilities: [0.6, 0.3, 0.1])
        let sharp = l.target(0, mode: .soft, temperature: 0.5, labelSmoothing: 0.1)
        let z: Float = 0.36 + 0.09 + 0.01
        for (got, want) in zip(sharp, [Float(0.36) / z, Float(0.09) / z, Float(0.01) / z]) { #expect(abs(got - want) < 1e-6, "\(sharp)") }
        #expect(l.target(0, mode: .soft, temperature: 1, labelSmoothing: 0.1) == [0.6, 0.3, 0.1])
        let hard = l.target(0, mode: .hard, temperature: 0.5, labelSmoothing: 0.1)
        let third: Float = 0.1 / 3
        for (got, want) in zip(hard, [0.9 + third, third, third]) { #expect(abs(got - want) < 1e-6, "\(hard)") }
        // The filter reads the probabilities: the temperature cannot move an image across the threshold.
        let r = PseudoLabelFilter.apply(l, settings: FilterSettings(threshold: 0.7, balance: false), trueLabels: nil, seed: 0)
        #expect(r.rows.isEmpty)
        var recipe = Recipe.preset(.tiny)
        recipe.temperature = 0.5; recipe.pseudoLabelMode = .hard; recipe.studentTraining.labelSmoothing = 0.1
        let kept = PseudoLabelFilter.apply(l, settings: FilterSettings(threshold: 0.5, balance: false), trueLabels: nil, seed: 0)
        #expect(recipe.studentSet(l, kept, pool: .init(height: 1, width: 1, channels: 1)).targets == hard)
    }

    @Test func thresholdNeverBelowTheMinimum() {
        let l = labels([(0, 0.34), (1, 0.36), (2, 0.9)])
        let r = PseudoLabelFilter.apply(l, settings: FilterSettings(threshold: 0.1, minimumThreshold: 0.35, balance: false),
                                        trueLabels: nil, seed: 0)
        #expect(r.threshold == 0.35 && r.rows.sorted() == [1, 2])
    }

    @Test func accuracyUsesHeldAsideLabelsOnly() {
        let l = labels([(0, 0.9), (1, 0.9), (2, 0.34), (2, 0.9)])
        let r = PseudoLabelFilter.apply(l, settings: FilterSettings(threshold: 0.5, balance: false),
                                        trueLabels: [0, 2, 2, -1], seed: 0)
        #expect(r.accuracyAll == 100 * 2.0 / 3.0)     // row 3's truth unknown
        #expect(r.accuracyKept == 50)                 // rows 0 (right), 1 (wrong); row 3 unknown
        let hard = PseudoLabelFilter.trainingSet(l, r, pool: .init(height: 1, width: 1, channels: 1), mode: .hard,
                                                 temperature: 1, labelSmoothing: 0)
        #expect(hard.targets == [1, 0, 0, 0, 1, 0, 0, 0, 1])
        let soft = PseudoLabelFilter.trainingSet(l, r, pool: .init(height: 1, width: 1, channels: 1), mode: .soft,
                                                 temperature: 1, labelSmoothing: 0)
        #expect(soft.targets[0] == 0.9 && abs(soft.targets[1] - 0.05) < 1e-6)
    }

    @Test func shardsCoverThePoolAndMergeBack() throws {
        let n = 103
        let ranges = (0..<4).map { PseudoLabels.shardRange(count: n, shard: $0, shards: 4) }
        #expect(ranges.map(\.count).reduce(0, +) == n && ranges.first?.lowerBound == 0 && ranges.last?.upperBound == n)
        let full = labels((0..<n).map { ($0 % 3, Float($0 % 7) / 10 + 0.3) })
        let shards = ranges.map { r in
            PseudoLabels(classes: 3, indices: Array(r), probabilities: Array(full.probabilities[(r.lowerBound * 3)..<(r.upperBound * 3)]))
        }
        #expect(try PseudoLabels.merge(shards.reversed(), poolCount: n) == full)
        #expect(throws: PipelineError.self) { try PseudoLabels.merge(Array(shards.dropLast()), poolCount: n) }
        #expect(throws: PipelineError.self) { try PseudoLabels.merge([shards[0], shards[0]], poolCount: nil) }
    }
}
