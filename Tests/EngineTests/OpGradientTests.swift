import Testing
import Engine
import Randomness

/// Every op's gradient (inputs and weights) against central differences.
@Suite struct OpGradientTests {
    var rng = SeededGenerator(seed: 11)
    let tolerance: Float = 2e-2

    mutating func r(_ shape: [Int], _ scale: Float = 1) -> Tensor { GradientCheck.random(shape, &rng, scale: scale) }

    @Test(arguments: [
        // (kernel, stride, padding or -1 for SAME, cin, cout, groups)
        (3, 1, 1, 3, 4, 1), (3, 2, 1, 2, 3, 1), (3, 2, -1, 2, 3, 1), (1, 1, 0, 3, 5, 1),
        (1, 2, 0, 4, 2, 1), (5, 1, -1, 2, 2, 1), (3, 1, 1, 4, 4, 4), (3, 2, -1, 3, 3, 3),
        (5, 2, -1, 2, 2, 2), (3, 1, 1, 4, 6, 2),
    ])
    mutating func convolution(_ c: (Int, Int, Int, Int, Int, Int)) {
        let (k, s, p, cin, cout, groups) = c
        let x = r([2, 7, 6, cin]), w = r([k, k, cin / groups, cout], 0.5)
        let err = GradientCheck.maxRelativeError([x, w]) { v in
            conv2d(v[0], v[1], stride: s, padding: p < 0 ? nil : p, groups: groups)
        }
        #expect(err < tolerance, "conv k\(k) s\(s) p\(p) \(cin)->\(cout) g\(groups): \(err)")
    }

    @Test mutating func batchNormTrainingAndInference() {
        let x = r([4, 3, 3, 5], 2), gamma = r([5]), beta = r([5])
        for training in [true, false] {
            let err = GradientCheck.maxRelativeError([x, gamma, beta], samples: 60) { v in
                let mean = Parameter(Tensor(repeating: 0.3, shape: [5]), trainable: false)
                let variance = Parameter(Tensor(repeating: 1.7, shape: [5]), trainable: false)
                return batchNorm(v[0], scale: v[1], offset: v[2], runningMean: mean, runningVariance: variance,
                                 momentum: 0.9, epsilon: 1e-3, training: training)
            }
            #expect(err < tolerance, "batch norm training=\(training): \(err)")
        }
    }

    @Test mutating func fusedBatchNormReLU() {
        // Central differences are meaningless across the ReLU's kink, so keep every input well away
        // from it: beta = 0 and gamma > 0 put the kink at x = the channel's mean (the batch's in
        // training, the running one, set equal, in inference); push x at least 0.4 from it.
        var x = r([4, 3, 3, 5], 2), gamma = r([5]), beta = Tensor(zeros: [5])
        for j in 0..<5 { gamma.scalars[j] = abs(gamma.scalars[j]) + 0.5 }
        var means = [Float](repeating: 0, count: 5)
        for _ in 0..<3 {  // pushing moves the mean a little; repeat until stable
            means = (0..<5).map { j in stride(from: j, to: x.count, by: 5).map { x.scalars[$0] }.reduce(0, +) / 36 }
            for i in 0..<x.count where abs(x.scalars[i] - means[i % 5]) < 0.4 {
                x.scalars[i] = means[i % 5] + (x.scalars[i] < means[i % 5] ? -0.4 : 0.4)
            }
        }
        for training in [true, false] {
            let err = GradientCheck.maxRelativeError([x, gamma, beta], samples: 60) { v in
                let mean = Parameter(Tensor(shape: [5], scalars: means), trainable: false)
                let variance = Parameter(Tensor(repeating: 1.7, shape: [5]), trainable: false)
                return batchNorm(v[0], scale: v[1], offset: v[2], runningMean: mean, runningVariance: variance,
                                 momentum: 0.9, epsilon: 1e-3, training: training, relu: true)
            }
            #expect(err < tolerance, "batch norm + ReLU training=\(training): \(err)")
        }
    }

    /// The fused op is an optimisation, not a new function: same values and gradients, bit for bit.
    @Test mutating func fusedBatchNormReLUEqualsTheComposition() {
        let x = r([6, 5, 4, 24], 2), gamma = r([24]), beta = r([24]), seed = r([6, 5, 4, 24])
        for training in [true, false] {
            func run(fused: Bool) -> [[Float]] {
                let mean = Parameter(Tensor(repeating: 0.3, shape: [24]), trainable: false)
                let variance = Parameter(Tensor(repeating: 1.7, shape: [24]), trainable: false)
                let v = [x, gamma, beta].map { Variable($0, requiresGrad: true) }
                let y = fused
                    ? batchNorm(v[0], scale: v[1], offset: v[2], runningMean: mean, runningVariance: variance,
                                momentum: 0.9, epsilon: 1e-3, training: training, relu: true)
                    : relu(batchNorm(v[0], scale: v[1], offset: v[2], runningMean: mean, runningVariance: variance,
                                     momentum: 0.9, epsilon: 1e-3, training: training))
                GradientCheck.project(y, seed).backward()
                return [y.value.scalars] + v.map { $0.grad?.scalars ?? [] } + [mean.value.scalars, variance.value.scalars]
            }
            let fused = run(fused: true), composed = run(fused: false)
            #expect(fused[0].contains(0) && fused[0].contains { $0 > 0 }, "the test must exercise both sides of the ReLU")
            for (k, (a, b)) in zip(fused, composed).enumerated() {
                #expect(a.map(\.bitPattern) == b.map(\.bitPattern), "training=\(training): output \(k) differs")
            }
        }
    }

