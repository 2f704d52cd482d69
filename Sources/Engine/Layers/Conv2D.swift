import Randomness

/// A 2-D convolution layer (NHWC, HWIO weights), optionally with a bias.
public final class Conv2D: Layer {
    /// The kernel, HWIO: [kernel, kernel, in / groups, out]; He-normal initialised, weight-decayed.
    public let weight: Parameter
    /// Per-output-channel bias [out], or nil (convolutions followed by batch norm have none).
    public let bias: Parameter?
    /// Stride in both axes; padding (nil: TensorFlow "SAME"); groups (= channels: depthwise).
    public let stride: Int, padding: Int?, groups: Int

    /// - Parameter padding: nil pads like TensorFlow "SAME"; an integer pads symmetrically.
    public init(kernel: Int, in inChannels: Int, out outChannels: Int, stride: Int = 1, padding: Int? = nil,
                groups: Int = 1, bias: Bool = false, rng: inout SeededGenerator) {
        let fanIn = kernel * kernel * inChannels / groups
        weight = Parameter(Initializer.heNormal([kernel, kernel, inChannels / groups, outChannels], fanIn: fanIn, rng: &rng))
        self.bias = bias ? Parameter(Tensor(zeros: [outChannels]), decays: false) : nil
        self.stride = stride; self.padding = padding; self.groups = groups
    }

    /// `weight`, then `bias` when the layer has one (checkpoint names).
    public var ownParameters: [(name: String, parameter: Parameter)] {
        [("weight", weight)] + (bias.map { [("bias", $0)] } ?? [])
    }

    /// Convolves NHWC `x` [N, H, W, in] to [N, H', W', out] (H' = ceil(H / stride) with "SAME").
    public func callAsFunction(_ x: Variable, _ ctx: ForwardContext) -> Variable {
        let y = convolution(x, ctx.variable(weight), stride: stride, padding: padding, groups: groups, epilogue: nil,
                            inference: !ctx.training, winogradWeights: winogradWeights(ctx))
        guard let bias else { return y }
        return addChannelBias(y, ctx.variable(bias))
    }

    /// The convolution with an epilogue fused into it (bias-free layers only).
    public func callAsFunction(_ x: Variable, _ ctx: ForwardContext, epilogue: ConvEpilogue) -> Variable {
        precondition(bias == nil, "Conv2D: an epilogue is fused only into bias-free convolutions")
        return convolution(x, ctx.variable(weight), stride: stride, padding: padding, groups: groups, epilogue: epilogue,
                           inference: !ctx.training, winogradWeights: winogradWeights(ctx))
    }

    /// The pass's shared Winograd weights under this layer's key (inference calls only).
    private func winogradWeights(_ ctx: ForwardContext) -> WinogradWeightSource? {
        guard !ctx.training, let cache = ctx.winogradWeights else { return nil }
        return (cache, ObjectIdentifier(weight))
    }
}

/// y[..., c] = x[..., c] + b[c].
func addChannelBias(_ x: Variable, _ b: Variable) -> Variable {
    let c = b.shape[0], m = x.value.count / c
    let y = Tensor(shape: x.shape) { out in
        x.value.scalars.withUnsafeBufferPointer { p in
            for r in 0..<m { for j in 0..<c { out[r * c + j] = p[r * c + j] + b.value.scalars[j] } }
        }
    }
    return Variable(y, parents: [x, b]) { g in
        var db = [Float](repeating: 0, count: c)
        for r in 0..<m { for j in 0..<c { db[j] += g.scalars[r * c + j] } }
        return [g, Tensor(shape: [c], scalars: db)]
    }
}
