/// Fully connected: x [N, K] * w [K, O] + b [O].
///
/// The forward pass is a 1 x 1 convolution of N images of 1 x 1 pixel (w [K, O] is its HWIO
/// weight): the direct kernels compute each row alone in a fixed order, so a row's logits do not
/// depend on the other rows of the batch (OpenBLAS's sgemm rounds a matrix's last rows
/// differently; see `ConvKernels.direct`). Each output is its sum over K, then plus the bias.
public func linear(_ x: Variable, _ w: Variable, _ b: Variable?) -> Variable {
    precondition(x.shape.count == 2 && w.shape.count == 2 && x.shape[1] == w.shape[0],
                 "linear: input \(x.shape) does not fit weight \(w.shape)")
    let n = x.shape[0], k = x.shape[1], o = w.shape[1]
    let xv = x.value, wv = w.value
    if let b { precondition(b.shape == [o], "linear: bias \(b.shape) does not fit \(o) outputs") }
    let geometry = ConvGeometry(batch: n, height: 1, width: 1, inChannels: k, outChannels: o, kernel: 1, stride: 1, padding: 0)
    var y = Tensor(shape: [n, o]) { out in
        xv.scalars.withUnsafeBufferPointer { xp in
            wv.scalars.withUnsafeBufferPointer { wp in
                ConvKernels.forward(geometry, x: xp.baseAddress!, w: wp.baseAddress!, y: out.baseAddress!)
            }
        }
    }
    if let b {
        let bias = b.value.scalars
        for i in 0..<n { for j in 0..<o { y.scalars[i * o + j] += bias[j] } }
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
