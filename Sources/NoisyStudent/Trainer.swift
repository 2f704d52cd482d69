import Datasets
import Engine
import Foundation
import Randomness

/// Why a training run stopped before its last step.
public enum TrainingError: Error, CustomStringConvertible, Equatable {
    /// The loss, the weights or the validation outputs became NaN or infinite at this epoch and
    /// step (1-based).
    case nonFiniteLoss(phase: String, epoch: Int, step: Int)
    /// The phase was given no labeled image.
    case emptyLabeledSet(phase: String)
    /// The checkpoint at `path` belongs to another run (architecture, phase, seed or step).
    case resumeMismatch(path: String, detail: String)

    /// One line naming the phase (or file) and what to do.
    public var description: String {
        switch self {
        case .nonFiniteLoss(let phase, let epoch, let step):
            return "\(phase): the loss, the weights or the model's outputs became NaN or infinite at epoch \(epoch), step \(step); stopped "
                + "(the last good checkpoint is kept). Try a lower learning rate."
        case .emptyLabeledSet(let phase): return "\(phase): no labeled images to train on"
        case .resumeMismatch(let path, let detail): return "\(path): cannot resume from this checkpoint: \(detail)"
        }
    }
}

/// Per-epoch record of a training run.
public struct EpochRecord: Codable, Sendable, Equatable {
    /// 1-based epoch number (passes over the labeled set).
    public var epoch: Int
    /// Mean training loss over the epoch's steps (the objective `StudentObjective` computes).
    public var loss: Double
    /// Learning rate of the epoch's last step.
    public var learningRate: Double
    /// Training images (labeled + unlabeled) per second of wall time over the epoch.
    public var imagesPerSecond: Double
    /// Validation top-1 (percent) of the raw weights after this epoch, when the run measures it.
    public var validationTop1: Double? = nil
}

/// A trained model: the weights to evaluate (the EMA when enabled) and how training went.
public struct TrainedModel {
    /// The architecture (with the model noise it trained under).
    public var spec: ModelSpec
    /// The weights to evaluate: the EMA of the training weights when the run keeps one.
    public var model: any Layer
    /// One record per epoch.
    public var history: [EpochRecord]
    /// Wall time of training, in seconds.
    public var seconds: Double
    /// Optimizer steps taken.
    public var steps: Int
    /// What the checkpoint it was loaded from recorded (empty for a model trained in this process).
    public var metadata: [String: String] = [:]
}

/// Trains one model on labeled (+ pseudo-labeled) batches: the loop shared by the teacher and
/// every student. Deterministic: batch order, noise and dropout masks derive from (seed, step),
/// so a run resumed from a checkpoint ends exactly where an uninterrupted one would.
public struct Trainer {
    /// The model to build and train.
    public var spec: ModelSpec
    /// Schedule, optimizer, batch size, label smoothing, EMA.
    public var settings: TrainingSettings
    /// Seed of initialisation, batch order, input noise and model noise (`RunFolder.trainingSeed`).
    public var seed: UInt64
    /// Name in progress reports and checkpoints ("teacher", "student1", ...).
    public var phase: String
    /// Unlabeled images per labeled image in a batch; the unlabeled loss is weighted by the
    /// ratio of the batch's real sizes (`StudentObjective`, as in `main.py`).
    public var unlabeledRatio: Int
    /// Extra multiplier on the unlabeled loss, on top of the ratio (1 = the official loss).
    public var unlabeledLossWeight: Float
    /// Where to keep the resumable training state (nil: nowhere).
    public var checkpoint: URL?
    /// Steps between two saves of the training state (and after the last step).
    public var checkpointEverySteps: Int
    /// Receives a report after every step.
    public var progress: any ProgressReporter

