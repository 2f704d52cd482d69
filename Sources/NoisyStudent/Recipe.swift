import Augment
import Datasets
import Engine

/// The student's noise (and optionally the teacher's): input noise from RandAugment, Cutout and
/// crops; model noise from dropout and stochastic depth. Each switch is separate for ablations.
public struct NoiseSettings: Codable, Hashable, Sendable {
    /// Whether RandAugment runs (input noise, paper section 2).
    public var randAugment: Bool
    /// RandAugment's N: ops applied per image (official: 2).
    public var randAugmentLayers: Int
    /// RandAugment's M on the 0-10 scale (official SVHN: 5).
    public var randAugmentMagnitude: Float
    /// Whether Cutout erases one 16x16 square per image (half-size 8 whatever the image size).
    public var cutout: Bool
    /// Whether each image is reflect-padded by 4 pixels and randomly cropped back to its size.
    public var crop: Bool
    /// Dropout rate before the classifier (model noise; official student: 0.2).
    public var dropout: Float
    /// Stochastic depth drop rate d of the deepest block (block i of N survives with 1 - d i / N;
    /// official student: 0.2).
    public var stochasticDepth: Float

    /// Noise from its switches; RandAugment defaults to the official N=2, M=5.
    public init(randAugment: Bool, randAugmentLayers: Int = 2, randAugmentMagnitude: Float = 5, cutout: Bool, crop: Bool,
                dropout: Float, stochasticDepth: Float) {
        self.randAugment = randAugment; self.randAugmentLayers = randAugmentLayers
        self.randAugmentMagnitude = randAugmentMagnitude; self.cutout = cutout; self.crop = crop
        self.dropout = dropout; self.stochasticDepth = stochasticDepth
    }

    /// The official SVHN student noise: RandAugment N=2 M=5, Cutout 16x16, pad-4 crop,
    /// dropout 0.2, stochastic depth rate 0.2 (block i of N survives with 1 - 0.2 i / N, on
    /// identity-skip blocks only: `ModelSpec.stochasticDepth`).
    public static let official = NoiseSettings(randAugment: true, cutout: true, crop: true, dropout: 0.2, stochasticDepth: 0.2)
    /// No noise at all (plain self-training; the teacher's default).
    public static let none = NoiseSettings(randAugment: false, cutout: false, crop: false, dropout: 0, stochasticDepth: 0)

    /// The input-noise pipeline, or nil when no input noise is on.
    public var inputNoise: StudentNoise? {
        guard randAugment || cutout || crop else { return nil }
        return StudentNoise(randAugment: randAugment ? RandAugment(layers: randAugmentLayers, magnitude: randAugmentMagnitude) : nil,
                            cutoutPad: cutout ? 8 : 0, cropPad: crop ? 4 : 0)
    }

    /// `spec` with this noise's model noise.
    public func applying(to spec: ModelSpec) -> ModelSpec {
        var s = spec
        s.dropout = dropout
        s.stochasticDepth = stochasticDepth
        return s
    }
}

/// How much data a run uses.
public struct DataSettings: Codable, Hashable, Sendable {
    /// Labeled images per class, taken after the validation hold-out. 0 with SVHN is the official
    /// setup: every training image not held out is labeled and `extra` is the unlabeled pool.
    /// Image folders ignore it (their labeled/ folder is the labeled set).
    public var labeledPerClass: Int
    /// Unlabeled pool size (synthetic: generated; real data: at most what is left).
    public var unlabeledCount: Int?
    /// Images held out of the training set (synthetic: generated) for validation; never trained on.
    /// Image folders use their val/ folder instead.
    public var validationCount: Int
    /// Synthetic test-set size (real data use their own test sets).
    public var testCount: Int
    /// Synthetic difficulty: 0 = easy, 1 = the default (SVHN-like), above 1 harder; nil = 1.
    public var syntheticDifficulty: Float?

    /// Settings from their parts; nil difficulty is the default synthetic difficulty (1).
    public init(labeledPerClass: Int, unlabeledCount: Int?, validationCount: Int, testCount: Int, syntheticDifficulty: Float? = nil) {
        self.labeledPerClass = labeledPerClass; self.unlabeledCount = unlabeledCount
        self.validationCount = validationCount; self.testCount = testCount; self.syntheticDifficulty = syntheticDifficulty
    }
}

/// Every hyperparameter of a Noisy Student run, as one value (Codable: it is saved with each run
/// and hashed into the report's cache keys).
public struct Recipe: Codable, Hashable, Sendable {
    /// Which preset a recipe starts from: `tiny` (CI report, minutes), `default` (the report,
    /// about 5 minutes per seed on 2 cores), `paper` (the official SVHN recipe, hours).
    public enum Scale: String, Codable, Sendable, CaseIterable {
        case tiny, `default`, paper
    }

