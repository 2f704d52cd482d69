import Synchronization

/// The Winograd-transformed weights (`ck_winograd4_weights`) of the convolutions in one
/// inference call (`Layer.predict`), shared by its chunks: each chunk of 16 images runs every
/// layer, and transforming a layer's weights per chunk cost 3% of a ResNet-8 inference pass. The
/// first chunk to reach a layer transforms its weights; the others reuse them. Valid only while
/// the weights do not change: one inference call. The values are those of a fresh transform.
final class WinogradWeightCache: Sendable {
    /// One layer's transformed weights (freed with the cache).
    private final class Entry: @unchecked Sendable {
        let pointer: UnsafeMutablePointer<Float>
        let count: Int
        init(count: Int) { pointer = .allocate(capacity: count); self.count = count }
        deinit { pointer.deallocate() }
    }

    private let entries = Mutex<[ObjectIdentifier: Entry]>([:])

    /// The transformed weights of `key` (the layer's weight parameter), `count` floats, made by
    /// `transform` on first use. The pointer lives as long as the cache.
    func weights(for key: ObjectIdentifier, count: Int,
                 transform: (UnsafeMutablePointer<Float>) -> Void) -> UnsafePointer<Float> {
        entries.withLock { table in
            if let e = table[key] {
                precondition(e.count == count, "WinogradWeightCache: \(count) weights asked for a layer cached with \(e.count)")
                return UnsafePointer(e.pointer)
            }
            let e = Entry(count: count)
            transform(e.pointer)
            table[key] = e
            return UnsafePointer(e.pointer)
        }
    }
}

/// Where a convolution's Winograd weights come from: a shared cache under the layer's key, or
/// (nil) a transform of its own.
typealias WinogradWeightSource = (cache: WinogradWeightCache, key: ObjectIdentifier)
