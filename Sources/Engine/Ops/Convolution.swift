import CKernels

/// 2-D convolution of NHWC `x` with HWIO weights `w` ([kh, kw, cin/groups, cout]).
/// `padding: nil` pads like TensorFlow's "SAME"; an integer pads symmetrically (PyTorch style).
/// `inference`: the pass is not training (batch norm on running statistics), so when no
/// gradient flows back through this convolution either, the kernels may take their inference
/// rule (`ConvKernels.winogradInferenceThreshold`).
public func conv2d(_ x: Variable, _ w: Variable, stride: Int = 1, padding: Int? = nil, groups: Int = 1,
                   inference: Bool = false) -> Variable {
    convolution(x, w, stride: stride, padding: padding, groups: groups, epilogue: nil, inference: inference)
}

/// What a convolution's output goes through before it is stored: an inference-mode batch norm
/// (a per-channel `y * scale + shift`), a residual add, a ReLU, in that order. Fused into the
/// convolution, the output is finished image by image while it is in cache, instead of in a
/// pass per op over the whole batch; the values are the separate ops'. Scale and shift are
/// constants here: that fusion is for passes that record no parameter gradients (training
/// passes an epilogue only to take a batch norm's moments, `BatchNorm.normalizing`).
public struct ConvEpilogue {
    /// Per-output-channel y * scale + shift (a folded inference batch norm), or nil; set both or neither.
    public var scale: [Float]?, shift: [Float]?
    /// A tensor of the output's shape added after the scale and shift (a residual connection), or nil.
    public var residual: Variable?
    /// Whether a ReLU comes last.
    public var relu: Bool
    /// Where each image's batch-norm moments of the finished output go (a training batch norm
    /// after this convolution takes its statistics while the output is in cache), or nil.
    var moments: BatchMoments?

    /// An epilogue; traps when only one of scale and shift is given.
    public init(scale: [Float]? = nil, shift: [Float]? = nil, residual: Variable? = nil, relu: Bool = false) {
        precondition((scale == nil) == (shift == nil), "ConvEpilogue: scale and shift go together")
        self.scale = scale; self.shift = shift; self.residual = residual; self.relu = relu
    }
}

/// `conv2d` followed by `epilogue`, in one pass over the output. Gradients flow to `x`, `w` and
/// the residual (for input gradients such as FGSM's), not to the epilogue's scale and shift.
/// `inference` as in the other `conv2d`.
public func conv2d(_ x: Variable, _ w: Variable, stride: Int = 1, padding: Int? = nil, groups: Int = 1,
                   epilogue: ConvEpilogue, inference: Bool = false) -> Variable {
    convolution(x, w, stride: stride, padding: padding, groups: groups, epilogue: epilogue, inference: inference)
}

