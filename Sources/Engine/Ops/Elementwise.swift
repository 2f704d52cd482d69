import CKernels

/// Element-wise arithmetic and shape ops.

public func + (a: Variable, b: Variable) -> Variable {
    precondition(a.shape == b.shape, "add: shapes \(a.shape) and \(b.shape) differ")
    let y = Tensor(shape: a.shape) { out in
        a.value.scalars.withUnsafeBufferPointer { p in
            b.value.scalars.withUnsafeBufferPointer { q in
                let ps = UncheckedSendable(p.baseAddress!), qs = UncheckedSendable(q.baseAddress!)
                let os = UncheckedSendable(out.baseAddress!)
                Parallelism.forRanges(out.count) { lo, hi in ck_add(ps.value + lo, qs.value + lo, os.value + lo, hi - lo) }
            }
        }
    }
    return Variable(y, parents: [a, b]) { g in [g, g] }
}

/// `s * a` for a constant scalar s.
public func * (s: Float, a: Variable) -> Variable {
    let y = a.value.map { $0 * s }
    return Variable(y, parents: [a]) { g in [g.map { $0 * s }] }
}

public func reshape(_ x: Variable, _ shape: [Int]) -> Variable {
    let old = x.shape
    return Variable(x.value.reshaped(shape), parents: [x]) { g in [g.reshaped(old)] }
}

/// Flattens all but the batch axis.
public func flatten(_ x: Variable) -> Variable {
    reshape(x, [x.shape[0], x.shape.dropFirst().reduce(1, *)])
}
