import Foundation

/// Row-wise softmax of [N, C] logits at a temperature, computed stably (max subtracted).
public func softmax(_ logits: Tensor, temperature: Float = 1) -> Tensor {
    precondition(logits.rank == 2, "softmax: logits must be [N, C], got \(logits.shape)")
    precondition(temperature > 0, "softmax: temperature must be positive")
    let n = logits.shape[0], c = logits.shape[1]
    return Tensor(shape: logits.shape) { out in
        logits.scalars.withUnsafeBufferPointer { p in
            for i in 0..<n {
                let row = p.baseAddress! + i * c, o = out.baseAddress! + i * c
                var mx = -Float.infinity
                for j in 0..<c { mx = max(mx, row[j]) }
                var s: Float = 0
                for j in 0..<c { o[j] = expf((row[j] - mx) / temperature); s += o[j] }
                for j in 0..<c { o[j] /= s }
            }
        }
    }
}

/// Mean over the batch of cross-entropy between soft targets [N, C] (rows summing to 1) and
/// softmax(logits). Uses log-sum-exp, so large logits neither overflow nor lose precision.
public func softmaxCrossEntropy(logits: Variable, targets: Tensor) -> Variable {
    precondition(logits.shape == targets.shape && logits.shape.count == 2,
                 "softmaxCrossEntropy: logits \(logits.shape) and targets \(targets.shape) must both be [N, C]")
    let n = logits.shape[0], c = logits.shape[1]
    var total: Double = 0
    var probs = [Float](repeating: 0, count: n * c)
    var targetMass = [Float](repeating: 0, count: n)
    logits.value.scalars.withUnsafeBufferPointer { p in
        targets.scalars.withUnsafeBufferPointer { t in
            for i in 0..<n {
                let row = p.baseAddress! + i * c, tr = t.baseAddress! + i * c
                var mx = -Float.infinity
                for j in 0..<c { mx = max(mx, row[j]) }
                var s: Double = 0
                for j in 0..<c { s += Double(expf(row[j] - mx)) }
                let logZ = Double(mx) + log(s)
                var mass: Float = 0
                for j in 0..<c {
                    total -= Double(tr[j]) * (Double(row[j]) - logZ)
                    probs[i * c + j] = Float(exp(Double(row[j]) - logZ))
                    mass += tr[j]
                }
                targetMass[i] = mass
            }
        }
    }
    let loss = Tensor(shape: [], scalars: [Float(total / Double(max(n, 1)))])
    return Variable(loss, parents: [logits]) { g in
        let scale = g.scalars[0] / Float(max(n, 1))
        return [Tensor(shape: [n, c]) { out in
            targets.scalars.withUnsafeBufferPointer { t in
                for i in 0..<n {
                    for j in 0..<c {
                        // d/dz of -sum t log softmax(z) = softmax(z) * sum(t) - t.
                        out[i * c + j] = scale * (probs[i * c + j] * targetMass[i] - t[i * c + j])
                    }
                }
            }
        }]
    }
}

/// Hard labels as targets, with optional label smoothing: (1 - eps) * onehot + eps / C.
public func oneHotTargets(_ labels: [Int], classes: Int, labelSmoothing: Float = 0) -> Tensor {
    let off = labelSmoothing / Float(classes), on = 1 - labelSmoothing + off
    var t = Tensor(repeating: off, shape: [labels.count, classes])
    for (i, y) in labels.enumerated() {
        precondition(y >= 0 && y < classes, "label \(y) out of range 0..<\(classes)")
        t.scalars[i * classes + y] = on
    }
    return t
}

/// Mean cross entropy of `logits` [N, C] against hard `labels` (each in 0..<C), with optional
/// label smoothing (official SVHN recipe: 0.1 on labeled images). Returns a scalar.
public func softmaxCrossEntropy(logits: Variable, labels: [Int], labelSmoothing: Float = 0) -> Variable {
    softmaxCrossEntropy(logits: logits, targets: oneHotTargets(labels, classes: logits.shape[1], labelSmoothing: labelSmoothing))
}
