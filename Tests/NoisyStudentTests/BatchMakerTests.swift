import Augment
import Datasets
import Engine
import Testing
@testable import NoisyStudent

/// Training's one batch pipeline (`BatchMaker` behind `Prefetcher`): the tests that used to
/// cover Augment's separate prefetching loader, now on the batches training really runs.
@Suite struct BatchMakerTests {
    static let set = SyntheticHouseNumbers().generate(count: 300, seed: 2)

    static func maker(seed: UInt64, batchSize: Int = 64, noise: StudentNoise? = StudentNoise(), ratio: Int = 0) -> BatchMaker {
        var oneHot = [Float](repeating: 0, count: set.count * 10)
        for (i, label) in set.labels.enumerated() { oneHot[i * 10 + Int(label)] = 1 }
        let pseudo = PseudoLabeledSet(pool: set, indices: Array(0..<set.count).reversed(), targets: oneHot, classes: 10)
        let data = TrainingData(labeled: set, pseudoLabeled: ratio > 0 ? pseudo : nil, normalization: .symmetric(channels: 3),
                                augmenter: noise)
        return BatchMaker(data: data, batchSize: batchSize, unlabeledRatio: ratio, seed: seed,
                          stepsPerEpoch: (set.count + batchSize - 1) / batchSize)
    }

    @Test func prefetchedBatchesEqualSynchronousOnes() {
        let maker = Self.maker(seed: 5, ratio: 2)
        let prefetch = Prefetcher { maker.batch(step: $0) }
        for step in 0..<7 {   // crosses an epoch boundary (300 / 64)
            let x = prefetch.item(step)
            let y = Self.maker(seed: 5, ratio: 2).batch(step: step)
            #expect(x.images.scalars == y.images.scalars && x.labels == y.labels)
            #expect(x.unlabeledTargets?.scalars == y.unlabeledTargets?.scalars)
            #expect(x.images.shape == [64 * 3, 32, 32, 3] && x.labels.count == 64)
            #expect(x.images.scalars.allSatisfy { $0 >= -1 && $0 <= 1 })
            #expect(x.labels == maker.labeledIndices(step: step).map { Int(Self.set.labels[$0]) })
        }
        #expect(Self.maker(seed: 6).labeledIndices(step: 0) != maker.labeledIndices(step: 0))
    }

    @Test func epochsCoverEveryLabeledImageOnce() {
        let maker = Self.maker(seed: 1, batchSize: 50, noise: nil)
        let first = (0..<6).flatMap { maker.labeledIndices(step: $0) }
        #expect(first.sorted() == Array(0..<300))
        let second = (6..<12).flatMap { maker.labeledIndices(step: $0) }
        #expect(second.sorted() == Array(0..<300) && second != first)
    }

    @Test func cleanBatchesAreTheNormalisedImages() {
        let maker = Self.maker(seed: 1, batchSize: 32, noise: nil)
        let b = maker.batch(step: 3)
        let indices = maker.labeledIndices(step: 3)
        #expect(b.images.scalars == Self.set.floatBatch(indices: indices, normalization: .symmetric(channels: 3)).images)
        #expect(b.unlabeledTargets == nil)
    }
}