    /// A trainer; see the properties for each parameter.
    public init(spec: ModelSpec, settings: TrainingSettings, seed: UInt64, phase: String,
                unlabeledRatio: Int = 0, unlabeledLossWeight: Float = 1, checkpoint: URL? = nil,
                checkpointEverySteps: Int = 500, progress: any ProgressReporter = SilentProgress()) {
        self.spec = spec; self.settings = settings; self.seed = seed; self.phase = phase
        self.unlabeledRatio = unlabeledRatio; self.unlabeledLossWeight = unlabeledLossWeight
        self.checkpoint = checkpoint; self.checkpointEverySteps = checkpointEverySteps; self.progress = progress
    }

    /// Steps per pass over the labeled set.
    public func stepsPerEpoch(labeledCount: Int) -> Int {
        max(1, (labeledCount + settings.batchSize - 1) / settings.batchSize)
    }

    /// Test hook: stop (as if killed) after this many steps in this call.
    public var stopAfterSteps: Int? = nil
    /// Measures the model after each epoch (e.g. validation top-1) for training curves; NaN or
    /// infinite stops training with `TrainingError.nonFiniteLoss` (a diverged model's outputs).
    public var validation: ((any Layer) -> Double)? = nil
    /// Data-parallel training: this process trains on its share of each global batch and the
    /// group sums gradients (`DataParallel.swift`); only rank 0 writes checkpoints. Nil: alone.
    public var group: (any DataParallelGroup)? = nil
    /// With a group: batch-norm statistics over the global batch or per process.
    public var batchNormStatistics: BatchNormStatistics = .synchronised

