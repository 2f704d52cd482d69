import CKernels

/// Element-wise arithmetic and shape ops.

/// a + b element-wise; the shapes must match (no broadcasting).
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

/// `x` under another shape of the same element count; the gradient is reshaped back.
public func reshape(_ x: Variable, _ shape: [Int]) -> Variable {
    let old = x.shape
    return Variable(x.value.reshaped(shape), parents: [x]) { g in [g.reshaped(old)] }
}

/// Flattens all but the batch axis.
public func flatten(_ x: Variable) -> Variable {
    reshape(x, [x.shape[0], x.shape.dropFirst().reduce(1, *)])
}

/// Rows [range] of a tensor along the batch axis (e.g. the labeled and unlabeled parts of a
/// joint forward pass).
public func rows(_ x: Variable, _ range: Range<Int>) -> Variable {
    let n = x.shape[0], per = x.value.count / max(n, 1)
    precondition(range.lowerBound >= 0 && range.upperBound <= n, "rows: \(range) outside 0..<\(n)")
    var shape = x.shape
    shape[0] = range.count
    let y = Tensor(shape: shape, scalars: Array(x.value.scalars[(range.lowerBound * per)..<(range.upperBound * per)]))
    let full = x.shape
    return Variable(y, parents: [x]) { g in
        var dx = Tensor(zeros: full)
        dx.scalars.replaceSubrange((range.lowerBound * per)..<(range.upperBound * per), with: g.scalars)
        return [dx]
    }
}
