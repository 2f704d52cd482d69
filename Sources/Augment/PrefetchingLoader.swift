import Datasets
import Dispatch
import Foundation
import Randomness

/// Produces normalised Float NHWC batches of a set, augmented by `noise`, on a background
/// thread ahead of the training step.
///
/// Determinism: batch `b` is a pure function of (seed, b). Its images are positions
/// `b*B ..< (b+1)*B` of an endless stream of per-epoch permutations (epochs run into each
/// other, as tf.data's repeat().batch() does), and image k of batch b is augmented with
/// `StudentNoise.imageGenerator(seed, b, k)`. Threads, prefetch depth and timing change only
/// the speed. `batch(at:)` computes the same batch synchronously.
public final class PrefetchingLoader: @unchecked Sendable {
    /// The images batches are cut from.
    public let source: ImageSet
    /// Images per batch.
    public let batchSize: Int
    /// Seed of the epoch orders and of each image's augmentation draws.
    public let seed: UInt64
    /// The student's input noise, or nil for clean batches (the teacher's).
    public let noise: StudentNoise?
    /// Per-channel normalisation applied when bytes become Floats.
    public let normalization: Normalization
    /// Whether each epoch visits the images in a fresh seeded order (else in set order).
    public let shuffle: Bool
    private let workers: Int
    private let state: State
    private var nextIndex = 0

    /// Shared between the consumer and the producer thread (which must not own the loader,
    /// or the loader could never be released and the thread never told to stop).
    private final class State: @unchecked Sendable {
        let condition = NSCondition()
        var ready: [Int: Batch] = [:]
        var wanted = 0       // the consumer's next batch index
        var stopped = false
    }

    /// - Parameters:
    ///   - noise: nil for clean batches (teacher inference, evaluation).
    ///   - shuffle: false keeps the set's order (evaluation, inference over shards).
    ///   - workers: threads augmenting the images of one batch in parallel.
    ///   - prefetch: batches prepared ahead of the consumer.
    public init(source: ImageSet, batchSize: Int, seed: UInt64, noise: StudentNoise?, normalization: Normalization,
                shuffle: Bool = true, workers: Int = 1, prefetch: Int = 4) {
        precondition(source.count > 0 && batchSize > 0, "PrefetchingLoader needs images and a positive batch size")
        self.source = source
        self.batchSize = batchSize
        self.seed = seed
        self.noise = noise
        self.normalization = normalization
        self.shuffle = shuffle
        self.workers = max(1, workers)
        self.state = State()
        let state = self.state
        let maker = BatchMaker(source: source, batchSize: batchSize, seed: seed, noise: noise,
                               normalization: normalization, shuffle: shuffle, workers: self.workers)
        let depth = max(1, prefetch)
        let thread = Thread {
            var b = 0
            while true {
                state.condition.lock()
                while !state.stopped && b >= state.wanted + depth { state.condition.wait() }
                if state.stopped { state.condition.unlock(); return }
                state.condition.unlock()
                let batch = maker.batch(b)
                state.condition.lock()
                state.ready[b] = batch
                state.condition.broadcast()
                state.condition.unlock()
                b += 1
            }
        }
        thread.name = "PrefetchingLoader"
        thread.start()
    }

    deinit {
        state.condition.lock()
        state.stopped = true
        state.condition.broadcast()
        state.condition.unlock()
    }

    /// The next batch of the stream (waits if the producer is behind).
    public func next() -> Batch {
        let b = nextIndex
        nextIndex += 1
        state.condition.lock()
        state.wanted = b + 1
        state.condition.broadcast()
        while state.ready[b] == nil { state.condition.wait() }
        let batch = state.ready.removeValue(forKey: b)
        state.condition.unlock()
        guard let batch else { fatalError("unreachable: batch \(b) was ready") }
        return batch
    }

    /// Batch `b`, computed synchronously (identical to what `next()` returns as the b-th batch).
    public func batch(at b: Int) -> Batch {
        BatchMaker(source: source, batchSize: batchSize, seed: seed, noise: noise, normalization: normalization,
                   shuffle: shuffle, workers: workers).batch(b)
    }

