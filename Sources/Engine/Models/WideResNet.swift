import Randomness

/// Wide residual network WRN-depth-width (Zagoruyko & Komodakis 2016), pre-activation:
/// a 3x3 stem to 16 channels, three groups of (depth - 4) / 6 blocks of widths 16k, 32k, 64k,
/// each block BN-ReLU-conv3x3-BN-ReLU-conv3x3 plus the (projected) input, then BN-ReLU, global
/// average pooling and a linear classifier.
///
/// Model noise as Noisy Student applies it: `dropout` on the pooled features before the
/// classifier (the official code's placement, not the WRN paper's in-block dropout, which slowed
/// learning on our short schedules and cost a mask per activation) and stochastic depth by the
/// official rule (`efficientnet_model.py`): block i of N (0-based, counting every block)
/// survives with 1 - stochasticDepth * i / N, and only blocks whose skip is the identity are
/// ever dropped. WRN-10-1 has one such block, the first, whose survival is 1: stochastic depth
/// does nothing there. Deeper WRNs (16-1: blocks 0, 1, 3, 5) have blocks where it acts.
public final class WideResNet: Layer {
    final class Block: Layer {
        let bn1: BatchNorm, conv1: Conv2D, bn2: BatchNorm, conv2: Conv2D
        let projection: Conv2D?
        let survival: Float

        init(in i: Int, out o: Int, stride: Int, survival: Float, rng: inout SeededGenerator) {
            bn1 = BatchNorm(channels: i)
            conv1 = Conv2D(kernel: 3, in: i, out: o, stride: stride, padding: 1, rng: &rng)
            bn2 = BatchNorm(channels: o)
            conv2 = Conv2D(kernel: 3, in: o, out: o, padding: 1, rng: &rng)
            projection = (i == o && stride == 1) ? nil : Conv2D(kernel: 1, in: i, out: o, stride: stride, padding: 0, rng: &rng)
            self.survival = survival
        }

        var children: [(name: String, module: any Module)] {
            var c: [(name: String, module: any Module)] = [("bn1", bn1), ("conv1", conv1), ("bn2", bn2), ("conv2", conv2)]
            if let p = projection { c.append(("projection", p)) }
            return c
        }

        func callAsFunction(_ x: Variable, _ ctx: ForwardContext) -> Variable {
            let a = bn1.thenReLU(x, ctx)
            let h = bn2.normalizing(conv1, a, ctx, relu: true)
            // The projection sees the pre-activated input, as in the reference implementation.
            let skip = projection.map { $0(a, ctx) } ?? x
            // Inference adds the skip inside the convolution (the same numbers, one pass fewer).
            if ctx.fusesInference { return conv2(h, ctx, epilogue: ConvEpilogue(residual: skip)) }
            var branch = conv2(h, ctx)
            // Stochastic depth drops only branches beside an identity skip, as the official
            // drop_connect does: dropping a projection block's branch would leave a 1x1
            // projection alone, a different network rather than a shallower one (docs/tuning.md).
            if ctx.training && survival < 1 && projection == nil { branch = dropPath(branch, survival: survival, rng: &ctx.rng, globalRows: ctx.globalRows) }
            return branch + skip
        }
    }

    let stem: Conv2D
    let blocks: [Block]
    let finalBN: BatchNorm
    let classifier: Dense
    let dropout: Float

    /// WRN-`depth`-`width`: depth = 6n + 4, three groups of n pre-activation blocks with 16, 32 and
    /// 64 x `width` channels; block i of N survives with 1 - stochasticDepth * i / N as in
    /// EfficientNet. Traps on another depth.
    public init(depth: Int, width: Int, classes: Int = 10, inputChannels: Int = 3,
                dropout: Float = 0, stochasticDepth: Float = 0, rng: inout SeededGenerator) {
        precondition(depth >= 10 && (depth - 4) % 6 == 0, "WideResNet depth must be 6n+4 (10, 16, 22, 28, ...), got \(depth)")
        let n = (depth - 4) / 6
        stem = Conv2D(kernel: 3, in: inputChannels, out: 16, padding: 1, rng: &rng)
        var blocks: [Block] = [], c = 16
        let total = 3 * n
        for (g, o) in [16 * width, 32 * width, 64 * width].enumerated() {
            for j in 0..<n {
                let survival = 1 - stochasticDepth * Float(blocks.count) / Float(total)
                blocks.append(Block(in: c, out: o, stride: (j == 0 && g > 0) ? 2 : 1,
                                    survival: survival, rng: &rng))
                c = o
            }
        }
        self.blocks = blocks
        finalBN = BatchNorm(channels: c)
        classifier = Dense(in: c, out: classes, rng: &rng)
        self.dropout = dropout
    }

    /// Per block, the probability that stochastic depth keeps its residual branch in training;
    /// nil for blocks it never drops (a projection skip).
    public var survivalProbabilities: [Float?] { blocks.map { $0.projection == nil ? $0.survival : nil } }

    /// Stem, `block0` ... in order, final BN, classifier (the checkpoint names).
    public var children: [(name: String, module: any Module)] {
        var c: [(name: String, module: any Module)] = [("stem", stem)]
        for (i, b) in blocks.enumerated() { c.append(("block\(i)", b)) }
        return c + [("finalBN", finalBN), ("classifier", classifier)]
    }

    /// Logits [N, classes] for NHWC images [N, H, W, inputChannels]; dropout before the classifier in training.
    public func callAsFunction(_ x: Variable, _ ctx: ForwardContext) -> Variable {
        var h = stem(x, ctx)
        for b in blocks { h = b(h, ctx) }
        var features = globalAveragePool(finalBN.thenReLU(h, ctx))
        if ctx.training && dropout > 0 { features = Engine.dropout(features, rate: dropout, rng: &ctx.rng, globalRows: ctx.globalRows) }
        return classifier(features, ctx)
    }
}
