import Randomness

/// Squeeze-and-excitation (Hu et al. 2018) as in EfficientNet: global pool -> reduce (swish) ->
/// expand (sigmoid) -> rescale the channels.
public final class SqueezeExcite: Layer {
    /// The two 1x1 convolutions with bias: channels -> reduced -> channels.
    public let reduce: Conv2D, expand: Conv2D

    /// SE over `channels` with a bottleneck of `reduced` (EfficientNet: input filters x se_ratio 0.25).
    public init(channels: Int, reduced: Int, rng: inout SeededGenerator) {
        reduce = Conv2D(kernel: 1, in: channels, out: max(1, reduced), bias: true, rng: &rng)
        expand = Conv2D(kernel: 1, in: max(1, reduced), out: channels, bias: true, rng: &rng)
    }

    /// The reduce then the expand convolution (the checkpoint names `reduce.*`, `expand.*`).
    public var children: [(name: String, module: any Module)] { [("reduce", reduce), ("expand", expand)] }

    /// Rescales each channel of NHWC `x` by a gate in (0, 1) computed from its global average. Same shape out.
    public func callAsFunction(_ x: Variable, _ ctx: ForwardContext) -> Variable {
        let n = x.shape[0], c = x.shape[3]
        let pooled = reshape(globalAveragePool(x), [n, 1, 1, c])
        let gate = sigmoid(expand(swish(reduce(pooled, ctx)), ctx))
        return scaleChannels(x, by: reshape(gate, [n, c]))
    }
}
