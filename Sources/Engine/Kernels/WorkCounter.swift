import Synchronization

/// Counts the multiply-adds of convolutions and matrix products as they run (forward passes
/// only), so a benchmark can report achieved GFLOP/s without re-deriving every model's shapes.
/// Off unless enabled; a relaxed atomic add per op when on.
public enum WorkCounter {
    private static let enabledFlag = Atomic<Bool>(false)
    private static let counter = Atomic<Int>(0)

    /// Whether ops count their multiply-adds (off by default; costs one atomic add per op when on).
    public static var isEnabled: Bool {
        get { enabledFlag.load(ordering: .relaxed) }
        set { enabledFlag.store(newValue, ordering: .relaxed) }
    }

    /// Multiply-adds counted since the last reset.
    public static var macs: Int { counter.load(ordering: .relaxed) }
    /// Sets `macs` to 0.
    public static func reset() { counter.store(0, ordering: .relaxed) }

    @inline(__always)
    static func add(_ n: Int) {
        if enabledFlag.load(ordering: .relaxed) { counter.add(n, ordering: .relaxed) }
    }
}
