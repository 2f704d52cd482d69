import Synchronization
import Testing
@testable import Engine
import Randomness

@Suite struct ModelTests {
    @Test(arguments: [(8, 16, 78_042), (20, 16, 272_474), (26, 32, 1_472_554)])
    func resnetParameterCountsMatchTheTorchAnchor(_ c: (Int, Int, Int)) {
        var rng = SeededGenerator(seed: 0)
        let model = ResNet(depth: c.0, width: c.1, rng: &rng)
        #expect(model.parameterCount == c.2)
    }

    @Test func modelsMapImagesToLogits() {
        var rng = SeededGenerator(seed: 1)
        let x = GradientCheck.random([2, 32, 32, 3], &rng)
        let specs: [ModelSpec] = [
            .resnet(depth: 8, width: 4), .wideResNet(depth: 10, width: 1, dropout: 0.3, stochasticDepth: 0.2),
            .efficientNet(width: 0.25, depth: 0.25),
        ]
        for spec in specs {
            let model = spec.build(rng: &rng)
            let train = model(Variable(x), ForwardContext(training: true, rng: SeededGenerator(seed: 3)))
            let eval = model.predict(x)
            #expect(train.shape == [2, 10] && eval.shape == [2, 10], "\(spec)")
            #expect(eval.isFinite, "\(spec)")
        }
    }

