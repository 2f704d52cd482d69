import CKernels
import Foundation

/// max(x, 0) element-wise; the gradient is 0 where x <= 0.
public func relu(_ x: Variable) -> Variable {
    let xv = x.value
    let y = Tensor(shape: xv.shape) { out in
        xv.scalars.withUnsafeBufferPointer { p in
            let ps = UncheckedSendable(p.baseAddress!), os = UncheckedSendable(out.baseAddress!)
            Parallelism.forRanges(out.count) { lo, hi in ck_relu_forward(ps.value + lo, os.value + lo, hi - lo) }
        }
    }
    return Variable(y, parents: [x]) { g in [reluPullback(g, maskedBy: xv)] }
}

/// `g` where the ReLU passed its input, else 0. The mask can be read from the ReLU's input or
/// its output (both are > 0 at the same places), so fused ops that keep only the output use it too.
func reluPullback(_ g: Tensor, maskedBy x: Tensor) -> Tensor {
    Tensor(shape: g.shape) { out in
        g.scalars.withUnsafeBufferPointer { gp in
            x.scalars.withUnsafeBufferPointer { p in
                let ps = UncheckedSendable(p.baseAddress!), gs = UncheckedSendable(gp.baseAddress!)
                let os = UncheckedSendable(out.baseAddress!)
                Parallelism.forRanges(out.count) { lo, hi in
                    ck_relu_backward(ps.value + lo, gs.value + lo, os.value + lo, hi - lo)
                }
            }
        }
    }
}

@inline(__always) func sigmoidScalar(_ v: Float) -> Float { 1 / (1 + expf(-v)) }

/// 1 / (1 + e^-x) element-wise.
public func sigmoid(_ x: Variable) -> Variable {
    let y = x.value.map(sigmoidScalar)
    return Variable(y, parents: [x]) { g in
        [Tensor(shape: g.shape) { out in
            g.scalars.withUnsafeBufferPointer { gp in
                y.scalars.withUnsafeBufferPointer { s in
                    for i in 0..<out.count { out[i] = gp[i] * s[i] * (1 - s[i]) }
                }
            }
        }]
    }
}

/// Swish (SiLU): x * sigmoid(x), EfficientNet's activation.
public func swish(_ x: Variable) -> Variable {
    let xv = x.value
    let y = Tensor(shape: xv.shape) { out in
        xv.scalars.withUnsafeBufferPointer { p in
            let ps = UncheckedSendable(p.baseAddress!), os = UncheckedSendable(out.baseAddress!)
            Parallelism.forRanges(out.count, minPerChunk: 1 << 13) { lo, hi in
                ck_swish_forward(ps.value + lo, os.value + lo, hi - lo)
            }
        }
    }
    return Variable(y, parents: [x]) { g in
        [Tensor(shape: g.shape) { out in
            g.scalars.withUnsafeBufferPointer { gp in
                xv.scalars.withUnsafeBufferPointer { p in
                    let ps = UncheckedSendable(p.baseAddress!), gs = UncheckedSendable(gp.baseAddress!)
                    let os = UncheckedSendable(out.baseAddress!)
                    Parallelism.forRanges(out.count, minPerChunk: 1 << 13) { lo, hi in
                        ck_swish_backward(ps.value + lo, gs.value + lo, os.value + lo, hi - lo)
                    }
                }
            }
        }]
    }
}
