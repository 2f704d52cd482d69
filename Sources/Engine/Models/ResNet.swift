import Randomness

/// The post-activation CIFAR ResNet of He et al. (2016), exactly as ../shared/bench/torch_anchor.py
/// builds it: a 3x3 stem, three stages of (depth - 2) / 6 basic blocks with widths w, 2w, 4w
/// (stride 2 entering stages 2 and 3, 1x1 projection shortcuts where the shape changes), global
/// average pooling and a linear classifier. Convolutions have no bias; BN follows each one.
public final class ResNet: Layer {
    final class BasicBlock: Layer {
        let conv1: Conv2D, bn1: BatchNorm, conv2: Conv2D, bn2: BatchNorm
        let shortcut: (conv: Conv2D, bn: BatchNorm)?

        init(in i: Int, out o: Int, stride: Int, rng: inout SeededGenerator) {
            conv1 = Conv2D(kernel: 3, in: i, out: o, stride: stride, padding: 1, rng: &rng)
            bn1 = BatchNorm(channels: o)
            conv2 = Conv2D(kernel: 3, in: o, out: o, padding: 1, rng: &rng)
            bn2 = BatchNorm(channels: o)
            shortcut = (i == o && stride == 1) ? nil
                : (Conv2D(kernel: 1, in: i, out: o, stride: stride, padding: 0, rng: &rng), BatchNorm(channels: o))
        }

        var children: [(name: String, module: any Module)] {
            var c: [(name: String, module: any Module)] = [("conv1", conv1), ("bn1", bn1), ("conv2", conv2), ("bn2", bn2)]
            if let s = shortcut { c += [("shortcut.conv", s.conv), ("shortcut.bn", s.bn)] }
            return c
        }

        func callAsFunction(_ x: Variable, _ ctx: ForwardContext) -> Variable {
            let skip = shortcut.map { $0.bn.normalizing($0.conv, x, ctx) } ?? x
            let h = bn1.normalizing(conv1, x, ctx, relu: true)
            return bn2.normalizing(conv2, h, ctx, adding: skip, relu: true)
        }
    }

    let stem: Conv2D, stemBN: BatchNorm
    let blocks: [BasicBlock]
    let classifier: Dense

    /// A ResNet of `depth` = 6n + 2 layers: a 3x3 stem of `width` channels, then three groups of n
    /// basic blocks with width, 2 x width and 4 x width channels (stride 2 into groups 2 and 3).
    /// Traps on another depth.
    public init(depth: Int, width: Int, classes: Int = 10, inputChannels: Int = 3, rng: inout SeededGenerator) {
        precondition(depth >= 8 && (depth - 2) % 6 == 0, "ResNet depth must be 6n+2 (8, 14, 20, 26, ...), got \(depth)")
        let n = (depth - 2) / 6
        stem = Conv2D(kernel: 3, in: inputChannels, out: width, padding: 1, rng: &rng)
        stemBN = BatchNorm(channels: width)
        var blocks: [BasicBlock] = [], c = width
        for (stage, o) in [width, 2 * width, 4 * width].enumerated() {
            for j in 0..<n {
                blocks.append(BasicBlock(in: c, out: o, stride: (j == 0 && stage > 0) ? 2 : 1, rng: &rng))
                c = o
            }
        }
        self.blocks = blocks
        classifier = Dense(in: c, out: classes, rng: &rng)
    }

    /// Stem, its BN, `block0` ... in order, classifier (the checkpoint names).
    public var children: [(name: String, module: any Module)] {
        var c: [(name: String, module: any Module)] = [("stem", stem), ("stemBN", stemBN)]
        for (i, b) in blocks.enumerated() { c.append(("block\(i)", b)) }
        return c + [("classifier", classifier)]
    }

    /// Logits [N, classes] for NHWC images [N, H, W, inputChannels].
    public func callAsFunction(_ x: Variable, _ ctx: ForwardContext) -> Variable {
        var h = stemBN.normalizing(stem, x, ctx, relu: true)
        for b in blocks { h = b(h, ctx) }
        return classifier(globalAveragePool(h), ctx)
    }
}