    /// The preset this recipe came from (kept by `adapted`).
    public var scale: Scale
    /// How many images of each split the run uses.
    public var data: DataSettings
    /// The first teacher's model, trained on the labeled images only.
    public var teacher: ModelSpec
    /// One student per iteration, each equal to or larger than the model before it.
    public var students: [ModelSpec]
    /// Optimisation of the first teacher.
    public var teacherTraining: TrainingSettings
    /// Optimisation of every student (each on labeled plus pseudo-labeled images).
    public var studentTraining: TrainingSettings
    /// Noise while the first teacher trains (none except in `paper`); pseudo labels are always
    /// predicted without noise.
    public var teacherNoise: NoiseSettings
    /// Noise while a student trains (paper section 2: input and model noise).
    public var studentNoise: NoiseSettings
    /// Unlabeled images per labeled image in a student's batch (`--unlabel_ratio`). It also
    /// weights the unlabeled loss: the student minimises labeled mean CE + ratio x unlabeled
    /// mean CE, as `main.py` does (see `StudentObjective`).
    public var unlabeledRatio: Int
    /// An extra multiplier on the unlabeled loss on top of the ratio (1 = the official loss).
    public var unlabeledLossWeight: Float
    /// Soft (the teacher's distribution, the paper's default) or hard (one-hot) targets.
    public var pseudoLabelMode: PseudoLabels.Mode
    /// Temperature T of soft targets, p^(1/T) renormalised, applied after filtering; 1 = the
    /// teacher's softmax unchanged (the official setting).
    public var temperature: Float
    /// Confidence filtering and class balancing of the pseudo labels (`filter_unlabel.py`).
    public var filter: FilterSettings
    /// The run's seed: splits, and through `RunFolder`'s rules each model's initialisation, batches
    /// and noise, and each iteration's filtering draws.
    public var seed: UInt64

    /// Noisy Student iterations: one per student, each student becoming the next teacher.
    public var iterations: Int { students.count }

    /// The student's unlabeled training set from filtered pseudo labels, with this recipe's
    /// target mode, temperature (applied after filtering) and, for hard labels, the student's
    /// label smoothing (`main.py` smooths hard pseudo labels like labeled ones).
    public func studentSet(_ labels: PseudoLabels, _ filtered: FilterResult, pool: ImageSet) -> PseudoLabeledSet {
        PseudoLabelFilter.trainingSet(labels, filtered, pool: pool, mode: pseudoLabelMode, temperature: temperature,
                                      labelSmoothing: studentTraining.labelSmoothing)
    }

