import Foundation
import Engine

/// How a model is optimised: the part of a recipe that a teacher and a student each have.
public struct TrainingSettings: Codable, Hashable, Sendable {
    /// `sgd`: Nesterov SGD, PyTorch semantics (the scaled-down presets); `rmsprop`: TF1 RMSProp
    /// (the official EfficientNet and Noisy Student optimizer).
    public enum OptimizerKind: String, Codable, Sendable { case sgd, rmsprop }
    /// How the learning rate falls after warm-up.
    public enum Decay: Codable, Hashable, Sendable {
        /// Cosine from the peak to 0 at the run's last step.
        case cosine
        /// x rate every `everyEpochs` epochs (the official SVHN recipe: 0.97 every
        /// `staircaseDecayEpochs(...)`, about 1.37 epochs).
        case staircase(rate: Double, everyEpochs: Double)
    }

    /// Passes over the labeled set.
    public var epochs: Double
    /// Labeled images per step; a student's step adds `unlabeledRatio` times as many pseudo-labeled ones.
    public var batchSize: Int
    /// Which optimizer `makeOptimizer` builds.
    public var optimizer: OptimizerKind
    /// Learning rate at the end of warm-up (official SVHN: 0.008 at batch 128).
    public var peakLearningRate: Double
    /// Epochs (fractions allowed) of linear warm-up to the peak; 0: none.
    public var warmupEpochs: Double
    /// The decay after warm-up.
    public var decay: Decay
    /// Momentum of either optimizer (official: 0.9).
    public var momentum: Float
    /// L2 coefficient added to the gradients of decaying parameters (convolution and dense weights,
    /// not biases or batch norm); official SVHN: 1e-4.
    public var weightDecay: Float
    /// RMSProp's decay and epsilon (TF semantics).
    public var rmsDecay: Float
    /// Added inside RMSProp's square root (official: 1e-3).
    public var rmsEpsilon: Float
    /// Smoothing of the labeled one-hot targets, and of a student's hard pseudo labels (official: 0.1).
    public var labelSmoothing: Float
    /// Decay of the weight EMA used for evaluation; nil evaluates the raw weights.
    public var emaDecay: Float?

    /// Defaults: Nesterov SGD 0.9, weight decay 5e-4, cosine decay without warm-up, no label
    /// smoothing, no EMA; RMSProp's decay 0.9 and epsilon 1e-3 as the official code.
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

    /// A fresh optimizer (empty slots) with these settings.
    public func makeOptimizer() -> any Optimizer {
        switch optimizer {
        case .sgd: return SGD(momentum: momentum, nesterov: true, weightDecay: weightDecay)
        case .rmsprop: return RMSProp(decay: rmsDecay, momentum: momentum, epsilon: rmsEpsilon, weightDecay: weightDecay)
        }
    }

    /// The per-step schedule (`utils.py` `build_learning_rate`): ceil(epochs x stepsPerEpoch) steps,
    /// floor(warmupEpochs x stepsPerEpoch) of them warm-up, staircase every everyEpochs x
    /// stepsPerEpoch steps.
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
