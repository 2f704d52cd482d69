import Randomness

/// Fully connected layer: [N, K] -> [N, O].
public final class Dense: Layer {
    /// Weight [in, out] and bias [out], both uniform in +-1/sqrt(in) (PyTorch's `nn.Linear` default).
    public let weight: Parameter, bias: Parameter

    /// A layer mapping `inputs` features to `outputs`, initialised from `rng`.
    public init(in inputs: Int, out outputs: Int, rng: inout SeededGenerator) {
        weight = Parameter(Initializer.uniformFanIn([inputs, outputs], fanIn: inputs, rng: &rng))
        bias = Parameter(Initializer.uniformFanIn([outputs], fanIn: inputs, rng: &rng), decays: false)
    }

    /// `weight`, then `bias` (checkpoint names).
    public var ownParameters: [(name: String, parameter: Parameter)] { [("weight", weight), ("bias", bias)] }

    /// x W + b for `x` of shape [N, in]; returns [N, out].
    public func callAsFunction(_ x: Variable, _ ctx: ForwardContext) -> Variable {
        linear(x, ctx.variable(weight), ctx.variable(bias))
    }
}
