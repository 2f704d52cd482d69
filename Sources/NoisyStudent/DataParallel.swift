import Engine

/// Processes that train one model together, data-parallel (e.g. the ranks of an `mpirun`): each
/// computes the gradient of its share of every global batch, and the shares' gradients are
/// summed so that every process applies the same update to the same weights. The training
/// code sees only this; the MPI implementation lives in its own target (`MPIGroup`). Its
/// `allReduceSum` of Doubles (`BatchStatisticsReducer`) serves synchronised batch norm.
public protocol DataParallelGroup: BatchStatisticsReducer {
    /// This process, 0..<size. Rank 0 alone writes checkpoints and results.
    var rank: Int { get }
    var size: Int { get }
    /// Replaces `buffer` on every process by the element-wise sum of all processes' buffers
    /// (the same result on each: an allreduce).
    func allReduceSum(_ buffer: inout [Float])
}

/// How batch norm takes its batch statistics when processes share a global batch.
public enum BatchNormStatistics: String, CaseIterable, Codable, Sendable {
    /// Over the global batch: each batch norm's per-channel sums are added over the processes
    /// (`BatchStatisticsReducer`), so N processes compute what one process would, up to float
    /// rounding. The default.
    case synchronised
    /// Over each process's own rows, as the official TPU code does (per-core statistics): no
    /// extra communication, but N processes are not the 1-process computation.
    case perRank = "per-rank"
}

extension DataParallelGroup {
    /// The rows of `count` that this process takes: contiguous, sizes differing by at most one.
    public func share(of count: Int) -> Range<Int> {
        (count * rank / size)..<(count * (rank + 1) / size)
    }

    /// This process's rows of a global batch: its share of the labeled rows and of the
    /// unlabeled rows. The global batch itself (order, augmentation) is built from (seed, step)
    /// alone, so it does not depend on the number of processes.
    func localBatch(_ batch: TrainingBatch) -> TrainingBatch {
        let n = batch.labeledCount, total = batch.images.shape[0]
        let labeled = share(of: n), unlabeled = share(of: total - n)
        let rows = localRows(of: batch).indices
        let rowSize = batch.images.count / max(total, 1)
        var scalars: [Float] = []
        scalars.reserveCapacity(rows.count * rowSize)
        for r in rows { scalars += batch.images.scalars[(r * rowSize)..<((r + 1) * rowSize)] }
        var shape = batch.images.shape
        shape[0] = rows.count
        var targets: Tensor? = nil
        if let t = batch.unlabeledTargets {
            let classes = t.shape[1]
            targets = Tensor(shape: [unlabeled.count, classes],
                             scalars: Array(t.scalars[(unlabeled.lowerBound * classes)..<(unlabeled.upperBound * classes)]))
        }
        return TrainingBatch(images: Tensor(shape: shape, scalars: scalars), labels: Array(batch.labels[labeled]),
                             unlabeledTargets: targets)
    }

    /// Where `localBatch(batch)`'s rows sit in `batch`: its labeled share, then its unlabeled share.
    func localRows(of batch: TrainingBatch) -> GlobalRows {
        let n = batch.labeledCount, total = batch.images.shape[0]
        return GlobalRows(indices: Array(share(of: n)) + share(of: total - n).map { n + $0 }, count: total)
    }

    /// After each process's backward pass on its share (with the loss weighted by the share's
    /// size): sums the trainable parameters' gradients over processes, averages the tracked
    /// state (batch-norm running statistics, computed per process from its own rows), and
    /// returns the sum of `localLoss` (the global batch's loss).
    public func synchronize(_ parameters: [Parameter], localLoss: Float) -> Float {
        var buffer: [Float] = []
        buffer.reserveCapacity(parameters.reduce(1) { $0 + $1.value.count })
        for p in parameters { buffer += p.trainable ? p.grad.scalars : p.value.scalars }
        buffer.append(localLoss)
        allReduceSum(&buffer)
        var offset = 0
        let scale = 1 / Float(size)
        for p in parameters {
            let n = p.value.count
            if p.trainable {
                p.grad.scalars.withUnsafeMutableBufferPointer { g in for i in 0..<n { g[i] = buffer[offset + i] } }
            } else {
                p.value.scalars.withUnsafeMutableBufferPointer { v in for i in 0..<n { v[i] = buffer[offset + i] * scale } }
            }
            offset += n
        }
        return buffer[offset]
    }
}
