import Foundation
import Randomness

/// EfficientNet (Tan & Le 2019) built from MBConv blocks, scaled by width and depth multipliers,
/// and adapted to 32x32 inputs as the official Noisy Student SVHN/CIFAR variant does
/// (`efficientnet_builder.py`, `small_image_model`): the stem keeps stride 2 and block groups
/// 2 and 3 (0-based 1 and 2) get stride 1, so a 32x32 image is 16x16 after the stem and ends
/// at 4x4 (groups 4 and 6 halve it). Stride-2 convolutions pad like TensorFlow's "SAME".
///
/// Model noise (the student's): dropout before the classifier, and stochastic depth by the
/// official rule (`efficientnet_model.py`): block i of N (0-based) survives with
/// 1 - stochasticDepth * i / N, only where the skip is the identity (stride 1, same channels).
/// In B0 that is 9 of the 16 blocks; the deepest of them (i = 14) survives with 0.825 at rate
/// 0.2 (the last block, i = 15, changes channels and is never dropped).
public final class EfficientNet: Layer {
    /// One row of the paper's Table 1: repeats, kernel, stride, expansion, input and output filters.
    public struct Stage: Sendable {
        /// Blocks in the group; depthwise kernel size; stride of the group's first block; expansion
        /// ratio of the MBConv's 1x1; input and output filters before width scaling.
        public var repeats, kernel, stride, expand, input, output: Int
    }

    /// EfficientNet-B0's block groups with the official 32x32 adaptation: groups 2 and 3
    /// (`blocks_args[1]`, `blocks_args[2]`) at stride 1 instead of 2.
    public static let b0Stages: [Stage] = [
        Stage(repeats: 1, kernel: 3, stride: 1, expand: 1, input: 32, output: 16),
        Stage(repeats: 2, kernel: 3, stride: 1, expand: 6, input: 16, output: 24),
        Stage(repeats: 2, kernel: 5, stride: 1, expand: 6, input: 24, output: 40),
        Stage(repeats: 3, kernel: 3, stride: 2, expand: 6, input: 40, output: 80),
        Stage(repeats: 3, kernel: 5, stride: 1, expand: 6, input: 80, output: 112),
        Stage(repeats: 4, kernel: 5, stride: 2, expand: 6, input: 112, output: 192),
        Stage(repeats: 1, kernel: 3, stride: 1, expand: 6, input: 192, output: 320),
    ]

    /// Channels scaled by `width`, rounded to a multiple of 8 and never more than 10% below.
    public static func roundFilters(_ filters: Int, width: Double) -> Int {
        let f = Double(filters) * width
        var rounded = max(8, Int(f + 4) / 8 * 8)
        if Double(rounded) < 0.9 * f { rounded += 8 }
        return rounded
    }

    /// Blocks of a group scaled by `depth`, rounded up (official `round_repeats`).
    public static func roundRepeats(_ repeats: Int, depth: Double) -> Int {
        Int(ceil(depth * Double(repeats)))
    }

    final class MBConv: Layer {
        let expand: (conv: Conv2D, bn: BatchNorm)?
        let depthwise: Conv2D, bn1: BatchNorm
        let se: SqueezeExcite
        let project: Conv2D, bn2: BatchNorm
        let residual: Bool
        let survival: Float

        init(in i: Int, out o: Int, kernel: Int, stride: Int, expandRatio: Int, survival: Float,
             bnMomentum: Float, bnEpsilon: Float, rng: inout SeededGenerator) {
            let mid = i * expandRatio
            expand = expandRatio == 1 ? nil
                : (Conv2D(kernel: 1, in: i, out: mid, rng: &rng), BatchNorm(channels: mid, momentum: bnMomentum, epsilon: bnEpsilon))
            depthwise = Conv2D(kernel: kernel, in: mid, out: mid, stride: stride, groups: mid, rng: &rng)
            bn1 = BatchNorm(channels: mid, momentum: bnMomentum, epsilon: bnEpsilon)
            se = SqueezeExcite(channels: mid, reduced: max(1, i / 4), rng: &rng)
            project = Conv2D(kernel: 1, in: mid, out: o, rng: &rng)
            bn2 = BatchNorm(channels: o, momentum: bnMomentum, epsilon: bnEpsilon)
            residual = stride == 1 && i == o
            self.survival = survival
        }

        var children: [(name: String, module: any Module)] {
            var c: [(name: String, module: any Module)] = []
            if let e = expand { c += [("expand.conv", e.conv), ("expand.bn", e.bn)] }
            return c + [("depthwise", depthwise), ("bn1", bn1), ("se", se), ("project", project), ("bn2", bn2)]
        }

