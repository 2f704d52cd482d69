import Randomness

/// A model's architecture as a value: what a recipe names, what a checkpoint records, and what
/// `build` turns into layers. Dropout and stochastic depth are part of it: they are the
/// student's model noise.
public struct ModelSpec: Codable, Hashable, Sendable, CustomStringConvertible {
    /// The architecture family; `depth`/`width` or the multipliers say which member.
    public enum Kind: String, Codable, Sendable {
        case resnet, wideResNet, efficientNet
    }
    /// Which family `build` makes.
    public var kind: Kind
    /// ResNet / WideResNet depth.
    public var depth: Int
    /// ResNet base width; WideResNet widening factor.
    public var width: Int
    /// EfficientNet width and depth multipliers.
    public var widthMultiplier: Double
    /// EfficientNet depth multiplier: each group's repeats become ceil(repeats x this).
    public var depthMultiplier: Double
    /// Outputs of the classifier (logits per image).
    public var classes: Int
    /// Channels of the NHWC input (3 for SVHN, 1 for Fashion-MNIST).
    public var inputChannels: Int
    /// Dropout rate before the classifier (EfficientNet's `dropout_rate`, 0.2 for B0); 0 for the teacher.
    public var dropout: Float
    /// Stochastic depth's rate d (the official `stochastic_depth_rate`): block i of N (0-based,
    /// over all blocks) survives with 1 - d * i / N, on identity-skip blocks only
    /// (`efficientnet_model.py`); the last block of N survives with 1 - d (N - 1) / N.
    public var stochasticDepth: Float

    /// A CIFAR-style ResNet (He et al. 2016, basic blocks) of `depth` layers and base `width`; no model noise.
    public static func resnet(depth: Int, width: Int, classes: Int = 10, inputChannels: Int = 3) -> ModelSpec {
        ModelSpec(kind: .resnet, depth: depth, width: width, widthMultiplier: 1, depthMultiplier: 1,
                  classes: classes, inputChannels: inputChannels, dropout: 0, stochasticDepth: 0)
    }

    /// WRN-`depth`-`width` (Zagoruyko & Komodakis 2016, pre-activation blocks), with optional dropout
    /// and stochastic depth as the student's model noise.
    public static func wideResNet(depth: Int, width: Int, classes: Int = 10, inputChannels: Int = 3,
                                  dropout: Float = 0, stochasticDepth: Float = 0) -> ModelSpec {
        ModelSpec(kind: .wideResNet, depth: depth, width: width, widthMultiplier: 1, depthMultiplier: 1,
                  classes: classes, inputChannels: inputChannels, dropout: dropout, stochasticDepth: stochasticDepth)
    }

    /// EfficientNet with B0's blocks scaled by `width` and `depth` (B0 is 1, 1), adapted to 32x32
    /// inputs as the official SVHN setup (`efficientnet_builder.py`); dropout 0.2 and stochastic depth
    /// 0.2 are the official defaults.
    public static func efficientNet(width: Double, depth: Double, classes: Int = 10, inputChannels: Int = 3,
                                    dropout: Float = 0.2, stochasticDepth: Float = 0.2) -> ModelSpec {
        ModelSpec(kind: .efficientNet, depth: 0, width: 0, widthMultiplier: width, depthMultiplier: depth,
                  classes: classes, inputChannels: inputChannels, dropout: dropout, stochasticDepth: stochasticDepth)
    }

    /// The same architecture without model noise (dropout 0, no stochastic depth).
    public var withoutNoise: ModelSpec {
        var s = self; s.dropout = 0; s.stochasticDepth = 0; return s
    }

    /// EfficientNet B0-B7's (width, depth) multipliers (`efficientnet_builder.py`'s
    /// `efficientnet_params`), in order of size.
    public static let efficientNetScaling: [(width: Double, depth: Double)] = [
        (1.0, 1.0), (1.0, 1.1), (1.1, 1.2), (1.2, 1.4), (1.4, 1.8), (1.6, 2.2), (1.8, 2.6), (2.0, 3.1),
    ]

    /// The next larger model of the same family, as the paper's equal-or-larger student (section
    /// 3.1): a ResNet or WideResNet 6 layers deeper (one more block per stage), an EfficientNet
    /// the next step of B0-B7 whose multipliers are both at least this one's (B7's own are kept
    /// past it). Classes, input channels and model noise are this model's.
    public var larger: ModelSpec {
        var s = self
        switch kind {
        case .resnet, .wideResNet:
            s.depth = depth + 6
        case .efficientNet:
            if let next = Self.efficientNetScaling.first(where: {
                $0.width >= widthMultiplier && $0.depth >= depthMultiplier && ($0.width, $0.depth) != (widthMultiplier, depthMultiplier)
            }) {
                s.widthMultiplier = next.width
                s.depthMultiplier = next.depth
            }
        }
        return s
    }

