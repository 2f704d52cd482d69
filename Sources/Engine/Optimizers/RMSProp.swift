/// RMSProp as TensorFlow 1's `tf.train.RMSPropOptimizer` applies it (the official EfficientNet
/// and Noisy Student optimizer):
///   ms  = decay * ms + (1 - decay) * g^2          (ms starts at 1, not 0)
///   mom = momentum * mom + lr * g / sqrt(ms + eps)  (epsilon inside the square root)
///   w  -= mom
/// with g = grad + wd * w for decayed weights.
public struct RMSProp: Optimizer {
    /// Decay rho of the mean square (official: 0.9).
    public var decay: Float
    /// Momentum mu (official: 0.9).
    public var momentum: Float
    /// Epsilon added inside the square root (official: 1e-3, TF's default is 1e-10).
    public var epsilon: Float
    /// L2 coefficient added to the gradient of parameters that decay (official SVHN recipe: 1e-4).
    public var weightDecay: Float
    private var meanSquare: [[Float]] = []
    private var moment: [[Float]] = []

    /// RMSProp with the official EfficientNet settings by default; state is created on the first step.
    public init(decay: Float = 0.9, momentum: Float = 0.9, epsilon: Float = 1e-3, weightDecay: Float = 0) {
        self.decay = decay; self.momentum = momentum; self.epsilon = epsilon; self.weightDecay = weightDecay
    }

    /// Mean squares then moments, one array per trainable parameter each.
    public var state: [[Float]] {
        get { meanSquare + moment }
        set {
            let half = newValue.count / 2
            meanSquare = Array(newValue[..<half]); moment = Array(newValue[half...])
        }
    }

    /// One update of the trainable `parameters` from their gradients (formula above).
    public mutating func step(_ parameters: [Parameter], learningRate lr: Float) {
        let params = parameters.filter(\.trainable)
        if meanSquare.count != params.count {
            meanSquare = params.map { [Float](repeating: 1, count: $0.value.count) }
            moment = params.map { [Float](repeating: 0, count: $0.value.count) }
        }
        for (k, p) in params.enumerated() {
            let wd = p.decays ? weightDecay : 0, rho = decay, mu = momentum, eps = epsilon
            p.value.scalars.withUnsafeMutableBufferPointer { w in
                p.grad.scalars.withUnsafeBufferPointer { g in
                    meanSquare[k].withUnsafeMutableBufferPointer { ms in
                        moment[k].withUnsafeMutableBufferPointer { m in
                            for i in 0..<w.count {
                                let gi = g[i] + wd * w[i]
                                ms[i] = rho * ms[i] + (1 - rho) * gi * gi
                                m[i] = mu * m[i] + lr * gi / (ms[i] + eps).squareRoot()
                                w[i] -= m[i]
                            }
                        }
                    }
                }
            }
        }
    }
}