    /// Trains on `data` (batches from `BatchMaker`, NHWC Float32), resuming from `checkpoint`
    /// when `resume` is set and it exists.
    /// - Throws: `TrainingError` (empty labeled set, non-finite loss, a checkpoint of another
    ///   run), `CheckpointError` for a damaged training state.
    public func train(_ data: TrainingData, resume: Bool = false) throws -> TrainedModel {
        guard data.labeled.count > 0 else { throw TrainingError.emptyLabeledSet(phase: phase) }
        let start = Date()
        var initRNG = SeededGenerator(seed: seed)
        let model = spec.build(rng: &initRNG)
        var optimizer = settings.makeOptimizer()
        var ema = settings.emaDecay.map { ExponentialMovingAverage(model.parameters, decay: $0) }
        let spe = stepsPerEpoch(labeledCount: data.labeled.count)
        let schedule = settings.schedule(stepsPerEpoch: spe)
        let totalSteps = schedule.totalSteps
        var history: [EpochRecord] = []
        var firstStep = 0
        var epochLoss = 0.0, epochSteps = 0
        // Seconds the training took before this call (a resume's checkpoint records them), so
        // `seconds` is the whole training's and not only the resumed part's.
        var earlierSeconds = 0.0
        if resume, let url = checkpoint, FileManager.default.fileExists(atPath: url.path) {
            (firstStep, epochLoss, epochSteps, earlierSeconds) = try restore(from: url, model: model, optimizer: &optimizer,
                                                                               ema: &ema, history: &history)
        }
        func seconds() -> Double { earlierSeconds + Date().timeIntervalSince(start) }

        let maker = BatchMaker(data: data, batchSize: settings.batchSize, unlabeledRatio: unlabeledRatio,
                               seed: seed, stepsPerEpoch: spe)
        let prefetch = Prefetcher { maker.batch(step: $0) }
        let objective = StudentObjective(labelSmoothing: settings.labelSmoothing, unlabeledLossMultiplier: unlabeledLossWeight)
        var images = 0
        var clock = Date()
        var stepsThisCall = 0
        func requireFiniteWeights(epoch: Int, step: Int) throws {
            guard model.parameters.allSatisfy({ $0.value.isFinite }) else {
                throw TrainingError.nonFiniteLoss(phase: phase, epoch: epoch, step: step)
            }
        }
        for step in firstStep..<totalSteps {
            if let stop = stopAfterSteps, stepsThisCall >= stop { break }
            let global = prefetch.item(step)
            let batch = group.map { $0.localBatch(global) } ?? global
            let lr = schedule(step)
            model.zeroGradients()
            let ctx = ForwardContext(training: true, rng: SeededGenerator(seed: seed &+ 0x5EED &+ UInt64(step) &* 0x9E37_79B9),
                                     batchStatistics: batchNormStatistics == .synchronised ? group : nil,
                                     globalRows: group.map { $0.localRows(of: global) })
            let logits = model(Variable(batch.images), ctx)
            let loss = objective.loss(logits: logits, labels: batch.labels, unlabeledTargets: batch.unlabeledTargets,
                                      global: group.map { _ in (global.labeledCount, global.images.shape[0] - global.labeledCount) })
            var value = loss.value.scalars[0]
            let epoch = step / spe + 1
            if let group {
                loss.backward()
                value = group.synchronize(model.parameters, localLoss: value)
            }
            guard value.isFinite else { throw TrainingError.nonFiniteLoss(phase: phase, epoch: epoch, step: step + 1) }
            if group == nil { loss.backward() }
            optimizer.step(model.parameters, learningRate: lr)
            ema?.update(model.parameters)
            epochLoss += Double(value); epochSteps += 1; images += batch.images.shape[0]; stepsThisCall += 1
            let endOfEpoch = (step + 1) % spe == 0 || step + 1 == totalSteps
            let elapsed = Date().timeIntervalSince(clock)
            progress.report(ProgressEvent(phase: phase, epoch: epoch, epochs: (totalSteps + spe - 1) / spe,
                                          step: step + 1, totalSteps: totalSteps, loss: value,
                                          imagesPerSecond: Double(images) / max(elapsed, 1e-9),
                                          elapsed: seconds(), endOfEpoch: endOfEpoch, note: nil))
            if endOfEpoch {
                // A finite loss can still be followed by an update that overflowed: stop before
                // the validation pass (or a caller's evaluation) reads NaN probabilities.
                try requireFiniteWeights(epoch: epoch, step: step + 1)
                // Finite but huge weights can still give NaN outputs (validation reports NaN then).
                let validationTop1 = validation.map { $0(model) }
                if let v = validationTop1, !v.isFinite { throw TrainingError.nonFiniteLoss(phase: phase, epoch: epoch, step: step + 1) }
                history.append(EpochRecord(epoch: epoch, loss: epochLoss / Double(max(epochSteps, 1)), learningRate: Double(lr),
                                           imagesPerSecond: Double(images) / max(elapsed, 1e-9),
                                           validationTop1: validationTop1))
                epochLoss = 0; epochSteps = 0; images = 0; clock = Date()
            }
            if let url = checkpoint, group?.rank ?? 0 == 0, (step + 1) % checkpointEverySteps == 0 || step + 1 == totalSteps {
                // A finite loss can still be followed by an update that overflowed: never save it.
                try requireFiniteWeights(epoch: epoch, step: step + 1)
                try save(to: url, step: step + 1, model: model, optimizer: optimizer, ema: ema, history: history,
                         epochLoss: epochLoss, epochSteps: epochSteps, seconds: seconds())
            }
        }
        let completed = firstStep + stepsThisCall
        if let ema {
            var evalRNG = SeededGenerator(seed: seed)
            let averaged = spec.build(rng: &evalRNG)
            ema.copy(into: averaged.parameters)
            return TrainedModel(spec: spec, model: averaged, history: history, seconds: seconds(), steps: completed)
        }
        return TrainedModel(spec: spec, model: model, history: history, seconds: seconds(), steps: completed)
    }

    // MARK: Checkpoints (model, optimizer slots, EMA, history: all a resume needs)

