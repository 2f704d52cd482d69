/// A dense Float32 tensor: a shape and its scalars in row-major order.
///
/// Images and activations are NHWC (`[batch, height, width, channels]`): channels are the
/// contiguous axis, so per-pixel work (convolution as GEMM, batch norm, depthwise filters)
/// streams through memory. A value type; copies share storage until written (Array's COW).
public struct Tensor: Sendable, Equatable {
    /// Extent of each axis, outermost first (NHWC for images and activations).
    public private(set) var shape: [Int]
    /// The elements in row-major order; `count` equals the product of `shape`.
    public var scalars: [Float]

    /// A tensor of `shape` holding `scalars` (row-major). Traps when the counts disagree.
    public init(shape: [Int], scalars: [Float]) {
        precondition(shape.reduce(1, *) == scalars.count,
                     "Tensor: shape \(shape) needs \(shape.reduce(1, *)) scalars, got \(scalars.count)")
        self.shape = shape
        self.scalars = scalars
    }

    /// A tensor of `shape` filled with 0.
    public init(zeros shape: [Int]) {
        self.init(shape: shape, scalars: [Float](repeating: 0, count: shape.reduce(1, *)))
    }

    /// A tensor of `shape` with every element `value`.
    public init(repeating value: Float, shape: [Int]) {
        self.init(shape: shape, scalars: [Float](repeating: value, count: shape.reduce(1, *)))
    }

    /// A tensor whose scalars are written once by `body` (no zero-fill first).
    public init(shape: [Int], unsafeUninitialized body: (UnsafeMutableBufferPointer<Float>) -> Void) {
        let n = shape.reduce(1, *)
        self.shape = shape
        self.scalars = [Float](unsafeUninitializedCapacity: n) { buf, count in
            body(buf)
            count = n
        }
    }

    /// Number of elements (the product of `shape`).
    public var count: Int { scalars.count }
    /// Number of axes (4 for an NHWC batch).
    public var rank: Int { shape.count }

    /// The same scalars under another shape of the same element count (no copy until written).
    public func reshaped(_ newShape: [Int]) -> Tensor {
        Tensor(shape: newShape, scalars: scalars)
    }

    /// The element at row-major offset `i`.
    public subscript(flat i: Int) -> Float {
        get { scalars[i] }
        set { scalars[i] = newValue }
    }

    /// `f` applied to every element; same shape.
    public func map(_ f: (Float) -> Float) -> Tensor {
        Tensor(shape: shape, scalars: scalars.map(f))
    }

    /// Sum of all elements, added left to right (deterministic order).
    public var sum: Float { scalars.reduce(0, +) }
    /// Whether no element is NaN or infinite (the trainer's divergence check).
    public var isFinite: Bool { scalars.allSatisfy { $0.isFinite } }
}
