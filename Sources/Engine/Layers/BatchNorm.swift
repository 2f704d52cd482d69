/// Batch normalisation with learned scale/offset and running statistics (saved in checkpoints).
public final class BatchNorm: Layer {
    public let scale: Parameter, offset: Parameter
    public let runningMean: Parameter, runningVariance: Parameter
    /// TensorFlow convention: fraction of the running statistics kept per step (0.99 = slow).
    public let momentum: Float
    public let epsilon: Float

    public init(channels: Int, momentum: Float = 0.9, epsilon: Float = 1e-5) {
        scale = Parameter(Tensor(repeating: 1, shape: [channels]), decays: false)
        offset = Parameter(Tensor(zeros: [channels]), decays: false)
        runningMean = Parameter(Tensor(zeros: [channels]), decays: false, trainable: false)
        runningVariance = Parameter(Tensor(repeating: 1, shape: [channels]), decays: false, trainable: false)
        self.momentum = momentum; self.epsilon = epsilon
    }

    public var namedParameters: [(name: String, parameter: Parameter)] {
        [("scale", scale), ("offset", offset), ("runningMean", runningMean), ("runningVariance", runningVariance)]
    }

    public func callAsFunction(_ x: Variable, _ ctx: ForwardContext) -> Variable {
        batchNorm(x, scale: ctx.variable(scale), offset: ctx.variable(offset), runningMean: runningMean,
                  runningVariance: runningVariance, momentum: momentum, epsilon: epsilon, training: ctx.training)
    }

    /// `relu(self(x, ctx))` in one fused pass (the same numbers).
    public func thenReLU(_ x: Variable, _ ctx: ForwardContext) -> Variable {
        batchNorm(x, scale: ctx.variable(scale), offset: ctx.variable(offset), runningMean: runningMean,
                  runningVariance: runningVariance, momentum: momentum, epsilon: epsilon, training: ctx.training,
                  relu: true)
    }
}
