import Engine
import Testing
@testable import NoisyStudent

/// A rank of a group whose allreduce is the identity (enough to test the shares and slicing).
final class FakeRank: DataParallelGroup {
    let rank: Int, size: Int
    init(_ rank: Int, of size: Int) { self.rank = rank; self.size = size }
    func allReduceSum(_ buffer: inout [Float]) {}
}

@Suite struct DataParallelTests {
    @Test func sharesCoverTheBatchOnceInOrder() {
        for size in 1...5 {
            let rows = (0..<size).flatMap { Array(FakeRank($0, of: size).share(of: 13)) }
            #expect(rows == Array(0..<13))
        }
    }

    @Test func localBatchesJoinToTheGlobalBatch() {
        // 6 labeled + 9 unlabeled rows of 2 floats each; row r holds (r, -r).
        let images = Tensor(shape: [15, 1, 1, 2], scalars: (0..<15).flatMap { [Float($0), -Float($0)] })
        let targets = Tensor(shape: [9, 2], scalars: (0..<18).map(Float.init))
        let global = TrainingBatch(images: images, labels: Array(0..<6), unlabeledTargets: targets)
        let parts = (0..<2).map { FakeRank($0, of: 2).localBatch(global) }
        #expect(parts.map(\.labels) == [[0, 1, 2], [3, 4, 5]])
        #expect(parts.map { $0.images.shape[0] } == [7, 8])
        let rows = parts.flatMap { p in (0..<p.images.shape[0]).map { Int(p.images.scalars[2 * $0]) } }
        #expect(rows == [0, 1, 2, 6, 7, 8, 9, 3, 4, 5, 10, 11, 12, 13, 14])
        #expect(parts.compactMap { $0.unlabeledTargets?.scalars }.joined().map { $0 } == targets.scalars)
    }

    @Test func synchronizeSumsGradientsAndAveragesStatistics() {
        let weight = Parameter(Tensor(shape: [2], scalars: [1, 2]))
        weight.grad = Tensor(shape: [2], scalars: [0.5, -1])
        let running = Parameter(Tensor(shape: [1], scalars: [4]), trainable: false)
        // Two ranks with the same buffers: sums are doubled, averages unchanged.
        final class Doubling: DataParallelGroup {
            let rank = 0, size = 2
            func allReduceSum(_ buffer: inout [Float]) { buffer = buffer.map { 2 * $0 } }
        }
        let loss = Doubling().synchronize([weight, running], localLoss: 0.25)
        #expect(loss == 0.5)
        #expect(weight.grad.scalars == [1, -2])
        #expect(weight.value.scalars == [1, 2])
        #expect(running.value.scalars == [4])
    }
}
