import Randomness

/// A model's architecture as a value: what a recipe names, what a checkpoint records, and what
/// `build` turns into layers. Dropout and stochastic depth are part of it: they are the
/// student's model noise.
public struct ModelSpec: Codable, Hashable, Sendable, CustomStringConvertible {
    public enum Kind: String, Codable, Sendable {
        case resnet, wideResNet, efficientNet
    }
    public var kind: Kind
    /// ResNet / WideResNet depth.
    public var depth: Int
    /// ResNet base width; WideResNet widening factor.
    public var width: Int
    /// EfficientNet width and depth multipliers.
    public var widthMultiplier: Double
    public var depthMultiplier: Double
    public var classes: Int
    public var inputChannels: Int
    public var dropout: Float
    /// Stochastic depth's rate d (the official `stochastic_depth_rate`): block i of N (0-based,
    /// over all blocks) survives with 1 - d * i / N, on identity-skip blocks only
    /// (`efficientnet_model.py`); the last block of N survives with 1 - d (N - 1) / N.
    public var stochasticDepth: Float

    public static func resnet(depth: Int, width: Int, classes: Int = 10, inputChannels: Int = 3) -> ModelSpec {
        ModelSpec(kind: .resnet, depth: depth, width: width, widthMultiplier: 1, depthMultiplier: 1,
                  classes: classes, inputChannels: inputChannels, dropout: 0, stochasticDepth: 0)
    }

    public static func wideResNet(depth: Int, width: Int, classes: Int = 10, inputChannels: Int = 3,
                                  dropout: Float = 0, stochasticDepth: Float = 0) -> ModelSpec {
        ModelSpec(kind: .wideResNet, depth: depth, width: width, widthMultiplier: 1, depthMultiplier: 1,
                  classes: classes, inputChannels: inputChannels, dropout: dropout, stochasticDepth: stochasticDepth)
    }

    public static func efficientNet(width: Double, depth: Double, classes: Int = 10, inputChannels: Int = 3,
                                    dropout: Float = 0.2, stochasticDepth: Float = 0.2) -> ModelSpec {
        ModelSpec(kind: .efficientNet, depth: 0, width: 0, widthMultiplier: width, depthMultiplier: depth,
                  classes: classes, inputChannels: inputChannels, dropout: dropout, stochasticDepth: stochasticDepth)
    }

    /// The same architecture without model noise (dropout 0, no stochastic depth).
    public var withoutNoise: ModelSpec {
        var s = self; s.dropout = 0; s.stochasticDepth = 0; return s
    }

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

    public var description: String {
        switch kind {
        case .resnet: return "ResNet-\(depth) w\(width)"
        case .wideResNet: return "WRN-\(depth)-\(width)"
        case .efficientNet: return "EfficientNet(w\(widthMultiplier), d\(depthMultiplier))"
        }
    }
}