        func callAsFunction(_ x: Variable, _ ctx: ForwardContext) -> Variable {
            var h = x
            if let e = expand { h = swish(e.bn(e.conv(h, ctx), ctx)) }
            h = swish(bn1(depthwise(h, ctx), ctx))
            h = bn2(project(se(h, ctx), ctx), ctx)
            guard residual else { return h }
            if ctx.training && survival < 1 { h = dropPath(h, survival: survival, rng: &ctx.rng, globalRows: ctx.globalRows) }
            return h + x
        }
    }

    let stem: Conv2D, stemBN: BatchNorm
    let blocks: [MBConv]
    /// Index one past the last block of each group.
    let groupEnds: [Int]
    let head: Conv2D, headBN: BatchNorm
    let classifier: Dense
    let dropout: Float

    /// EfficientNet with `stages` scaled by `width` and `depth`, weights drawn from `rng`. Batch norm
    /// uses the official momentum 0.99 and epsilon 1e-3; `dropout` and `stochasticDepth` are the
    /// rates above (official 0.2 each).
    public init(width: Double = 1, depth: Double = 1, classes: Int = 10, inputChannels: Int = 3,
                dropout: Float = 0.2, stochasticDepth: Float = 0.2, stages: [Stage] = EfficientNet.b0Stages,
                bnMomentum: Float = 0.99, bnEpsilon: Float = 1e-3, rng: inout SeededGenerator) {
        let stemOut = Self.roundFilters(32, width: width)
        stem = Conv2D(kernel: 3, in: inputChannels, out: stemOut, stride: 2, rng: &rng)
        stemBN = BatchNorm(channels: stemOut, momentum: bnMomentum, epsilon: bnEpsilon)
        let total = stages.reduce(0) { $0 + Self.roundRepeats($1.repeats, depth: depth) }
        var blocks: [MBConv] = [], groupEnds: [Int] = []
        var c = stemOut
        for s in stages {
            let o = Self.roundFilters(s.output, width: width)
            for r in 0..<Self.roundRepeats(s.repeats, depth: depth) {
                let survival = 1 - stochasticDepth * Float(blocks.count) / Float(total)
                blocks.append(MBConv(in: c, out: o, kernel: s.kernel, stride: r == 0 ? s.stride : 1,
                                     expandRatio: s.expand, survival: survival,
                                     bnMomentum: bnMomentum, bnEpsilon: bnEpsilon, rng: &rng))
                c = o
            }
            groupEnds.append(blocks.count)
        }
        self.blocks = blocks
        self.groupEnds = groupEnds
        let headOut = Self.roundFilters(1280, width: width)
        head = Conv2D(kernel: 1, in: c, out: headOut, rng: &rng)
        headBN = BatchNorm(channels: headOut, momentum: bnMomentum, epsilon: bnEpsilon)
        classifier = Dense(in: headOut, out: classes, rng: &rng)
        self.dropout = dropout
    }

    /// Stem, its BN, `block0` ... in order, head, its BN, classifier (the checkpoint names).
    public var children: [(name: String, module: any Module)] {
        var c: [(name: String, module: any Module)] = [("stem", stem), ("stemBN", stemBN)]
        for (i, b) in blocks.enumerated() { c.append(("block\(i)", b)) }
        return c + [("head", head), ("headBN", headBN), ("classifier", classifier)]
    }

    /// Per block, the probability that stochastic depth keeps its branch in training; nil for
    /// blocks without an identity skip (never dropped).
    public var survivalProbabilities: [Float?] { blocks.map { $0.residual ? $0.survival : nil } }

    /// The stem's output, then each block group's output: NHWC feature maps, for tests of the
    /// 32x32 adaptation's strides.
    public func featureMaps(_ x: Variable, _ ctx: ForwardContext) -> [Variable] {
        var h = swish(stemBN(stem(x, ctx), ctx))
        var maps = [h], start = 0
        for end in groupEnds {
            for b in blocks[start..<end] { h = b(h, ctx) }
            maps.append(h)
            start = end
        }
        return maps
    }

    /// Logits [N, classes] for NHWC images [N, H, W, inputChannels]: stem, MBConv blocks, 1x1 head
    /// to `roundFilters(1280)` channels, global average pool, dropout (training only), classifier.
    public func callAsFunction(_ x: Variable, _ ctx: ForwardContext) -> Variable {
        // featureMaps always holds the stem's output at least.
        var h = featureMaps(x, ctx).last ?? x
        h = globalAveragePool(swish(headBN(head(h, ctx), ctx)))
        if ctx.training && dropout > 0 { h = Engine.dropout(h, rate: dropout, rng: &ctx.rng, globalRows: ctx.globalRows) }
        return classifier(h, ctx)
    }
}
