/// Batch normalisation over every axis but the last (channels, NHWC or [N, C]).
///
/// Training mode normalises with the batch's statistics and updates the running ones
/// TensorFlow's way: `running = momentum * running + (1 - momentum) * batch` (momentum 0.99 keeps
/// 99%). The running variance uses the unbiased batch variance, as TF and PyTorch do.
/// Inference mode normalises with the running statistics.
public func batchNorm(_ x: Variable, scale: Variable, offset: Variable,
                      runningMean: Parameter, runningVariance: Parameter,
                      momentum: Float, epsilon: Float, training: Bool) -> Variable {
    let c = x.shape.last ?? 0
    precondition(scale.shape == [c] && offset.shape == [c], "batchNorm: scale/offset must be [\(c)]")
    let xv = x.value
    let m = xv.count / max(c, 1)
    var mean = [Float](repeating: 0, count: c), invStd = [Float](repeating: 0, count: c)
    if training {
        precondition(m > 1, "batchNorm: training needs more than one value per channel, got shape \(x.shape)")
        // Two passes in Double per channel: stable for large batches of small activations.
        var sum = [Double](repeating: 0, count: c), sq = [Double](repeating: 0, count: c)
        xv.scalars.withUnsafeBufferPointer { p in
            var r = 0
            while r < m {
                let row = p.baseAddress! + r * c
                for j in 0..<c { sum[j] += Double(row[j]) }
                r += 1
            }
            for j in 0..<c { mean[j] = Float(sum[j] / Double(m)) }
            r = 0
            while r < m {
                let row = p.baseAddress! + r * c
                for j in 0..<c { let d = Double(row[j] - mean[j]); sq[j] += d * d }
                r += 1
            }
        }
        for j in 0..<c {
            let variance = sq[j] / Double(m)
            invStd[j] = Float(1 / (variance + Double(epsilon)).squareRoot())
            runningMean.value.scalars[j] = momentum * runningMean.value.scalars[j] + (1 - momentum) * mean[j]
            let unbiased = Float(sq[j] / Double(m - 1))
            runningVariance.value.scalars[j] = momentum * runningVariance.value.scalars[j] + (1 - momentum) * unbiased
        }
    } else {
        for j in 0..<c {
            mean[j] = runningMean.value.scalars[j]
            invStd[j] = 1 / (runningVariance.value.scalars[j] + epsilon).squareRoot()
        }
    }
    let gamma = scale.value.scalars, beta = offset.value.scalars
    // y = x * a + b with per-channel a = gamma * invStd, b = beta - mean * a.
    var a = [Float](repeating: 0, count: c), b = [Float](repeating: 0, count: c)
    for j in 0..<c { a[j] = gamma[j] * invStd[j]; b[j] = beta[j] - mean[j] * a[j] }
    let y = Tensor(shape: xv.shape) { out in
        xv.scalars.withUnsafeBufferPointer { p in
            for r in 0..<m {
                let row = p.baseAddress! + r * c, o = out.baseAddress! + r * c
                for j in 0..<c { o[j] = row[j] * a[j] + b[j] }
            }
        }
    }
    let isTraining = training
    return Variable(y, parents: [x, scale, offset]) { dy in
        // Per-channel sums of dy and dy * xhat.
        var sumDy = [Float](repeating: 0, count: c), sumDyXhat = [Float](repeating: 0, count: c)
        dy.scalars.withUnsafeBufferPointer { g in
            xv.scalars.withUnsafeBufferPointer { p in
                for r in 0..<m {
                    let gr = g.baseAddress! + r * c, xr = p.baseAddress! + r * c
                    for j in 0..<c {
                        sumDy[j] += gr[j]
                        sumDyXhat[j] += gr[j] * (xr[j] - mean[j]) * invStd[j]
                    }
                }
            }
        }
        var dx: Tensor? = nil
        if x.requiresGrad {
            dx = Tensor(shape: xv.shape) { out in
                dy.scalars.withUnsafeBufferPointer { g in
                    xv.scalars.withUnsafeBufferPointer { p in
                        if isTraining {
                            let invM = 1 / Float(m)
                            var k1 = [Float](repeating: 0, count: c), k2 = [Float](repeating: 0, count: c)
                            for j in 0..<c {
                                k1[j] = sumDy[j] * invM
                                k2[j] = sumDyXhat[j] * invM
                            }
                            for r in 0..<m {
                                let gr = g.baseAddress! + r * c, xr = p.baseAddress! + r * c
                                let o = out.baseAddress! + r * c
                                for j in 0..<c {
                                    let xhat = (xr[j] - mean[j]) * invStd[j]
                                    o[j] = a[j] * (gr[j] - k1[j] - xhat * k2[j])
                                }
                            }
                        } else {
                            for r in 0..<m {
                                let gr = g.baseAddress! + r * c, o = out.baseAddress! + r * c
                                for j in 0..<c { o[j] = gr[j] * a[j] }
                            }
                        }
                    }
                }
            }
        }
        return [dx, Tensor(shape: [c], scalars: sumDyXhat), Tensor(shape: [c], scalars: sumDy)]
    }
}