/// Both `conv2d`s: the convolution, with the epilogue (if any) applied as the kernels store.
/// `winogradWeights` (inference only: see `WinogradWeightCache`): where a Winograd kernel takes
/// its transformed weights.
func convolution(_ x: Variable, _ w: Variable, stride: Int, padding: Int?, groups: Int,
                 epilogue: ConvEpilogue?, inference inferencePass: Bool,
                 winogradWeights: WinogradWeightSource? = nil) -> Variable {
    let g = convGeometry(x, w, stride: stride, padding: padding, groups: groups)
    let c = g.outChannels
    if let s = epilogue?.scale { precondition(s.count == c && epilogue?.shift?.count == c, "conv2d: epilogue scale/shift must be [\(c)]") }
    if let r = epilogue?.residual { precondition(r.shape == g.outputShape, "conv2d: residual \(r.shape) does not match the output \(g.outputShape)") }
    let xv = x.value, wv = w.value
    let scale = epilogue?.scale, shift = epilogue?.shift ?? [], residual = epilogue?.residual
    let skip = residual?.value.scalars ?? []
    // Not training, and no gradient flows back through this convolution: the inference rule.
    let inference = inferencePass && !x.requiresGrad && !w.requiresGrad && !(residual?.requiresGrad ?? false)
    let imageRows = g.outHeight * g.outWidth
    var momentSums = [Double](repeating: 0, count: epilogue?.moments == nil ? 0 : 2 * c * g.batch)
    let y = Tensor(shape: g.outputShape) { out in
        xv.scalars.withUnsafeBufferPointer { xp in
            wv.scalars.withUnsafeBufferPointer { wp in
                (scale ?? []).withUnsafeBufferPointer { ap in
                    shift.withUnsafeBufferPointer { bp in
                        skip.withUnsafeBufferPointer { sp in
                            momentSums.withUnsafeMutableBufferPointer { mp in
                                var e = ck_epilogue(a: scale == nil ? nil : ap.baseAddress, b: scale == nil ? nil : bp.baseAddress,
                                                    skip: residual == nil ? nil : sp.baseAddress, relu: epilogue?.relu == true ? 1 : 0,
                                                    moments: epilogue?.moments == nil ? nil : mp.baseAddress,
                                                    image_rows: imageRows)
                                withUnsafePointer(to: &e) {
                                    ConvKernels.forward(g, x: xp.baseAddress!, w: wp.baseAddress!, y: out.baseAddress!,
                                                        epilogue: epilogue == nil ? nil : $0, inference: inference,
                                                        winogradWeights: inference ? winogradWeights : nil)
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    epilogue?.moments?.record(perImage: momentSums, images: g.batch, channels: c)
    let parents = [x, w] + (residual.map { [$0] } ?? [])
    let reluOutput = epilogue?.relu == true ? y : nil  // kept for the backward pass only when needed
    return Variable(y, parents: parents) { dy in
        // Back through the ReLU (its mask is the output's sign), the add (the residual gets that
        // gradient as is) and the batch norm (inference mode: times the scale), as the separate ops do.
        let masked = reluOutput.map { reluPullback(dy, maskedBy: $0) } ?? dy
        let dconv = scale.map { channelScaled(masked, by: $0) } ?? masked
        return convolutionPullback(g, x, w, dconv) + (residual == nil ? [] : [masked])
    }
}

private func convGeometry(_ x: Variable, _ w: Variable, stride: Int, padding: Int?, groups: Int) -> ConvGeometry {
    precondition(x.shape.count == 4, "conv2d: input must be NHWC, got \(x.shape)")
    precondition(w.shape.count == 4, "conv2d: weight must be [kh, kw, cin/groups, cout], got \(w.shape)")
    precondition(w.shape[0] == w.shape[1], "conv2d: square kernels only, got \(w.shape)")
    let g = ConvGeometry(batch: x.shape[0], height: x.shape[1], width: x.shape[2], inChannels: x.shape[3],
                         outChannels: w.shape[3], kernel: w.shape[0], stride: stride, padding: padding, groups: groups)
    precondition(w.shape == g.weightShape, "conv2d: weight \(w.shape) does not fit input \(x.shape) (expected \(g.weightShape))")
    return g
}

/// Gradients of a convolution with respect to its input and weights, each only when wanted.
private func convolutionPullback(_ g: ConvGeometry, _ x: Variable, _ w: Variable, _ dy: Tensor) -> [Tensor?] {
    var dx: Tensor? = nil, dw: Tensor? = nil
    dy.scalars.withUnsafeBufferPointer { dyp in
        if x.requiresGrad {
            dx = Tensor(shape: g.inputShape) { out in
                w.value.scalars.withUnsafeBufferPointer { wp in
                    ConvKernels.backwardInput(g, dy: dyp.baseAddress!, w: wp.baseAddress!, dx: out.baseAddress!)
                }
            }
        }
        if w.requiresGrad {
            var t = Tensor(zeros: g.weightShape)
            t.scalars.withUnsafeMutableBufferPointer { out in
                x.value.scalars.withUnsafeBufferPointer { xp in
                    ConvKernels.backwardWeight(g, x: xp.baseAddress!, dy: dyp.baseAddress!, dw: out.baseAddress!)
                }
            }
            dw = t
        }
    }
    return [dx, dw]
}
