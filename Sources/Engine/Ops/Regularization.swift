import Randomness

/// Inverted dropout: zeroes each value with probability `rate` and scales survivors by 1/(1-rate).
public func dropout(_ x: Variable, rate: Float, rng: inout SeededGenerator) -> Variable {
    guard rate > 0 else { return x }
    precondition(rate < 1, "dropout: rate must be below 1, got \(rate)")
    let keep = 1 - rate, scale = 1 / keep
    var mask = [Float](repeating: 0, count: x.value.count)
    for i in 0..<mask.count { mask[i] = rng.uniform() < keep ? scale : 0 }
    return applyMask(x, mask)
}

/// Stochastic depth on a residual branch: each sample's branch survives with probability
/// `survival` (scaled by 1/survival), else is dropped whole (Huang et al. 2016; EfficientNet's
/// drop_connect).
public func dropPath(_ x: Variable, survival: Float, rng: inout SeededGenerator) -> Variable {
    guard survival < 1 else { return x }
    precondition(survival > 0, "dropPath: survival must be positive, got \(survival)")
    let n = x.shape[0], per = x.value.count / max(n, 1)
    var mask = [Float](repeating: 0, count: x.value.count)
    for i in 0..<n {
        let v: Float = rng.uniform() < survival ? 1 / survival : 0
        for j in 0..<per { mask[i * per + j] = v }
    }
    return applyMask(x, mask)
}

private func applyMask(_ x: Variable, _ mask: [Float]) -> Variable {
    let y = Tensor(shape: x.shape) { out in
        x.value.scalars.withUnsafeBufferPointer { p in
            for i in 0..<out.count { out[i] = p[i] * mask[i] }
        }
    }
    return Variable(y, parents: [x]) { g in
        [Tensor(shape: g.shape) { out in
            g.scalars.withUnsafeBufferPointer { gp in
                for i in 0..<out.count { out[i] = gp[i] * mask[i] }
            }
        }]
    }
}