    /// An image's logits must not depend on which images share its batch: `predict --shard i/N`
    /// must label the pool exactly as one unsharded run does. OpenBLAS's Haswell/Zen sgemm
    /// broke that for the classifier (the last rows of a matrix round differently), so forward
    /// passes stay on the direct kernels; EfficientNet covers the big pointwise convolutions.
    @Test func logitsDoNotDependOnTheBatch() {
        var rng = SeededGenerator(seed: 5)
        let count = 37
        let x = GradientCheck.random([count, 32, 32, 3], &rng)
        let specs: [ModelSpec] = [
            .wideResNet(depth: 10, width: 1, dropout: 0.3, stochasticDepth: 0.2), .resnet(depth: 8, width: 16),
            .efficientNet(width: 0.5, depth: 0.25),
        ]
        let pixels = 32 * 32 * 3
        for spec in specs {
            let model = spec.build(rng: &rng)
            // One inference pass over all 37 (`predict` would cut them into chunks).
            let whole = model(Variable(x), ForwardContext.inference()).value.scalars
            for range in [0..<5, 5..<count, 36..<count, 11..<12] {
                let part = Tensor(shape: [range.count, 32, 32, 3],
                                  scalars: Array(x.scalars[(range.lowerBound * pixels)..<(range.upperBound * pixels)]))
                let logits = model.predict(part).scalars
                let inBatch = whole[(range.lowerBound * 10)..<(range.upperBound * 10)]
                let differing = zip(logits, inBatch).filter { $0 != $1 }.count
                #expect(logits.count == inBatch.count && differing == 0,
                        "\(spec): \(differing) logits of images \(range) alone differ from theirs in a batch of \(count)")
            }
        }
    }

    /// `predict` runs chunks of images through the whole network, one worker per chunk, each
    /// worker's loops inline, the chunks sharing each layer's Winograd weights
    /// (`WinogradWeightCache`): the logits are one pass's bits whatever the chunk size and thread
    /// count (chunks of 1, 4 and 16 leave a short last chunk of 21 images; 21 and 64 are one pass).
    @Test func chunkedInferenceGivesOnePassBits() {
        var rng = SeededGenerator(seed: 6)
        let x = GradientCheck.random([21, 32, 32, 3], &rng)
        let saved = Parallelism.threads
        defer { Parallelism.threads = saved }
        for spec in [ModelSpec.resnet(depth: 8, width: 16), .efficientNet(width: 0.5, depth: 0.25)] {
            let model = spec.build(rng: &rng)
            let onePass = model(Variable(x), ForwardContext.inference()).value
            for threads in [1, 2] {
                Parallelism.threads = threads
                for chunk in [1, 4, 5, 16, 21, 64] {
                    let logits = model.predict(x, imagesPerChunk: chunk)
                    #expect(logits.shape == [21, 10] && logits.scalars == onePass.scalars,
                            "\(spec): chunks of \(chunk) on \(threads) threads differ from one pass")
                }
            }
        }
    }

    /// `ModelSpec.problem` names the field no model can be built from (what recipes and
    /// engine-bench check before the constructors' preconditions, gone in unchecked builds).
    @Test func modelSpecProblemNamesTheField() {
        #expect(ModelSpec.resnet(depth: 8, width: 16).problem == nil)
        #expect(ModelSpec.wideResNet(depth: 10, width: 1, inputChannels: 1).problem == nil)
        #expect(ModelSpec.efficientNet(width: 0.5, depth: 0.25).problem == nil)
        #expect(ModelSpec.resnet(depth: 9, width: 16).problem?.field == "depth")
        #expect(ModelSpec.wideResNet(depth: 8, width: 1).problem?.field == "depth")
        #expect(ModelSpec.resnet(depth: 8, width: 0).problem?.field == "width")
        #expect(ModelSpec.efficientNet(width: 0, depth: 1).problem?.field == "widthMultiplier")
        #expect(ModelSpec.resnet(depth: 8, width: 16, inputChannels: 7).problem?.field == "inputChannels")
    }

    /// Each chunk reaches the network as its own batch, in order, with the engine's loops inline
    /// (`Parallelism.threads` reads 1 inside), and the rows come back in the input's order.
    @Test func chunksRunAloneAndKeepTheirOrder() {
        let saved = Parallelism.threads
        defer { Parallelism.threads = saved }
        Parallelism.threads = 2
        // Image i is filled with the value i.
        let n = 37, pixels = 2 * 2 * 1
        let x = Tensor(shape: [n, 2, 2, 1], scalars: (0..<n).flatMap { [Float](repeating: Float($0), count: pixels) })
        let probe = ChunkProbe()
        let out = probe.predict(x, imagesPerChunk: 8)
        #expect(out.shape == [n, 1] && out.scalars == (0..<n).map { Float($0) }, "rows out of order: \(out.scalars)")
        let seen = probe.calls.withLock { $0 }
        #expect(seen.map(\.rows).sorted { $0.lowerBound < $1.lowerBound } == [0..<8, 8..<16, 16..<24, 24..<32, 32..<37])
        #expect(seen.allSatisfy { $0.threads == 1 }, "a chunk ran with the engine's loops on \(seen.map(\.threads)) threads")
    }

    /// Stochastic depth as `efficientnet_model.py` sets it: block i of N (0-based, over all
    /// blocks) survives with 1 - rate * i / N, and only identity-skip blocks are dropped.
    @Test func stochasticDepthFollowsTheOfficialSurvivalRule() {
        var rng = SeededGenerator(seed: 0)
        let wrn16 = WideResNet(depth: 16, width: 1, stochasticDepth: 0.2, rng: &rng)
        // Blocks 2 and 4 open a group (stride 2, more channels): projection skips.
        let expected: [Float?] = [1, 1 - 0.2 * 1 / 6, nil, 1 - 0.2 * 3 / 6, nil, 1 - 0.2 * 5 / 6]
        #expect(wrn16.survivalProbabilities.count == 6)
        for (got, want) in zip(wrn16.survivalProbabilities, expected) {
            #expect((got == nil) == (want == nil) && abs((got ?? 0) - (want ?? 0)) < 1e-6, "\(wrn16.survivalProbabilities)")
        }
        // WRN-10-1: the only identity-skip block is the first, which always survives.
        let wrn10 = WideResNet(depth: 10, width: 1, stochasticDepth: 0.2, rng: &rng)
        #expect(wrn10.survivalProbabilities == [1, nil, nil])
        // EfficientNet-B0: 16 blocks; the first of each of the 7 groups changes channels (no
        // identity skip), so 9 can be dropped, the deepest (i = 14) with survival 1 - 0.2 * 14 / 16.
        let b0 = EfficientNet(stochasticDepth: 0.2, rng: &rng).survivalProbabilities
        #expect(b0.count == 16 && b0.filter { $0 != nil }.count == 9)
        #expect(b0[0] == nil && b0[1] == nil && b0[2] == 1 - 0.2 * 2 / 16 && b0[15] == nil)
        #expect(abs((b0[14] ?? 0) - 0.825) < 1e-6)
    }

    /// The official 32x32 EfficientNet (`efficientnet_builder.py`, small_image_model): stem at
    /// stride 2, block groups 2 and 3 at stride 1, so 32 -> 16 (stem) -> 16, 16, 16, 8, 8, 4, 4.
    @Test func efficientNetB0FeatureMapsAt32x32() {
        var rng = SeededGenerator(seed: 0)
        let b0 = EfficientNet(rng: &rng)
        let maps = b0.featureMaps(Variable(GradientCheck.random([1, 32, 32, 3], &rng)), ForwardContext(training: false))
        #expect(maps.map { $0.shape } == [[1, 16, 16, 32], [1, 16, 16, 16], [1, 16, 16, 24], [1, 16, 16, 40],
                                           [1, 8, 8, 80], [1, 8, 8, 112], [1, 4, 4, 192], [1, 4, 4, 320]])
    }

    /// Inference fuses batch norm, residual adds and ReLUs into the convolutions (when no
    /// parameter gradients are recorded). A pass that records them takes the separate ops: both
    /// must give the same logits bit for bit, and the same input gradient (FGSM's).
    @Test func fusedInferenceGivesTheSeparateOpsNumbers() {
        var rng = SeededGenerator(seed: 5)
        let x = GradientCheck.random([4, 16, 16, 3], &rng)
        for spec: ModelSpec in [.resnet(depth: 8, width: 16), .resnet(depth: 14, width: 8), .wideResNet(depth: 10, width: 1)] {
            var initRNG = SeededGenerator(seed: 6)
            let model = spec.build(rng: &initRNG)
            // Running statistics away from their initial 0 / 1, so every batch norm does something.
            for (name, p) in model.namedParameters where name.hasSuffix("runningMean") || name.hasSuffix("runningVariance")
                || name.hasSuffix("scale") || name.hasSuffix("offset") {
                for i in 0..<p.value.count {
                    let v = rng.normal() * 0.3
                    p.value.scalars[i] = name.hasSuffix("Variance") || name.hasSuffix("scale") ? 1 + abs(v) : v
                }
            }
            func run(recording: Bool) -> (logits: [Float], inputGradient: [Float]) {
                let input = Variable(x, requiresGrad: true)
                let logits = model(input, ForwardContext(training: false, recordsGradients: recording))
                softmaxCrossEntropy(logits: logits, labels: [0, 3, 5, 9]).backward()
                model.zeroGradients()
                return (logits.value.scalars, input.grad?.scalars ?? [])
            }
            let fused = run(recording: false), separate = run(recording: true)
            #expect(fused.logits.map(\.bitPattern) == separate.logits.map(\.bitPattern), "logits: \(spec)")
            #expect(!fused.inputGradient.isEmpty && fused.inputGradient == separate.inputGradient, "input gradient: \(spec)")
        }
    }

    /// Whole-network check: parameter gradients of small models (BN, residuals, SE, depthwise,
    /// stochastic depth, dropout) against central differences on sampled weights.
    @Test func networkParameterAndInputGradients() {
        var rng = SeededGenerator(seed: 2)
        let x = GradientCheck.random([3, 8, 8, 3], &rng)
        let specs: [ModelSpec] = [
            .resnet(depth: 8, width: 2), .wideResNet(depth: 10, width: 1, dropout: 0.2, stochasticDepth: 0.3), .wideResNet(depth: 10, width: 1), .wideResNet(depth: 10, width: 1, dropout: 0.2), .wideResNet(depth: 16, width: 1, stochasticDepth: 0.3),
            .efficientNet(width: 0.1, depth: 0.1, dropout: 0.2, stochasticDepth: 0.5),
        ]
        for spec in specs {
            var initRNG = SeededGenerator(seed: 9)
            let model = spec.build(rng: &initRNG)
            let labels = [1, 4, 7]
            func loss(_ input: Variable) -> Variable {
                // Same noise every evaluation: a fixed seed per call.
                let ctx = ForwardContext(training: true, rng: SeededGenerator(seed: 4))
                return softmaxCrossEntropy(logits: model(input, ctx), labels: labels)
            }
            // Running statistics update on every forward: snapshot and restore them, so the
            // finite differences see the same function.
            let state = model.parameters.map { $0.value }
            func restore() { for (p, v) in zip(model.parameters, state) where !p.trainable { p.value = v } }
            model.zeroGradients()
            let input = Variable(x, requiresGrad: true)
            loss(input).backward()
            restore()
            // Directional derivatives: along a random direction over all weights, and over the
            // input image, the analytic <grad, d> must match the central difference. Summing over
            // every coordinate keeps the signal far above Float32 noise; a wrong term or sign in
            // any layer shows up as an error near 1.
            let h: Float = 3e-3
            func directional(_ apply: (Float) -> Void, analytic: Float) -> Float {
                apply(h); let lp = loss(Variable(x)).value.scalars[0]; restore()
                apply(-2 * h); let lm = loss(Variable(x)).value.scalars[0]; restore()
                apply(h)
                let numeric = (lp - lm) / (2 * h)
                return abs(analytic - numeric) / max(1e-3, abs(analytic) + abs(numeric))
            }
            let params = model.trainableParameters
            var dirs = params.map { GradientCheck.random($0.shape, &rng) }
            let dirNorm = dirs.reduce(Float(0)) { $0 + $1.scalars.reduce(0) { $0 + $1 * $1 } }.squareRoot()
            dirs = dirs.map { $0.map { $0 / dirNorm } }  // a unit step in weight space
            var along: Float = 0
            for (p, d) in zip(params, dirs) { for i in 0..<d.count { along += p.grad.scalars[i] * d.scalars[i] } }
            let worst = directional({ t in
                for (p, d) in zip(params, dirs) { for i in 0..<d.count { p.value.scalars[i] += t * d.scalars[i] } }
            }, analytic: along)
            var xd = GradientCheck.random(x.shape, &rng), inputAlong: Float = 0
            let xNorm = xd.scalars.reduce(0) { $0 + $1 * $1 }.squareRoot()
            xd = xd.map { $0 / xNorm }
            for i in 0..<xd.count { inputAlong += (input.grad?.scalars[i] ?? 0) * xd.scalars[i] }
            var xs = x
            func lossAt(_ t: Float) -> Float {
                for i in 0..<xs.count { xs.scalars[i] = x.scalars[i] + t * xd.scalars[i] }
                let l = loss(Variable(xs)).value.scalars[0]; restore(); return l
            }
            let inputNumeric = (lossAt(h) - lossAt(-h)) / (2 * h)
            let inputError = abs(inputAlong - inputNumeric) / max(1e-3, abs(inputAlong) + abs(inputNumeric))
            xd = Tensor(zeros: [1])
            #expect(inputError < 2e-2, "\(spec): input gradient error \(inputError)")
            #expect(worst < 2e-2, "\(spec): parameter gradient error \(worst)")
            #expect(input.grad?.shape == x.shape && input.grad?.isFinite == true, "\(spec): input gradient")
        }
    }

    /// The ablation's larger student: one block more per stage for the ResNets, the next
    /// EfficientNet of B0-B7 (its multipliers from efficientnet_builder.py), noise and classes kept.
    @Test func largerModelIsTheNextOfItsFamily() {
        let wrn = ModelSpec.wideResNet(depth: 10, width: 1, classes: 7, inputChannels: 1, dropout: 0.1)
        #expect(wrn.larger == ModelSpec.wideResNet(depth: 16, width: 1, classes: 7, inputChannels: 1, dropout: 0.1))
        #expect(ModelSpec.resnet(depth: 8, width: 16).larger == ModelSpec.resnet(depth: 14, width: 16))
        let b0 = ModelSpec.efficientNet(width: 1, depth: 1, classes: 10, inputChannels: 3)
        let b1 = b0.larger, b2 = b1.larger
        #expect((b1.widthMultiplier, b1.depthMultiplier) == (1.0, 1.1) && (b2.widthMultiplier, b2.depthMultiplier) == (1.1, 1.2))
        #expect(b1.depth == 0 && b1.width == 0 && b1.dropout == b0.dropout && b1.stochasticDepth == b0.stochasticDepth)
        var rng = SeededGenerator(seed: 0)
        #expect(b1.build(rng: &rng).parameterCount > b0.build(rng: &rng).parameterCount)
        let b7 = ModelSpec.efficientNet(width: 2, depth: 3.1)
        #expect(b7.larger == b7)
    }
}

/// A layer that returns each image's first value as its one output and records, per call, the
/// rows it was given (from those values) and the thread count its loops would use.
private final class ChunkProbe: Layer, @unchecked Sendable {
    let calls = Mutex<[(rows: Range<Int>, threads: Int)]>([])

    func callAsFunction(_ x: Variable, _ ctx: ForwardContext) -> Variable {
        let n = x.value.shape[0], per = x.value.count / max(n, 1)
        let firsts = (0..<n).map { x.value.scalars[$0 * per] }
        let lo = Int(firsts.first ?? 0)
        calls.withLock { $0.append((lo..<(lo + n), Parallelism.threads)) }
        return Variable(Tensor(shape: [n, 1], scalars: firsts))
    }
}
