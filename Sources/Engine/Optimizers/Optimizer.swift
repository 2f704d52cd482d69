/// Updates parameters from their gradients. Optimizer state lives in the optimizer, keyed by
/// the parameter's position, so the same optimizer must always see the same parameter list.
public protocol Optimizer {
    mutating func step(_ parameters: [Parameter], learningRate: Float)
}

/// Gradient plus L2 weight decay (as the official code adds `wd * l2_loss` to the loss).
@inline(__always)
func decayedGradient(_ p: Parameter, _ i: Int, weightDecay: Float) -> Float {
    p.grad.scalars[i] + (p.decays ? weightDecay * p.value.scalars[i] : 0)
}
