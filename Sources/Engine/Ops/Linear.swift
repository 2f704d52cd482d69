/// Fully connected: x [N, K] * w [K, O] + b [O].
public func linear(_ x: Variable, _ w: Variable, _ b: Variable?) -> Variable {
    precondition(x.shape.count == 2 && w.shape.count == 2 && x.shape[1] == w.shape[0],
                 "linear: input \(x.shape) does not fit weight \(w.shape)")
    let n = x.shape[0], k = x.shape[1], o = w.shape[1]
    let xv = x.value, wv = w.value
    WorkCounter.add(n * k * o)
    var y = Tensor(zeros: [n, o])
    if let b {
        precondition(b.shape == [o], "linear: bias \(b.shape) does not fit \(o) outputs")
        for i in 0..<n { for j in 0..<o { y.scalars[i * o + j] = b.value.scalars[j] } }
    }
    y.scalars.withUnsafeMutableBufferPointer { yp in
        xv.scalars.withUnsafeBufferPointer { xp in
            wv.scalars.withUnsafeBufferPointer { wp in
                sgemm(m: n, n: o, k: k, a: xp.baseAddress!, lda: k, b: wp.baseAddress!, ldb: o,
                      beta: 1, c: yp.baseAddress!, ldc: o)
            }
        }
    }
    let parents = b.map { [x, w, $0] } ?? [x, w]
    return Variable(y, parents: parents) { g in
        var dx: Tensor? = nil, dw: Tensor? = nil
        g.scalars.withUnsafeBufferPointer { gp in
            if x.requiresGrad {
                dx = Tensor(shape: [n, k]) { out in
                    wv.scalars.withUnsafeBufferPointer { wp in
                        sgemm(transB: true, m: n, n: k, k: o, a: gp.baseAddress!, lda: o, b: wp.baseAddress!, ldb: o,
                              c: out.baseAddress!, ldc: k)
                    }
                }
            }
            if w.requiresGrad {
                dw = Tensor(shape: [k, o]) { out in
                    xv.scalars.withUnsafeBufferPointer { xp in
                        sgemm(transA: true, m: k, n: o, k: n, a: xp.baseAddress!, lda: k, b: gp.baseAddress!, ldb: o,
                              c: out.baseAddress!, ldc: o)
                    }
                }
            }
        }
        var result: [Tensor?] = [dx, dw]
        if b != nil {
            var db = [Float](repeating: 0, count: o)
            for i in 0..<n { for j in 0..<o { db[j] += g.scalars[i * o + j] } }
            result.append(Tensor(shape: [o], scalars: db))
        }
        return result
    }
}