    /// `epochLoss` and `epochSteps` are the running sums of the epoch in progress: a resume
    /// restores them so that the epoch's logged loss equals an uninterrupted run's. `seconds`:
    /// the training's wall time so far (earlier calls included), which a resume adds to its own.
    private func save(to url: URL, step: Int, model: any Layer, optimizer: any Optimizer,
                      ema: ExponentialMovingAverage?, history: [EpochRecord], epochLoss: Double, epochSteps: Int,
                      seconds: Double) throws {
        var tensors = model.checkpointTensors()
        for (i, s) in optimizer.state.enumerated() { tensors.append(("optimizer.\(i)", Tensor(shape: [s.count], scalars: s))) }
        if let ema { for (i, s) in ema.shadow.enumerated() { tensors.append(("ema.\(i)", Tensor(shape: [s.count], scalars: s))) } }
        let meta = [
            "phase": phase, "step": String(step), "seed": String(seed),
            "emaUpdates": String(ema?.updates ?? 0),
            "history": String(decoding: try EpochRecord.encodeSorted(history), as: UTF8.self),
            // Double's description round-trips exactly.
            "epochLoss": String(epochLoss), "epochSteps": String(epochSteps),
            "trainingSeconds": String(seconds),
        ]
        try Checkpoint(architecture: try spec.json(), metadata: meta, tensors: tensors).write(to: url)
    }

    private func restore(from url: URL, model: any Layer, optimizer: inout any Optimizer,
                         ema: inout ExponentialMovingAverage?, history: inout [EpochRecord])
        throws -> (step: Int, epochLoss: Double, epochSteps: Int, seconds: Double) {
        let ckpt = try Checkpoint.read(from: url)
        guard ckpt.architecture == (try spec.json()) else {
            throw TrainingError.resumeMismatch(path: url.path, detail: "it holds \(ckpt.architecture), this run trains \(spec)")
        }
        guard ckpt.metadata["phase"] == phase, ckpt.metadata["seed"] == String(seed),
              let step = ckpt.metadata["step"].flatMap(Int.init) else {
            throw TrainingError.resumeMismatch(path: url.path, detail: "phase/seed/step differ (\(ckpt.metadata))")
        }
        try model.load(from: ckpt)
        optimizer.state = ckpt.tensors.filter { $0.name.hasPrefix("optimizer.") }.map(\.tensor.scalars)
        if ema != nil {
            let shadow = ckpt.tensors.filter { $0.name.hasPrefix("ema.") }.map(\.tensor.scalars)
            ema?.restore(shadow: shadow, updates: Int(ckpt.metadata["emaUpdates"] ?? "0") ?? 0)
        }
        if let h = ckpt.metadata["history"], let decoded = try? JSONDecoder().decode([EpochRecord].self, from: Data(h.utf8)) {
            history = decoded
        }
        // Checkpoints written before the running sums were saved restart the epoch's average.
        let loss = ckpt.metadata["epochLoss"].flatMap(Double.init) ?? 0
        let steps = ckpt.metadata["epochSteps"].flatMap(Int.init) ?? 0
        // Checkpoints written before the time was recorded count from the resume.
        let seconds = ckpt.metadata["trainingSeconds"].flatMap(Double.init) ?? 0
        return (step, loss.isFinite ? loss : 0, max(0, steps), seconds.isFinite && seconds > 0 ? seconds : 0)
    }
}

extension EpochRecord {
    /// A history as JSON with sorted keys, so identical runs write identical checkpoints.
    static func encodeSorted(_ history: [EpochRecord]) throws -> Data {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return try e.encode(history)
    }
}

extension ModelSpec {
    /// Canonical JSON (sorted keys): what checkpoints record and compare.
    public func json() throws -> String {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return String(decoding: try e.encode(self), as: UTF8.self)
    }
}

