import Foundation

/// A mutex (Foundation's NSLock) with a closure helper, for the few caches and counters that
/// threads share (e.g. the glyph cache of the synthetic house-number generator).
public final class Lock: @unchecked Sendable {
    private let lock = NSLock()

    /// An unlocked mutex.
    public init() {}

    /// Runs `body` while holding the lock and returns its result; rethrows what it throws.
    public func withLock<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }
}
