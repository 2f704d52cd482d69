/// Updates parameters from their gradients. Optimizer state lives in the optimizer, keyed by
/// the parameter's position, so the same optimizer must always see the same parameter list.
public protocol Optimizer {
    mutating func step(_ parameters: [Parameter], learningRate: Float)
    /// Slot variables (momentum, mean square, ...), one array per slot and trainable parameter,
    /// for checkpoints; empty before the first step.
    var state: [[Float]] { get set }
}
