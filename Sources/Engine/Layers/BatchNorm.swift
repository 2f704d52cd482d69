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

    public var ownParameters: [(name: String, parameter: Parameter)] {
        [("scale", scale), ("offset", offset), ("runningMean", runningMean), ("runningVariance", runningVariance)]
    }

    public func callAsFunction(_ x: Variable, _ ctx: ForwardContext) -> Variable { normalize(x, ctx) }

    /// `relu(self(x, ctx))` in one fused pass (the same numbers).
    public func thenReLU(_ x: Variable, _ ctx: ForwardContext) -> Variable { normalize(x, ctx, relu: true) }

    /// `self(conv(x, ctx), ctx)`, then `+ residual` and ReLU when given: a convolution and the
    /// batch norm after it, as in post-activation ResNets. The same numbers as the separate ops.
    /// In inference passes that record no parameter gradients, the batch norm (constants then),
    /// the add and the ReLU run inside the convolution, image by image while its output is in
    /// cache; in training, the batch norm, add and ReLU are one pass.
    public func normalizing(_ conv: Conv2D, _ x: Variable, _ ctx: ForwardContext,
                            adding residual: Variable? = nil, relu: Bool = false) -> Variable {
        if ctx.fusesInference && conv.bias == nil {
            let (mean, invStd) = inferenceStatistics(runningMean: runningMean, runningVariance: runningVariance, epsilon: epsilon)
            let (a, b) = normalizingAffine(gamma: scale.value.scalars, beta: offset.value.scalars, mean: mean, invStd: invStd)
            return conv(x, ctx, epilogue: ConvEpilogue(scale: a, shift: b, residual: residual, relu: relu))
        }
        let h = conv(x, ctx)
        guard let residual else { return normalize(h, ctx, relu: relu) }
        return relu ? normalize(h, ctx, relu: true, residual: residual) : normalize(h, ctx) + residual
    }

    private func normalize(_ x: Variable, _ ctx: ForwardContext, relu: Bool = false, residual: Variable? = nil) -> Variable {
        batchNorm(x, scale: ctx.variable(scale), offset: ctx.variable(offset), runningMean: runningMean,
                  runningVariance: runningVariance, momentum: momentum, epsilon: epsilon, training: ctx.training,
                  relu: relu, residual: residual)
    }
}
