import Randomness

/// Fully connected layer: [N, K] -> [N, O].
public final class Dense: Layer {
    public let weight: Parameter, bias: Parameter

    public init(in inputs: Int, out outputs: Int, rng: inout SeededGenerator) {
        weight = Parameter(Initializer.uniformFanIn([inputs, outputs], fanIn: inputs, rng: &rng))
        bias = Parameter(Initializer.uniformFanIn([outputs], fanIn: inputs, rng: &rng), decays: false)
    }

    public var ownParameters: [(name: String, parameter: Parameter)] { [("weight", weight), ("bias", bias)] }

    public func callAsFunction(_ x: Variable, _ ctx: ForwardContext) -> Variable {
        linear(x, ctx.variable(weight), ctx.variable(bias))
    }
}
