/// Exponential moving average of weights (and batch-norm statistics), as TF's
/// `ExponentialMovingAverage(decay, num_updates)`: shadow = d * shadow + (1 - d) * value, with
/// d = min(decay, (1 + t) / (10 + t)) when warm-up is on, so early averages are not stuck at
/// the random initialisation. Evaluation swaps the averages in.
public struct ExponentialMovingAverage {
    /// The decay once warm-up is over (official: 0.9999).
    public var decay: Float
    /// Whether the decay ramps up as min(decay, (1 + t) / (10 + t)) (TF's `num_updates`).
    public var warmup: Bool
    /// Updates made so far (t above).
    public private(set) var updates: Int = 0
    /// The averages, one array per parameter in the order given to `init`.
    public private(set) var shadow: [[Float]]

    /// Averages of `parameters` (trainable or not), starting at their current values.
    public init(_ parameters: [Parameter], decay: Float = 0.9999, warmup: Bool = true) {
        self.decay = decay; self.warmup = warmup
        shadow = parameters.map(\.value.scalars)
    }

    /// The decay the next `update` uses.
    var currentDecay: Float {
        warmup ? min(decay, Float(1 + updates) / Float(10 + updates)) : decay
    }

    /// Moves each average towards the parameter's value (call after each optimizer step); the list
    /// must be the one given to `init`.
    public mutating func update(_ parameters: [Parameter]) {
        precondition(parameters.count == shadow.count, "EMA: parameter list changed")
        let d = currentDecay
        for (k, p) in parameters.enumerated() {
            p.value.scalars.withUnsafeBufferPointer { w in
                shadow[k].withUnsafeMutableBufferPointer { s in
                    for i in 0..<s.count { s[i] = d * s[i] + (1 - d) * w[i] }
                }
            }
        }
        updates += 1
    }

    /// Copies the averages into the parameters (e.g. into an evaluation copy of the model).
    public func copy(into parameters: [Parameter]) {
        precondition(parameters.count == shadow.count, "EMA: parameter list changed")
        for (k, p) in parameters.enumerated() { p.value.scalars = shadow[k] }
    }

    /// Restores a saved state (e.g. from a checkpoint).
    public mutating func restore(shadow: [[Float]], updates: Int) {
        precondition(shadow.count == self.shadow.count, "EMA: parameter list changed")
        self.shadow = shadow; self.updates = updates
    }
}