/// The training batches: batch `step` is a pure function of (data, seed, step), so a resumed,
/// prefetched (`Prefetcher`) or data-parallel run sees exactly the batches of a plain one.
/// The one batch pipeline of training; `noisy-student data-bench` measures it.
///
/// A batch is `batchSize` labeled images followed by `batchSize * unlabeledRatio` pseudo-labeled
/// ones (when there are any), in one tensor as `main.py` feeds both to one forward pass.
public struct BatchMaker: Sendable {
    /// The labeled set, the pseudo-labeled set, normalisation and input noise.
    public let data: TrainingData
    /// Labeled images per batch.
    public let batchSize: Int
    /// Pseudo-labeled images per labeled image in a batch (0: labeled only).
    public let unlabeledRatio: Int
    /// The run's seed; every permutation and noise draw derives from it and the step.
    public let seed: UInt64
    /// Steps per pass over the labeled set (`Trainer.stepsPerEpoch(labeledCount:)`).
    public let stepsPerEpoch: Int

    /// - Parameters:
    ///   - batchSize: labeled images per batch (> 0).
    ///   - stepsPerEpoch: steps per epoch of the labeled set (> 0).
    public init(data: TrainingData, batchSize: Int, unlabeledRatio: Int, seed: UInt64, stepsPerEpoch: Int) {
        self.data = data; self.batchSize = batchSize; self.unlabeledRatio = unlabeledRatio
        self.seed = seed; self.stepsPerEpoch = stepsPerEpoch
    }

    /// The labeled indices of `step`: epoch-wise permutations, the last batch of an epoch
    /// topped up from the start of the permutation so every batch has the same size.
    public func labeledIndices(step: Int) -> [Int] {
        let epoch = step / stepsPerEpoch, pos = step % stepsPerEpoch
        var rng = SeededGenerator(seed: seed ^ 0x1AB3_11ED ^ UInt64(epoch) &* 0x2545_F491_4F6C_DD1D)
        let perm = rng.permutation(data.labeled.count)
        return (0..<batchSize).map { perm[(pos * batchSize + $0) % perm.count] }
    }

    /// Unlabeled positions (into the pseudo-labeled set) of `step`, by passes over that set.
    func unlabeledPositions(step: Int, count: Int, total: Int) -> [Int] {
        var out: [Int] = []
        out.reserveCapacity(count)
        var k = step * count
        var pass = -1
        var perm: [Int] = []
        while out.count < count {
            let p = k / total
            if p != pass {
                pass = p
                var rng = SeededGenerator(seed: seed ^ 0x0B5E_55ED ^ UInt64(p) &* 0x2545_F491_4F6C_DD1D)
                perm = rng.permutation(total)
            }
            out.append(perm[k % total])
            k += 1
        }
        return out
    }

    /// The batch of `step` (0-based): images NHWC Float32 normalised, labels of the labeled
    /// part, soft targets (`[unlabeled, classes]`) of the pseudo-labeled part.
    public func batch(step: Int) -> TrainingBatch {
        var rng = SeededGenerator(seed: seed ^ 0xA06_0E47 ^ UInt64(step) &* 0x9E37_79B9_7F4A_7C15)
        let li = labeledIndices(step: step)
        var images = data.labeled.subset(li)
        let labels = li.map { Int(data.labeled.labels[$0]) }
        var targets: Tensor? = nil
        if let pseudo = data.pseudoLabeled, unlabeledRatio > 0, pseudo.count > 0 {
            let nu = batchSize * unlabeledRatio
            let pos = unlabeledPositions(step: step, count: nu, total: pseudo.count)
            images.append(contentsOf: pseudo.pool.subset(pos.map { pseudo.indices[$0] }))
            var t = [Float](repeating: 0, count: nu * pseudo.classes)
            for (k, p) in pos.enumerated() {
                for c in 0..<pseudo.classes { t[k * pseudo.classes + c] = pseudo.targets[p * pseudo.classes + c] }
            }
            targets = Tensor(shape: [nu, pseudo.classes], scalars: t)
        }
        if let augmenter = data.augmenter { augmenter.augment(&images, rng: &rng) }
        let floats = images.floatBatch(indices: Array(0..<images.count), normalization: data.normalization)
        return TrainingBatch(images: Tensor(floats), labels: labels, unlabeledTargets: targets)
    }
}
