import Foundation
import Engine

/// How a model is optimised: the part of a recipe that a teacher and a student each have.
public struct TrainingSettings: Codable, Hashable, Sendable {
    public enum OptimizerKind: String, Codable, Sendable { case sgd, rmsprop }
    public enum Decay: Codable, Hashable, Sendable {
        case cosine
        /// x rate every `everyEpochs` epochs (the official SVHN recipe: 0.97 every
        /// `staircaseDecayEpochs(...)`, about 1.37 epochs).
        case staircase(rate: Double, everyEpochs: Double)
    }

    /// Passes over the labeled set.
    public var epochs: Double
    public var batchSize: Int
    public var optimizer: OptimizerKind
    public var peakLearningRate: Double
    public var warmupEpochs: Double
    public var decay: Decay
    public var momentum: Float
    public var weightDecay: Float
    /// RMSProp's decay and epsilon (TF semantics).
    public var rmsDecay: Float
    public var rmsEpsilon: Float
    public var labelSmoothing: Float
    /// Decay of the weight EMA used for evaluation; nil evaluates the raw weights.
    public var emaDecay: Float?

    public init(epochs: Double, batchSize: Int, optimizer: OptimizerKind = .sgd, peakLearningRate: Double,
                warmupEpochs: Double = 0, decay: Decay = .cosine, momentum: Float = 0.9, weightDecay: Float = 5e-4,
                rmsDecay: Float = 0.9, rmsEpsilon: Float = 1e-3, labelSmoothing: Float = 0, emaDecay: Float? = nil) {
        self.epochs = epochs; self.batchSize = batchSize; self.optimizer = optimizer
        self.peakLearningRate = peakLearningRate; self.warmupEpochs = warmupEpochs; self.decay = decay
        self.momentum = momentum; self.weightDecay = weightDecay; self.rmsDecay = rmsDecay
        self.rmsEpsilon = rmsEpsilon; self.labelSmoothing = labelSmoothing; self.emaDecay = emaDecay
    }

    /// How often a staircase decay by `rate` must step so the learning rate falls from the
    /// peak to `finalLearningRate` over the epochs after warm-up, as `main.py` computes
    /// `decay_epochs` when `--final_base_lr` is set:
    /// (epochs - warmup) / log_rate(final / peak). For the SVHN run (202.3 epochs, 5 warm-up,
    /// 0.008 -> 0.0001, rate 0.97) that is 1.37 epochs.
    public static func staircaseDecayEpochs(epochs: Double, warmupEpochs: Double, peakLearningRate: Double,
                                            finalLearningRate: Double, rate: Double) -> Double {
        (epochs - warmupEpochs) / (log(finalLearningRate / peakLearningRate) / log(rate))
    }

    public func makeOptimizer() -> any Optimizer {
        switch optimizer {
        case .sgd: return SGD(momentum: momentum, nesterov: true, weightDecay: weightDecay)
        case .rmsprop: return RMSProp(decay: rmsDecay, momentum: momentum, epsilon: rmsEpsilon, weightDecay: weightDecay)
        }
    }

    public func schedule(stepsPerEpoch: Int) -> LearningRateSchedule {
        let total = Int((epochs * Double(stepsPerEpoch)).rounded(.up))
        let warmup = Int(warmupEpochs * Double(stepsPerEpoch))
        switch decay {
        case .cosine:
            return LearningRateSchedule(peak: peakLearningRate, warmupSteps: warmup, totalSteps: total, decay: .cosine)
        case .staircase(let rate, let every):
            return LearningRateSchedule(peak: peakLearningRate, warmupSteps: warmup, totalSteps: total,
                                        decay: .staircase(rate: rate, everySteps: every * Double(stepsPerEpoch)))
        }
    }
}
