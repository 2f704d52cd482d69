/// 2-D convolution of NHWC `x` with HWIO weights `w` ([kh, kw, cin/groups, cout]).
/// `padding: nil` pads like TensorFlow's "SAME"; an integer pads symmetrically (PyTorch style).
public func conv2d(_ x: Variable, _ w: Variable, stride: Int = 1, padding: Int? = nil, groups: Int = 1) -> Variable {
    precondition(x.shape.count == 4, "conv2d: input must be NHWC, got \(x.shape)")
    precondition(w.shape.count == 4, "conv2d: weight must be [kh, kw, cin/groups, cout], got \(w.shape)")
    precondition(w.shape[0] == w.shape[1], "conv2d: square kernels only, got \(w.shape)")
    let g = ConvGeometry(batch: x.shape[0], height: x.shape[1], width: x.shape[2], inChannels: x.shape[3],
                         outChannels: w.shape[3], kernel: w.shape[0], stride: stride, padding: padding, groups: groups)
    precondition(w.shape == g.weightShape, "conv2d: weight \(w.shape) does not fit input \(x.shape) (expected \(g.weightShape))")
    let xv = x.value, wv = w.value
    let y = Tensor(shape: g.outputShape) { out in
        xv.scalars.withUnsafeBufferPointer { xp in
            wv.scalars.withUnsafeBufferPointer { wp in
                ConvKernels.forward(g, x: xp.baseAddress!, w: wp.baseAddress!, y: out.baseAddress!)
            }
        }
    }
    return Variable(y, parents: [x, w]) { dy in
        var dx: Tensor? = nil, dw: Tensor? = nil
        dy.scalars.withUnsafeBufferPointer { dyp in
            if x.requiresGrad {
                dx = Tensor(shape: g.inputShape) { out in
                    wv.scalars.withUnsafeBufferPointer { wp in
                        ConvKernels.backwardInput(g, dy: dyp.baseAddress!, w: wp.baseAddress!, dx: out.baseAddress!)
                    }
                }
            }
            if w.requiresGrad {
                var t = Tensor(zeros: g.weightShape)
                t.scalars.withUnsafeMutableBufferPointer { out in
                    xv.scalars.withUnsafeBufferPointer { xp in
                        ConvKernels.backwardWeight(g, x: xp.baseAddress!, dy: dyp.baseAddress!, dw: out.baseAddress!)
                    }
                }
                dw = t
            }
        }
        return [dx, dw]
    }
}
