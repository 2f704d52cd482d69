/// Batch normalisation with learned scale/offset and running statistics (saved in checkpoints).
public final class BatchNorm: Layer {
    /// Learned per-channel gamma and beta, shape [C]; no weight decay.
    public let scale: Parameter, offset: Parameter
    /// Per-channel statistics used in inference, shape [C]; updated in training, not by optimizers.
    public let runningMean: Parameter, runningVariance: Parameter
    /// TensorFlow convention: fraction of the running statistics kept per step (0.99 = slow).
    public let momentum: Float
    /// Added to the variance before the square root (official EfficientNet: 1e-3).
    public let epsilon: Float

    /// Batch norm over the last (channel) axis of NHWC input: gamma 1, beta 0, running mean 0 and
    /// variance 1. EfficientNet passes the official momentum 0.99 and epsilon 1e-3.
    public init(channels: Int, momentum: Float = 0.9, epsilon: Float = 1e-5) {
        scale = Parameter(Tensor(repeating: 1, shape: [channels]), decays: false)
        offset = Parameter(Tensor(zeros: [channels]), decays: false)
        runningMean = Parameter(Tensor(zeros: [channels]), decays: false, trainable: false)
        runningVariance = Parameter(Tensor(repeating: 1, shape: [channels]), decays: false, trainable: false)
        self.momentum = momentum; self.epsilon = epsilon
    }

    /// `scale`, `offset`, `runningMean`, `runningVariance`, in that order (checkpoint names).
    public var ownParameters: [(name: String, parameter: Parameter)] {
        [("scale", scale), ("offset", offset), ("runningMean", runningMean), ("runningVariance", runningVariance)]
    }

    /// Normalises NHWC `x` per channel: batch statistics in training (updating the running ones),
    /// running statistics in inference. Same shape out.
    public func callAsFunction(_ x: Variable, _ ctx: ForwardContext) -> Variable { normalize(x, ctx) }

    /// `relu(self(x, ctx))` in one fused pass (the same numbers).
    func thenReLU(_ x: Variable, _ ctx: ForwardContext) -> Variable { normalize(x, ctx, relu: true) }

    /// `self(conv(x, ctx), ctx)`, then `+ residual` and ReLU when given: a convolution and the
    /// batch norm after it, as in post-activation ResNets. The same numbers as the separate ops.
    /// In inference passes that record no parameter gradients, the batch norm (constants then),
    /// the add and the ReLU run inside the convolution, image by image while its output is in
    /// cache; in training, the convolution takes the batch norm's moments as it stores its output
    /// (the same values as taking them after), and the batch norm, add and ReLU are one pass.
    func normalizing(_ conv: Conv2D, _ x: Variable, _ ctx: ForwardContext,
                            adding residual: Variable? = nil, relu: Bool = false) -> Variable {
        if ctx.fusesInference && conv.bias == nil {
            let (mean, invStd) = inferenceStatistics(runningMean: runningMean, runningVariance: runningVariance, epsilon: epsilon)
            let (a, b) = normalizingAffine(gamma: scale.value.scalars, beta: offset.value.scalars, mean: mean, invStd: invStd)
            return conv(x, ctx, epilogue: ConvEpilogue(scale: a, shift: b, residual: residual, relu: relu))
        }
        var moments: BatchMoments? = nil
        let h: Variable
        if ctx.training && conv.bias == nil {
            var epilogue = ConvEpilogue()
            epilogue.moments = BatchMoments()
            moments = epilogue.moments
            h = conv(x, ctx, epilogue: epilogue)
        } else {
            h = conv(x, ctx)
        }
        guard let residual else { return normalize(h, ctx, relu: relu, moments: moments) }
        return relu ? normalize(h, ctx, relu: true, residual: residual, moments: moments)
                    : normalize(h, ctx, moments: moments) + residual
    }

    private func normalize(_ x: Variable, _ ctx: ForwardContext, relu: Bool = false, residual: Variable? = nil,
                           moments: BatchMoments? = nil) -> Variable {
        batchNorm(x, scale: ctx.variable(scale), offset: ctx.variable(offset), runningMean: runningMean,
                  runningVariance: runningVariance, momentum: momentum, epsilon: epsilon, training: ctx.training,
                  relu: relu, residual: residual, across: ctx.batchStatistics, moments: moments)
    }
}
