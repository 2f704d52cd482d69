import Testing
import Randomness
@testable import Augment
import Datasets

@Suite struct LoaderTests {
    static let set = SyntheticHouseNumbers().generate(count: 300, seed: 2)

    @Test func prefetchedBatchesEqualSynchronousOnes() {
        let loader = PrefetchingLoader(source: Self.set, batchSize: 64, seed: 5, noise: StudentNoise(),
                                       normalization: .symmetric(channels: 3), workers: 2, prefetch: 3)
        let other = PrefetchingLoader(source: Self.set, batchSize: 64, seed: 5, noise: StudentNoise(),
                                      normalization: .symmetric(channels: 3), workers: 1, prefetch: 1)
        for b in 0..<7 {   // crosses an epoch boundary (300 / 64)
            let x = loader.next()
            let y = other.batch(at: b)
            #expect(x.images == y.images && x.labels == y.labels && x.indices == y.indices)
            #expect(x.images.count == 64 * 3072)
            #expect(x.images.allSatisfy { $0 >= -1 && $0 <= 1 })
            #expect(x.labels == x.indices.map { Self.set.labels[$0] })
        }
        let z = PrefetchingLoader(source: Self.set, batchSize: 64, seed: 6, noise: StudentNoise(),
                                  normalization: .symmetric(channels: 3)).next()
        #expect(z.indices != other.batch(at: 0).indices)
    }

    @Test func epochsCoverEveryImageOnce() {
        let loader = PrefetchingLoader(source: Self.set, batchSize: 50, seed: 1, noise: nil, normalization: .unit(channels: 3))
        var seen: [Int] = []
        for _ in 0..<6 { seen += loader.next().indices }
        #expect(seen.sorted() == Array(0..<300))
        var next: [Int] = []
        for _ in 0..<6 { next += loader.next().indices }
        #expect(next.sorted() == Array(0..<300) && next != seen)
    }

    @Test func cleanOrderedBatchesMatchFloatBatch() {
        let loader = PrefetchingLoader(source: Self.set, batchSize: 32, seed: 1, noise: nil,
                                       normalization: .unit(channels: 3), shuffle: false)
        let b = loader.next()
        #expect(b.indices == Array(0..<32))
        #expect(b.images == Self.set.floatBatch(indices: Array(0..<32), normalization: .unit(channels: 3)).images)
    }
}