    /// Batch norm + residual add + ReLU in one pass: the composition's values and gradients
    /// (input, scale, offset and residual), bit for bit, in training and inference.
    @Test mutating func fusedBatchNormAddReLUEqualsTheComposition() {
        let x = r([6, 5, 4, 32], 2), gamma = r([32]), beta = r([32]), skip = r([6, 5, 4, 32]), seed = r([6, 5, 4, 32])
        for training in [true, false] {
            func run(fused: Bool) -> [[Float]] {
                let mean = Parameter(Tensor(repeating: 0.3, shape: [32]), trainable: false)
                let variance = Parameter(Tensor(repeating: 1.7, shape: [32]), trainable: false)
                let v = [x, gamma, beta, skip].map { Variable($0, requiresGrad: true) }
                let y = fused
                    ? batchNorm(v[0], scale: v[1], offset: v[2], runningMean: mean, runningVariance: variance,
                                momentum: 0.9, epsilon: 1e-3, training: training, relu: true, residual: v[3])
                    : relu(batchNorm(v[0], scale: v[1], offset: v[2], runningMean: mean, runningVariance: variance,
                                     momentum: 0.9, epsilon: 1e-3, training: training) + v[3])
                GradientCheck.project(y, seed).backward()
                return [y.value.scalars] + v.map { $0.grad?.scalars ?? [] } + [mean.value.scalars, variance.value.scalars]
            }
            let fused = run(fused: true), composed = run(fused: false)
            #expect(fused[0].contains(0) && fused[0].contains { $0 > 0 }, "the test must exercise both sides of the ReLU")
            #expect(fused[4].count == x.count, "the residual must get a gradient")
            for (k, (a, b)) in zip(fused, composed).enumerated() {
                #expect(a.map(\.bitPattern) == b.map(\.bitPattern), "training=\(training): output \(k) differs")
            }
        }
    }