    /// Batches that make one pass over the set (the last one spills into the next epoch).
    public var batchesPerEpoch: Int { (source.count + batchSize - 1) / batchSize }
}

/// The pure function from batch index to batch.
struct BatchMaker: @unchecked Sendable {
    let source: ImageSet
    let batchSize: Int
    let seed: UInt64
    let noise: StudentNoise?
    let normalization: Normalization
    let shuffle: Bool
    let workers: Int
    private let cache = PermutationCache()

    init(source: ImageSet, batchSize: Int, seed: UInt64, noise: StudentNoise?, normalization: Normalization,
         shuffle: Bool, workers: Int) {
        self.source = source
        self.batchSize = batchSize
        self.seed = seed
        self.noise = noise
        self.normalization = normalization
        self.shuffle = shuffle
        self.workers = workers
    }

    func indices(_ b: Int) -> [Int] {
        let n = source.count
        return (0..<batchSize).map { k in
            let p = b * batchSize + k
            let epoch = p / n
            return shuffle ? cache.permutation(epoch: epoch, n: n, seed: seed)[p % n] : p % n
        }
    }

    func batch(_ b: Int) -> Batch {
        let idx = indices(b)
        guard let noise else { return source.floatBatch(indices: idx, normalization: normalization) }
        let per = source.imageSize
        let h = source.height, w = source.width, c = source.channels
        var out = [Float](repeating: 0, count: idx.count * per)
        let noiseSeed = seed ^ 0xA5A5_5A5A_C3C3_3C3C
        source.pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                let shared = SharedFloatOut(src: src, dst: dst)
                let work: @Sendable (Int, Int) -> Void = { lo, hi in
                    var scratch = StudentNoise.Scratch()
                    var img = [UInt8](repeating: 0, count: per)
                    img.withUnsafeMutableBufferPointer { imgBuf in
                        for k in lo..<hi {
                            var rng = StudentNoise.imageGenerator(seed: noiseSeed, batch: UInt64(b), index: k)
                            let i = idx[k]
                            noise.apply(UnsafeBufferPointer(rebasing: shared.src[(i * per)..<((i + 1) * per)]), into: imgBuf,
                                        height: h, width: w, channels: c, rng: &rng, scratch: &scratch)
                            ImageSet.convert(UnsafeBufferPointer(imgBuf),
                                             into: UnsafeMutableBufferPointer(rebasing: shared.dst[(k * per)..<((k + 1) * per)]),
                                             channels: c, normalization: normalization)
                        }
                    }
                }
                if workers <= 1 {
                    work(0, idx.count)
                } else {
                    let parts = min(workers, idx.count)
                    DispatchQueue.concurrentPerform(iterations: parts) { p in
                        work(p * idx.count / parts, (p + 1) * idx.count / parts)
                    }
                }
            }
        }
        return Batch(images: out, labels: idx.map { source.labels[$0] }, indices: idx, height: h, width: w, channels: c)
    }
}

struct SharedFloatOut: @unchecked Sendable {
    let src: UnsafeBufferPointer<UInt8>
    let dst: UnsafeMutableBufferPointer<Float>
}

/// The last two epochs' permutations (a batch may straddle an epoch boundary).
final class PermutationCache: @unchecked Sendable {
    private let lock = NSLock()
    private var entries: [Int: [Int]] = [:]

    func permutation(epoch: Int, n: Int, seed: UInt64) -> [Int] {
        lock.lock()
        defer { lock.unlock() }
        if let p = entries[epoch] { return p }
        var rng = SeededGenerator(seed: seed &+ 0x9E37_79B9_7F4A_7C15 &* UInt64(epoch + 1))
        let p = rng.permutation(n)
        entries[epoch] = p
        if entries.count > 2, let oldest = entries.keys.min() { entries.removeValue(forKey: oldest) }
        return p
    }
}
