import Foundation

/// Makes item i+1 on a background thread while the caller works on item i.
///
/// Items depend only on their index (each batch derives its own seed from the run seed and the
/// step), so overlapping the work changes the timing and never the numbers.
public final class Prefetcher<Item> {
    /// One item being made in the background; the semaphore publishes `item` to the waiter.
    private final class Slot: @unchecked Sendable {
        let index: Int
        var item: Item?
        let done = DispatchSemaphore(value: 0)
        init(index: Int) { self.index = index }
    }

    private let make: @Sendable (Int) -> Item
    private let queue = DispatchQueue(label: "noisy-student.prefetch")
    private var next: Slot?

    /// `make` builds the item for an index; it runs on a background queue, so it must not depend on
    /// anything but its index (and captured values).
    public init(make: @escaping @Sendable (Int) -> Item) { self.make = make }

    /// The item for `index`; starts making `index + 1` before returning.
    public func item(_ index: Int) -> Item {
        var ready: Item? = nil
        if let slot = next {
            slot.done.wait()  // a prefetch for another index (after a jump) is simply dropped
            if slot.index == index { ready = slot.item }
        }
        let result = ready ?? make(index)
        let slot = Slot(index: index + 1)
        next = slot
        queue.async { [make] in
            slot.item = make(slot.index)
            slot.done.signal()
        }
        return result
    }

    deinit { next?.done.wait() }
}
