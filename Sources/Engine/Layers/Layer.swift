import Randomness

/// Per-forward-pass state, passed explicitly (no global "learning phase" or RNG).
public final class ForwardContext {
    /// Training mode: batch statistics in batch norm, dropout and stochastic depth active.
    public let training: Bool
    /// Whether parameters record gradients (false for inference and for input-only gradients).
    public let recordsGradients: Bool
    /// The source of randomness for dropout and stochastic depth.
    public var rng: SeededGenerator
    /// Training over several processes with synchronised batch norm: sums the batch statistics
    /// over them, so each batch norm normalises with the global batch's. Nil: this process's rows.
    public let batchStatistics: (any BatchStatisticsReducer)?
    /// Training over several processes: where this process's rows sit in the global batch, so
    /// that dropout and stochastic-depth masks are drawn for the global batch and do not depend
    /// on the number of processes. Nil: the rows are the whole batch.
    public let globalRows: GlobalRows?

    /// A pass in training or inference mode; `recordsGradients` defaults to `training`, and `rng`
    /// drives dropout and stochastic depth (fixed seed: reproducible noise). `batchStatistics` and
    /// `globalRows` are for data-parallel training (see their properties); nil on one process.
    public init(training: Bool, recordsGradients: Bool? = nil, rng: SeededGenerator = SeededGenerator(seed: 0),
                batchStatistics: (any BatchStatisticsReducer)? = nil, globalRows: GlobalRows? = nil) {
        self.training = training
        self.recordsGradients = recordsGradients ?? training
        self.rng = rng
        self.batchStatistics = batchStatistics
        self.globalRows = globalRows
    }

    /// An inference pass: running batch-norm statistics, no noise, no gradients recorded.
    public static func inference() -> ForwardContext { ForwardContext(training: false) }

    /// Winograd-transformed weights shared with the other passes of one inference call (the
    /// chunks of `Layer.predict`), or nil: each convolution transforms its own.
    private(set) var winogradWeights: WinogradWeightCache?

    /// An inference pass whose convolutions share their Winograd weights through `cache`. The
    /// cache keeps the first transform of each weight: it must not outlive the call it was made
    /// for, nor see a weight update (`Layer.predict` makes one per call).
    static func inference(sharing cache: WinogradWeightCache) -> ForwardContext {
        let ctx = ForwardContext(training: false)
        ctx.winogradWeights = cache
        return ctx
    }

    /// Whether layers may fuse the ops after a convolution into it: inference with no parameter
    /// gradients recorded, where batch-norm parameters are constants (input gradients still flow).
    var fusesInference: Bool { !training && !recordsGradients }

    /// The graph leaf for a parameter in this pass.
    public func variable(_ p: Parameter) -> Variable { Variable(p, recording: recordsGradients) }
}

/// A differentiable function with parameters, called like a function (Swift for TensorFlow style).
public protocol Layer: Module {
    func callAsFunction(_ x: Variable, _ ctx: ForwardContext) -> Variable
}

/// Weight initialisers (deterministic from the generator handed in).
enum Initializer {
    /// He et al. normal: std = sqrt(2 / fanIn), for ReLU/swish networks.
    static func heNormal(_ shape: [Int], fanIn: Int, rng: inout SeededGenerator) -> Tensor {
        let std = (2 / Float(max(fanIn, 1))).squareRoot()
        var t = Tensor(zeros: shape)
        for i in 0..<t.count { t.scalars[i] = rng.normal() * std }
        return t
    }

    /// Uniform in +-1/sqrt(fanIn) (the classic dense-layer default).
    static func uniformFanIn(_ shape: [Int], fanIn: Int, rng: inout SeededGenerator) -> Tensor {
        let r = 1 / Float(max(fanIn, 1)).squareRoot()
        var t = Tensor(zeros: shape)
        for i in 0..<t.count { t.scalars[i] = rng.uniform(-r, r) }
        return t
    }
}
