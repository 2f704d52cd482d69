/// Stochastic gradient descent with (Nesterov) momentum and L2 weight decay, PyTorch semantics:
/// g = grad + wd * w;  v = mu * v + g;  step = nesterov ? g + mu * v : v;  w -= lr * step.
public struct SGD: Optimizer {
    /// Momentum mu (0.9 by default).
    public var momentum: Float
    /// Whether to take the Nesterov step g + mu * v instead of v.
    public var nesterov: Bool
    /// L2 coefficient added to the gradient of parameters that decay.
    public var weightDecay: Float
    private var velocity: [[Float]] = []

    /// SGD with the given momentum and weight decay; velocities start at 0.
    public init(momentum: Float = 0.9, nesterov: Bool = true, weightDecay: Float = 0) {
        self.momentum = momentum; self.nesterov = nesterov; self.weightDecay = weightDecay
    }

    /// The velocities, one array per trainable parameter (for checkpoints).
    public var state: [[Float]] {
        get { velocity }
        set { velocity = newValue }
    }

    /// One update of the trainable `parameters` from their gradients.
    public mutating func step(_ parameters: [Parameter], learningRate lr: Float) {
        let params = parameters.filter(\.trainable)
        if velocity.count != params.count { velocity = params.map { [Float](repeating: 0, count: $0.value.count) } }
        for (k, p) in params.enumerated() {
            let wd = p.decays ? weightDecay : 0, mu = momentum, nest = nesterov
            p.value.scalars.withUnsafeMutableBufferPointer { w in
                p.grad.scalars.withUnsafeBufferPointer { g in
                    velocity[k].withUnsafeMutableBufferPointer { v in
                        for i in 0..<w.count {
                            let gi = g[i] + wd * w[i]
                            v[i] = mu * v[i] + gi
                            w[i] -= lr * (nest ? gi + mu * v[i] : v[i])
                        }
                    }
                }
            }
        }
    }
}
