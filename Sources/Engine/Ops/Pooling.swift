/// Mean over height and width: [N, H, W, C] -> [N, C].
public func globalAveragePool(_ x: Variable) -> Variable {
    precondition(x.shape.count == 4, "globalAveragePool: input must be NHWC, got \(x.shape)")
    let n = x.shape[0], hw = x.shape[1] * x.shape[2], c = x.shape[3]
    let inv = 1 / Float(hw)
    var y = Tensor(zeros: [n, c])
    y.scalars.withUnsafeMutableBufferPointer { out in
        x.value.scalars.withUnsafeBufferPointer { p in
            for i in 0..<n {
                let o = out.baseAddress! + i * c
                for s in 0..<hw {
                    let row = p.baseAddress! + (i * hw + s) * c
                    for j in 0..<c { o[j] += row[j] }
                }
                for j in 0..<c { o[j] *= inv }
            }
        }
    }
    let shape = x.shape
    return Variable(y, parents: [x]) { g in
        [Tensor(shape: shape) { out in
            g.scalars.withUnsafeBufferPointer { gp in
                for i in 0..<n {
                    let gi = gp.baseAddress! + i * c
                    for s in 0..<hw {
                        let o = out.baseAddress! + (i * hw + s) * c
                        for j in 0..<c { o[j] = gi[j] * inv }
                    }
                }
            }
        }]
    }
}

/// Multiplies each image's channels by per-image factors: x [N, H, W, C] * s [N, C]
/// (squeeze-and-excitation's gate).
public func scaleChannels(_ x: Variable, by s: Variable) -> Variable {
    let n = x.shape[0], c = x.shape[3], hw = x.shape[1] * x.shape[2]
    precondition(s.shape == [n, c], "scaleChannels: gate \(s.shape) does not fit \(x.shape)")
    let xv = x.value, sv = s.value
    let y = Tensor(shape: xv.shape) { out in
        xv.scalars.withUnsafeBufferPointer { p in
            sv.scalars.withUnsafeBufferPointer { q in
                for i in 0..<n {
                    let gate = q.baseAddress! + i * c
                    for t in 0..<hw {
                        let off = (i * hw + t) * c
                        for j in 0..<c { out[off + j] = p[off + j] * gate[j] }
                    }
                }
            }
        }
    }
    return Variable(y, parents: [x, s]) { g in
        var dx: Tensor? = nil
        var ds = Tensor(zeros: [n, c])
        g.scalars.withUnsafeBufferPointer { gp in
            if x.requiresGrad {
                dx = Tensor(shape: xv.shape) { out in
                    sv.scalars.withUnsafeBufferPointer { q in
                        for i in 0..<n {
                            let gate = q.baseAddress! + i * c
                            for t in 0..<hw {
                                let off = (i * hw + t) * c
                                for j in 0..<c { out[off + j] = gp[off + j] * gate[j] }
                            }
                        }
                    }
                }
            }
            ds.scalars.withUnsafeMutableBufferPointer { d in
                xv.scalars.withUnsafeBufferPointer { p in
                    for i in 0..<n {
                        let di = d.baseAddress! + i * c
                        for t in 0..<hw {
                            let off = (i * hw + t) * c
                            for j in 0..<c { di[j] += gp[off + j] * p[off + j] }
                        }
                    }
                }
            }
        }
        return [dx, ds]
    }
}