    /// Presets per scale. `paper` is the official SVHN recipe (design.md section 3);
    /// `default` and `tiny` shrink models and schedules to fit 2 CPU cores (see the report's
    /// method chapter for what departs from the official recipe and why).
    public static func preset(_ scale: Scale, classes: Int = 10, inputChannels: Int = 3) -> Recipe {
        switch scale {
        case .tiny:
            // The quick report (CI): a minute or two per seed on 2 cores with students visibly
            // above their teacher; the runs behind each number are in docs/tuning.md.
            let model = ModelSpec.wideResNet(depth: 10, width: 1, classes: classes, inputChannels: inputChannels)
            return Recipe(
                scale: .tiny,
                data: DataSettings(labeledPerClass: 30, unlabeledCount: 1_500, validationCount: 200, testCount: 500, syntheticDifficulty: 0.7),
                teacher: model, students: [model, model],
                teacherTraining: TrainingSettings(epochs: 30, batchSize: 32, peakLearningRate: 0.2, warmupEpochs: 0.5),
                studentTraining: TrainingSettings(epochs: 12, batchSize: 16, peakLearningRate: 0.1, warmupEpochs: 0.5),
                teacherNoise: .none,
                studentNoise: NoiseSettings(randAugment: true, cutout: false, crop: true, dropout: 0.1, stochasticDepth: 0.1),
                unlabeledRatio: 2, unlabeledLossWeight: 1, pseudoLabelMode: .soft, temperature: 1,
                filter: FilterSettings(threshold: 0.3), seed: 0)
        case .default:
            // One seed's loop (teacher + 3 students) in about 5 minutes on 2 cores, tuned on the
            // validation split only; the runs behind each number are in docs/tuning.md.
            let model = ModelSpec.wideResNet(depth: 10, width: 1, classes: classes, inputChannels: inputChannels)
            var noise = NoiseSettings.official
            noise.cutout = false  // erases too much of a centred digit for a 20-epoch student; an ablation
            return Recipe(
                scale: .default,
                data: DataSettings(labeledPerClass: 100, unlabeledCount: 20_000, validationCount: 1_000, testCount: 4_000),
                teacher: model, students: [model, model, model],
                teacherTraining: TrainingSettings(epochs: 30, batchSize: 64, peakLearningRate: 0.4, warmupEpochs: 1),
                studentTraining: TrainingSettings(epochs: 20, batchSize: 16, peakLearningRate: 0.1, warmupEpochs: 1),
                teacherNoise: .none, studentNoise: noise,
                unlabeledRatio: 2, unlabeledLossWeight: 1, pseudoLabelMode: .soft, temperature: 1,
                filter: FilterSettings(threshold: 0.3), seed: 0)
        case .paper:
            // local_scripts/svhn/run.sh + main.py defaults: EfficientNet-B0 (32x32 adaptation),
            // RMSProp 0.9/0.9/1e-3, peak lr 0.016 x 128/256 = 0.008 after 5 warm-up epochs,
            // x0.97 staircase down to final_base_lr 0.0002 x 128/256 = 0.0001, wd 1e-4, label
            // smoothing 0.1, EMA 0.9999, batch 128 + 640 unlabeled, train_steps 109,474 (its
            // default: 202.3 epochs of the 69,257 labeled images), soft labels, threshold 0.3.
            let b0 = ModelSpec.efficientNet(width: 1, depth: 1, classes: classes, inputChannels: inputChannels, dropout: 0.2, stochasticDepth: 0.2)
            let epochs = 109_474.0 * 128 / 69_257
            let decayEvery = TrainingSettings.staircaseDecayEpochs(epochs: epochs, warmupEpochs: 5, peakLearningRate: 0.008,
                                                                   finalLearningRate: 0.0001, rate: 0.97)
            let training = TrainingSettings(epochs: epochs, batchSize: 128, optimizer: .rmsprop, peakLearningRate: 0.008,
                                            warmupEpochs: 5, decay: .staircase(rate: 0.97, everyEpochs: decayEvery), momentum: 0.9,
                                            weightDecay: 1e-4, labelSmoothing: 0.1, emaDecay: 0.9999)
            return Recipe(
                scale: .paper,
                data: DataSettings(labeledPerClass: 0, unlabeledCount: nil, validationCount: 4_000, testCount: 0),
                teacher: b0, students: [b0],
                teacherTraining: training, studentTraining: training,
                teacherNoise: .official, studentNoise: .official,
                unlabeledRatio: 5, unlabeledLossWeight: 1, pseudoLabelMode: .soft, temperature: 1,
                filter: FilterSettings(threshold: 0.3), seed: 0)
        }
    }

    /// The Fashion-MNIST chapter's recipe (10 classes of 1-channel images): `scale`'s synthetic
    /// preset (`paper` runs `default`, the paper having no Fashion-MNIST setting) with one
    /// student, 100 labels per class (30 at `tiny`), the rest of the training set as the
    /// unlabeled pool (2,000 images at `tiny`), 1,000 validation images and the whole test set.
    /// Beyond `tiny`, chosen on seed 0's validation split (docs/tuning.md): the teacher trains
    /// with input noise (RandAugment N=2 M=5 and the pad-4 crop, no Cutout, no model noise) for
    /// 200 epochs, the official SVHN unlabeled ratio r = 5 (`main.py`'s `unlabel_ratio`)
    /// replaces the synthetic preset's 2, and the student trains for 80 epochs.
    public static func fashionMNIST(scale: Scale, seed: UInt64) -> Recipe {
        var r = preset(scale == .paper ? .default : scale, classes: 10, inputChannels: 1)
        r.seed = seed
        r.students = Array(r.students.prefix(1))
        if scale != .tiny {
            r.teacherNoise = NoiseSettings(randAugment: true, cutout: false, crop: true, dropout: 0, stochasticDepth: 0)
            r.teacherTraining.epochs = 200
            r.unlabeledRatio = 5
            r.studentTraining.epochs = 80
        }
        r.data = DataSettings(labeledPerClass: scale == .tiny ? 30 : 100, unlabeledCount: scale == .tiny ? 2_000 : nil,
                              validationCount: 1_000, testCount: 0)
        return r
    }

    /// The same recipe for a dataset with `classes` classes and `channels` input channels.
    public func adapted(classes: Int, inputChannels: Int) -> Recipe {
        var r = self
        func fit(_ m: ModelSpec) -> ModelSpec { var m = m; m.classes = classes; m.inputChannels = inputChannels; return m }
        r.teacher = fit(teacher)
        r.students = students.map(fit)
        return r
    }
}
