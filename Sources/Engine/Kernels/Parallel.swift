import CKernels
import Dispatch
import Foundation
import Synchronization

/// The engine's own parallel loops (the work OpenBLAS does not do: direct convolutions,
/// batch norm, activations...).
///
/// Determinism: work is cut into a fixed number of chunks that depends only on the problem
/// size, never on the thread count; reductions combine per-chunk partial results in chunk
/// order. So the same inputs give bit-identical outputs whatever `threads` is.
public enum Parallelism {
    private static let threadCount = Atomic<Int>(defaultThreads())

    /// Worker threads for the engine's loops (1 = run inline). Defaults to `OPENBLAS_NUM_THREADS`
    /// when it is set, so a process given a budget (a weaver stage running beside others) keeps
    /// to it for all its work, else to the active processors, like OpenBLAS.
    /// `BLASRuntime.setThreads` sets both. Results do not depend on it.
    /// Inside `runAlone` (a worker running a whole sub-problem of its own) this is 1, so the
    /// loops within run inline rather than waking the other workers.
    public static var threads: Int {
        get { runsAlone ? 1 : threadCount.load(ordering: .relaxed) }
        set { threadCount.store(max(1, newValue), ordering: .relaxed) }
    }

    /// Bound while a worker runs a sub-problem alone (`runAlone`). Task-local values bound
    /// outside a task live in thread-local storage, so this is per thread.
    @TaskLocal private static var runsAlone = false

    /// Runs `body` with the engine's loops inline on the calling thread (`threads` reads 1 inside).
    static func runAlone<R>(_ body: () throws -> R) rethrows -> R {
        try $runsAlone.withValue(true, operation: body)
    }

    static func defaultThreads(environment: [String: String] = ProcessInfo.processInfo.environment) -> Int {
        if let budget = environment["OPENBLAS_NUM_THREADS"].flatMap({ Int($0) }), budget > 0 { return budget }
        return max(1, ProcessInfo.processInfo.activeProcessorCount)
    }

    /// Runs `body(chunk)` for chunk in 0..<chunks, spread over `threads` workers, each taking a
    /// contiguous range of chunks. `body` must only write memory owned by its chunk.
    @inline(__always)
    static func forEach(_ chunks: Int, _ body: (Int) -> Void) {
        onWorkers(chunks, body) { t, worker, run in
            for c in (worker * chunks / t)..<((worker + 1) * chunks / t) { run(c) }
        }
    }

    /// Runs `body(chunk)` for chunk in 0..<chunks, each worker taking the next chunk not yet
    /// taken: a worker slowed down (another process, a busy host core) does less of the work
    /// instead of holding up the rest. Only for chunks whose results do not depend on which
    /// worker runs them (independent images), since that assignment varies run to run.
    @inline(__always)
    static func forEachDynamic(_ chunks: Int, _ body: (Int) -> Void) {
        let next = Atomic<Int>(0)
        onWorkers(chunks, body) { _, _, run in
            while true {
                let c = next.wrappingAdd(1, ordering: .relaxed).oldValue
                if c >= chunks { return }
                run(c)
            }
        }
    }

    /// `chunks` chunks of `body` on min(threads, chunks) workers, each running
    /// `schedule(workers, worker, body)`; inline when one worker is enough.
    @inline(__always)
    private static func onWorkers(_ chunks: Int, _ body: (Int) -> Void,
                                  _ schedule: (Int, Int, (Int) -> Void) -> Void) {
        let t = min(threads, chunks)
        if t <= 1 {
            for c in 0..<chunks { body(c) }
            return
        }
        withoutActuallyEscaping(body) { body in
            withoutActuallyEscaping(schedule) { schedule in
                let box = UncheckedSendable((body: body, schedule: schedule))
                DispatchQueue.concurrentPerform(iterations: t) { worker in box.value.schedule(t, worker, box.value.body) }
            }
        }
    }

    /// Splits [0, n) into one contiguous range per thread (fewer when n is small) and runs
    /// `body(lo, hi)` on each. Only for work without cross-element reductions: the split
    /// depends on the thread count.
    @inline(__always)
    static func forRanges(_ n: Int, minPerChunk: Int = 1 << 15, _ body: (Int, Int) -> Void) {
        let chunks = max(1, min(threads, n / minPerChunk))
        if chunks == 1 { body(0, n); return }
        forEach(chunks) { c in body(c * n / chunks, (c + 1) * n / chunks) }
    }

    /// A chunk count for `n` items: at most `maxChunks`, at least `minPerChunk` items each.
    static func chunkCount(_ n: Int, minPerChunk: Int, maxChunks: Int = 16) -> Int {
        max(1, min(maxChunks, n / max(1, minPerChunk)))
    }
}

/// Carries a value into a concurrent region whose callers guarantee disjoint writes.
struct UncheckedSendable<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

/// Which kernel implementations run (printed by benchmarks and logs).
public enum KernelConfiguration {
    /// The C kernels' path in this process: "avx512", "avx2" or "portable" (`ENGINE_ISA` forces
    /// one; otherwise the best the CPU runs). Results can differ between paths in the last bits.
    public static var kernelSet: String {
        ck_isa_name(ck_isa()).map { String(cString: $0) } ?? "unknown"
    }

    /// Checks `ENGINE_ISA` before any work: throws `KernelPathError` naming the value and the
    /// reason when it is unknown or this CPU cannot run it (unset or empty: nothing to check).
    public static func validateEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        guard let forced = environment["ENGINE_ISA"], !forced.isEmpty else { return }
        var message = [CChar](repeating: 0, count: 160)
        if ck_isa_parse(forced, &message, message.count) < 0 {
            throw KernelPathError(message: String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
    }

    /// Whether this CPU (and build) can run a path ("avx512", "avx2", "portable").
    public static func supports(_ path: String) -> Bool {
        ck_isa_parse(path, nil, 0) >= 0
    }

    /// Dense convolutions with cin * cout at or above this go to im2col + sgemm, the rest to the
    /// direct kernels. Set once at start-up (not thread-safe to change while ops run).
    public static var gemmChannelProduct: Int {
        get { ConvKernels.gemmThreshold }
        set { ConvKernels.gemmThreshold = newValue }
    }

    /// 3x3 stride-1 convolutions with cin * cout at or above this (and 16, 32, 64 or 128 input
    /// channels on a vector path) run Winograd F(4x4, 3x3) for the forward pass and the input
    /// gradient of training passes and of passes that gradients flow back through; Int.max turns
    /// that off (inference and weight gradients have their own rules below). Set once at
    /// start-up, like `gemmChannelProduct`.
    public static var winogradChannelProduct: Int {
        get { ConvKernels.winogradThreshold }
        set { ConvKernels.winogradThreshold = newValue }
    }

    /// The same rule for forward passes that are not training and that no gradient flows back
    /// through (inference), where the engine's choice also takes the 16 x 16-channel layers;
    /// Int.max turns it off.
    public static var winogradInferenceChannelProduct: Int {
        get { ConvKernels.winogradInferenceThreshold }
        set { ConvKernels.winogradInferenceThreshold = newValue }
    }

    /// The same rule for the weight gradients of those convolutions (Int.max: direct kernels).
    public static var winogradWeightChannelProduct: Int {
        get { ConvKernels.winogradWeightThreshold }
        set { ConvKernels.winogradWeightThreshold = newValue }
    }
}

/// A bad `ENGINE_ISA` value: unknown, or a path this CPU cannot run.
public struct KernelPathError: Error, CustomStringConvertible {
    /// One line naming the value and what is wrong with it.
    public let message: String
    /// The message.
    public var description: String { message }
}