    /// A convolution with an epilogue (inference batch norm, residual add, ReLU, in any
    /// combination) against the separate ops, on the direct kernels (stride 1 and 2), the
    /// sgemm path (wide 1x1) and depthwise: the same outputs bit for bit, the same input,
    /// weight and residual gradients.
    @Test(arguments: [
        // (kernel, stride, cin, cout, groups)
        (3, 1, 16, 16, 1), (3, 2, 16, 32, 1), (1, 1, 128, 128, 1), (3, 1, 8, 8, 8), (3, 1, 5, 7, 1),
    ])
    mutating func convolutionEpiloguesEqualTheSeparateOps(_ c: (Int, Int, Int, Int, Int)) {
        let (k, s, cin, cout, groups) = c
        let x = r([3, 8, 8, cin]), w = r([k, k, cin / groups, cout], 0.3)
        let oh = (8 + 2 * (k / 2) - k) / s + 1
        let skip = r([3, oh, oh, cout]), seed = r([3, oh, oh, cout])
        let mean = Parameter(r([cout]), trainable: false)
        var variance = r([cout])
        for j in 0..<cout { variance.scalars[j] = abs(variance.scalars[j]) + 0.2 }
        let runningVariance = Parameter(variance, trainable: false)
        let gamma = r([cout]), beta = r([cout])
        for (normalize, add, relu) in [(true, false, true), (true, false, false), (true, true, true),
                                       (false, true, false), (true, true, false), (false, false, true)] {
            func run(fused: Bool) -> [[Float]] {
                let xv = Variable(x, requiresGrad: true), wv = Variable(w, requiresGrad: true)
                let sv = Variable(skip, requiresGrad: true)
                var y: Variable
                if fused {
                    var a: [Float]? = nil, b: [Float]? = nil
                    if normalize {  // inference batch norm as x * a + b, computed as batchNorm does
                        a = (0..<cout).map { j in gamma.scalars[j] * (1 / (variance.scalars[j] + 1e-3).squareRoot()) }
                        b = (0..<cout).map { j in beta.scalars[j] - mean.value.scalars[j] * a![j] }
                    }
                    y = conv2d(xv, wv, stride: s, padding: k / 2, groups: groups,
                               epilogue: ConvEpilogue(scale: a, shift: b, residual: add ? sv : nil, relu: relu))
                } else {
                    y = conv2d(xv, wv, stride: s, padding: k / 2, groups: groups)
                    if normalize {
                        y = batchNorm(y, scale: Variable(gamma), offset: Variable(beta), runningMean: mean,
                                      runningVariance: runningVariance, momentum: 0.9, epsilon: 1e-3, training: false,
                                      relu: relu && !add)
                    }
                    if add { y = y + sv }
                    if relu && (add || !normalize) { y = Engine.relu(y) }
                }
                GradientCheck.project(y, seed).backward()
                return [y.value.scalars, xv.grad?.scalars ?? [], wv.grad?.scalars ?? [], sv.grad?.scalars ?? []]
            }
            let fused = run(fused: true), separate = run(fused: false)
            let what = "\(c) bn=\(normalize) add=\(add) relu=\(relu)"
            #expect(fused[0].map(\.bitPattern) == separate[0].map(\.bitPattern), "output: \(what)")
            // Gradients compare as numbers: a zero's sign may differ (0 * a against a * (0 - 0)).
            #expect(fused[1] == separate[1] && fused[2] == separate[2], "input/weight gradients: \(what)")
            #expect(fused[3] == separate[3] && (fused[3].isEmpty != add), "residual gradient: \(what)")
            if relu { #expect(fused[0].contains(0) && fused[0].contains { $0 > 0 }, "both sides of the ReLU: \(what)") }
        }
    }

    @Test mutating func activations() {
        // Keep ReLU inputs away from the kink, where central differences are meaningless.
        var x = r([3, 4, 5])
        for i in 0..<x.count where abs(x.scalars[i]) < 0.05 { x.scalars[i] = 0.5 }
        for (name, f) in [("relu", relu), ("swish", swish), ("sigmoid", sigmoid)] as [(String, (Variable) -> Variable)] {
            let err = GradientCheck.maxRelativeError([x]) { f($0[0]) }
            #expect(err < tolerance, "\(name): \(err)")
        }
    }

    @Test mutating func poolingScalingLinearAndAdd() {
        let x = r([2, 3, 4, 5]), s = r([2, 5]), a = r([3, 4]), w = r([4, 6]), b = r([6]), y = r([2, 3, 4, 5])
        #expect(GradientCheck.maxRelativeError([x]) { globalAveragePool($0[0]) } < tolerance)
        #expect(GradientCheck.maxRelativeError([x, s]) { scaleChannels($0[0], by: $0[1]) } < tolerance)
        #expect(GradientCheck.maxRelativeError([a, w, b]) { linear($0[0], $0[1], $0[2]) } < tolerance)
        #expect(GradientCheck.maxRelativeError([x, y]) { $0[0] + $0[1] } < tolerance)
        #expect(GradientCheck.maxRelativeError([x]) { flatten(2.5 * $0[0]) } < tolerance)
        #expect(GradientCheck.maxRelativeError([x]) { rows($0[0], 1..<2) } < tolerance)
    }

    @Test mutating func dropoutAndStochasticDepthUseTheirMask() {
        let x = r([4, 2, 2, 3])
        // The same seed gives the same mask in every evaluation, so the function is differentiable.
        let e1 = GradientCheck.maxRelativeError([x]) { v in
            var g = SeededGenerator(seed: 5); return dropout(v[0], rate: 0.3, rng: &g)
        }
        let e2 = GradientCheck.maxRelativeError([x]) { v in
            var g = SeededGenerator(seed: 5); return dropPath(v[0], survival: 0.6, rng: &g)
        }
        #expect(e1 < tolerance && e2 < tolerance)
    }

    @Test mutating func crossEntropyLosses() {
        let logits = r([4, 5], 3)
        let soft = softmax(r([4, 5]), temperature: 0.7)
        #expect(GradientCheck.maxRelativeError([logits]) { softmaxCrossEntropy(logits: $0[0], targets: soft) } < tolerance)
        #expect(GradientCheck.maxRelativeError([logits]) {
            softmaxCrossEntropy(logits: $0[0], labels: [0, 3, 4, 1], labelSmoothing: 0.1)
        } < tolerance)
    }

    @Test func crossEntropyValuesAndStability() {
        // Uniform logits: CE = log(C) whatever the target.
        let l = softmaxCrossEntropy(logits: Variable(Tensor(zeros: [2, 4])), labels: [1, 2])
        #expect(abs(l.value.scalars[0] - Float(1.3862944)) < 1e-5)
        // Huge logits neither overflow nor give NaN.
        let big = Variable(Tensor(shape: [1, 3], scalars: [1000, -1000, 0]), requiresGrad: true)
        let loss = softmaxCrossEntropy(logits: big, labels: [0])
        loss.backward()
        #expect(loss.value.scalars[0].isFinite && loss.value.scalars[0] < 1e-6)
        #expect(big.grad?.isFinite == true)
        // Label smoothing targets: (1 - eps) one-hot + eps / C.
        let t = oneHotTargets([2], classes: 4, labelSmoothing: 0.1)
        #expect(zip(t.scalars, [0.025, 0.025, 0.925, 0.025] as [Float]).allSatisfy { abs($0 - $1) < 1e-6 })
    }
}
