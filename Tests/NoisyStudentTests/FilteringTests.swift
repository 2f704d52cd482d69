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
        let hard = PseudoLabelFilter.trainingSet(l, r, pool: .init(height: 1, width: 1, channels: 1), mode: .hard)
        #expect(hard.targets == [1, 0, 0, 0, 1, 0, 0, 0, 1])
        let soft = PseudoLabelFilter.trainingSet(l, r, pool: .init(height: 1, width: 1, channels: 1), mode: .soft)
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
