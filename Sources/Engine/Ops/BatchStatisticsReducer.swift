/// Sums batch-norm statistics over the processes that share one global batch: synchronised
/// batch norm. Handed to a training pass in `ForwardContext.batchStatistics`; without one
/// (a single process, or per-rank batch norm as the official TPU code does) batch norm uses
/// only the rows of its own process.
///
/// Every process must make the same calls in the same order (they do: every rank runs the same
/// graph), since each call is one collective operation.
public protocol BatchStatisticsReducer: AnyObject {
    /// Replaces `buffer` on every process by the element-wise sum of all processes' buffers
    /// (an allreduce, in Double so per-channel sums over many rows keep their precision).
    func allReduceSum(_ buffer: inout [Double])
}