    /// The model with fresh weights drawn from `rng` (same seed, same weights).
    public func build(rng: inout SeededGenerator) -> any Layer {
        switch kind {
        case .resnet:
            return ResNet(depth: depth, width: width, classes: classes, inputChannels: inputChannels, rng: &rng)
        case .wideResNet:
            return WideResNet(depth: depth, width: width, classes: classes, inputChannels: inputChannels,
                              dropout: dropout, stochasticDepth: stochasticDepth, rng: &rng)
        case .efficientNet:
            return EfficientNet(width: widthMultiplier, depth: depthMultiplier, classes: classes, inputChannels: inputChannels,
                                dropout: dropout, stochasticDepth: stochasticDepth, rng: &rng)
        }
    }

    /// Per block, the probability that stochastic depth keeps its residual branch in training;
    /// nil for blocks it never drops (no identity skip). Empty for ResNet (no stochastic depth).
    public var survivalProbabilities: [Float?] {
        var rng = SeededGenerator(seed: 0)
        switch build(rng: &rng) {
        case let m as WideResNet: return m.survivalProbabilities
        case let m as EfficientNet: return m.survivalProbabilities
        default: return []
        }
    }

    /// A short name, e.g. "WRN-28-2" or "EfficientNet(w1.0, d1.0)".
    public var description: String {
        switch kind {
        case .resnet: return "ResNet-\(depth) w\(width)"
        case .wideResNet: return "WRN-\(depth)-\(width)"
        case .efficientNet: return "EfficientNet(w\(widthMultiplier), d\(depthMultiplier))"
        }
    }
}

extension ModelSpec {
    /// The first field that does not describe a model `build` can make, and what is allowed
    /// (nil: buildable). The model constructors make the same checks as preconditions, which an
    /// unchecked build removes, so every caller taking sizes from a user (recipes,
    /// `engine-bench`) checks this first.
    public var problem: (field: String, problem: String)? {
        do { try check(); return nil } catch { return (error.field, error.problem) }
    }

    private func check() throws(ModelSpecProblem) {
        func fail(_ field: String, _ problem: String) -> ModelSpecProblem { ModelSpecProblem(field: field, problem: problem) }
        switch kind {
        case .resnet:
            guard depth >= 8, depth <= 1202, (depth - 2) % 6 == 0 else { throw fail("depth", "a ResNet's depth is 6n+2 (8, 14, 20, ... 1202), got \(depth)") }
            guard width >= 1, width <= 1024 else { throw fail("width", "must be in 1...1024, got \(width)") }
        case .wideResNet:
            guard depth >= 10, depth <= 208, (depth - 4) % 6 == 0 else { throw fail("depth", "a WideResNet's depth is 6n+4 (10, 16, 22, ... 208), got \(depth)") }
            guard width >= 1, width <= 64 else { throw fail("width", "must be in 1...64, got \(width)") }
        case .efficientNet:
            guard widthMultiplier.isFinite, widthMultiplier > 0, widthMultiplier <= 8 else {
                throw fail("widthMultiplier", "must be in (0, 8], got \(widthMultiplier)")
            }
            guard depthMultiplier.isFinite, depthMultiplier > 0, depthMultiplier <= 8 else {
                throw fail("depthMultiplier", "must be in (0, 8], got \(depthMultiplier)")
            }
        }
        if kind == .efficientNet {
            // Its size is the multipliers': a depth or width here would be ignored without a word.
            guard depth == 0 else { throw fail("depth", "is ResNet's and WideResNet's: an efficientNet takes 0 (its depth is `depthMultiplier`), got \(depth)") }
            guard width == 0 else { throw fail("width", "is ResNet's and WideResNet's: an efficientNet takes 0 (its width is `widthMultiplier`), got \(width)") }
        } else {
            // Only EfficientNet scales by these: another value here would be ignored without a word.
            guard widthMultiplier == 1 else { throw fail("widthMultiplier", "is EfficientNet's: a \(kind.rawValue) takes 1 (its width is `width`), got \(widthMultiplier)") }
            guard depthMultiplier == 1 else { throw fail("depthMultiplier", "is EfficientNet's: a \(kind.rawValue) takes 1 (its depth is `depth`), got \(depthMultiplier)") }
        }
        guard classes >= 1 else { throw fail("classes", "must be 1 or more, got \(classes)") }
        guard (1...4).contains(inputChannels) else { throw fail("inputChannels", "must be 1...4, got \(inputChannels)") }
        guard dropout.isFinite, dropout >= 0, dropout < 1 else { throw fail("dropout", "must be in [0, 1), got \(dropout)") }
        guard stochasticDepth.isFinite, stochasticDepth >= 0, stochasticDepth < 1 else {
            throw fail("stochasticDepth", "must be in [0, 1), got \(stochasticDepth)")
        }
    }
}

/// A field of a `ModelSpec` that no model can be built from (`ModelSpec.problem`).
private struct ModelSpecProblem: Error {
    let field: String, problem: String
}
