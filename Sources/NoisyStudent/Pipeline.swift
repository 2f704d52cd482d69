import Datasets
import Engine
import Foundation
import Randomness
import SystemSupport

/// The Noisy Student loop: train a teacher on labeled images; let it label the unlabeled pool
/// (clean images, eval mode); filter and balance; train a noisy, equal-or-larger student on
/// labeled + pseudo-labeled batches; make the student the teacher; repeat.
///
/// With a run folder every phase leaves its result there (atomically), and a rerun with
/// `resume` continues from the last finished phase, or from inside a training run.
public struct Pipeline {
    /// What to train and how (models, schedules, noise, filtering, iterations, seed).
    public var recipe: Recipe
    /// The splits (labeled, unlabeled pool, validation, test) and their normalisation.
    public var data: PreparedData
    /// Where each phase leaves its result (nil: nothing is written, nothing resumed).
    public var folder: RunFolder?
    /// Continue from what the run folder already holds (finished phases are loaded, not redone).
    public var resume: Bool
    /// Receives training progress (steps, epochs, loss, images/s).
    public var progress: any ProgressReporter
    /// Measure validation top-1 after every epoch (training curves). Off for runs that only
    /// need the final model: it saves one pass over the validation split per epoch.
    public var validatesEachEpoch = true
    /// Data-parallel training with other processes (`mpirun`); only rank 0 writes the run folder.
    public var group: (any DataParallelGroup)? = nil
    /// With a group: batch-norm statistics over the global batch (synchronised) or per rank.
    public var batchNormStatistics: BatchNormStatistics = .synchronised

    /// - Parameters:
    ///   - folder: the run folder (nil: keep nothing on disk).
    ///   - resume: continue from what `folder` holds.
    public init(recipe: Recipe, data: PreparedData, folder: RunFolder? = nil, resume: Bool = false,
                progress: any ProgressReporter = SilentProgress()) {
        self.recipe = recipe; self.data = data; self.folder = folder; self.resume = resume; self.progress = progress
    }

    /// A file of the run folder, to read back on resume (nil without a folder).
    func file(_ name: (RunFolder) -> URL) -> URL? { folder.map(name) }
    /// Where to write a file: the run folder's on rank 0 (or alone), nowhere on other ranks.
    func output(_ name: (RunFolder) -> URL) -> URL? { group?.rank ?? 0 == 0 ? file(name) : nil }

    // MARK: Phases

    /// Trains model `i` (0 = teacher) or loads it when a finished checkpoint exists.
    public func trainModel(_ i: Int, pseudoLabeled: PseudoLabeledSet?) throws -> TrainedModel {
        let name = RunFolder.modelName(i)
        let noise = i == 0 ? recipe.teacherNoise : recipe.studentNoise
        let spec = noise.applying(to: i == 0 ? recipe.teacher : recipe.students[i - 1])
        let settings = i == 0 ? recipe.teacherTraining : recipe.studentTraining
        if resume, let url = file({ $0.model(i) }), FileManager.default.fileExists(atPath: url.path) {
            let trained = try Self.loadModel(url, expected: spec)
            try ModelFit.check(trained, path: url.path, against: data)
            return trained
        }
        var trainer = Trainer(spec: spec, settings: settings, seed: RunFolder.trainingSeed(runSeed: recipe.seed, model: i), phase: name,
                              unlabeledRatio: pseudoLabeled == nil ? 0 : recipe.unlabeledRatio,
                              unlabeledLossWeight: recipe.unlabeledLossWeight, checkpoint: file({ $0.trainingState(i) }),
                              progress: progress)
        trainer.checkpointEverySteps = 200
        trainer.group = group
        trainer.batchNormStatistics = batchNormStatistics
        if validatesEachEpoch, data.splits.validation.count > 0 {
            let (validation, norm, classes) = (data.splits.validation, data.normalization, data.classes)
            trainer.validation = { Evaluator.validationTop1($0, on: validation, normalization: norm, classes: classes) }
        }
        let trained = try trainer.train(TrainingData(labeled: data.splits.labeled, pseudoLabeled: pseudoLabeled,
                                                     normalization: data.normalization, augmenter: noise.inputNoise),
                                       resume: resume)
        if let url = output({ $0.model(i) }), let state = output({ $0.trainingState(i) }) {
            let card = ModelCard(classNames: data.classNames, normalization: data.normalization, inputSize: data.splits.labeled.height)
            try RunFolder.writeModel(trained.model, spec: spec, card: card, extra: [
                "name": name, "seconds": String(trained.seconds), "steps": String(trained.steps),
                "history": String(decoding: try EpochRecord.encodeSorted(trained.history), as: UTF8.self),
            ], to: url)
            try? FileManager.default.removeItem(at: state)
        }
        return trained
    }

    /// Loads a finished model checkpoint, checking it is the architecture the recipe expects.
    public static func loadModel(_ url: URL, expected: ModelSpec? = nil) throws -> TrainedModel {
        let ckpt = try Checkpoint.read(from: url)
        let spec: ModelSpec
        do { spec = try JSONDecoder().decode(ModelSpec.self, from: Data(ckpt.architecture.utf8)) } catch {
            throw PipelineError.corruptFile(url.path, "its architecture record is not a model description: \(ckpt.architecture)")
        }
        if let expected, expected != spec {
            throw PipelineError.corruptFile(url.path, "\(CheckpointError.architectureMismatch(expected: "\(expected)", found: "\(spec)"))")
        }
        // The architecture record is input too: refuse what the model constructors would trap on.
        do { try spec.validate("architecture") } catch let e as RecipeError {
            throw PipelineError.corruptFile(url.path, "its \(e.key): \(e.problem)")
        }
        var rng = SeededGenerator(seed: 0)
        let model = spec.build(rng: &rng)
        do { try model.load(from: ckpt) } catch let e as CheckpointError { throw PipelineError.corruptFile(url.path, "\(e)") }
        let history = ckpt.metadata["history"].flatMap { try? JSONDecoder().decode([EpochRecord].self, from: Data($0.utf8)) } ?? []
        return TrainedModel(spec: spec, model: model, history: history, seconds: Double(ckpt.metadata["seconds"] ?? "") ?? 0,
                            steps: Int(ckpt.metadata["steps"] ?? "") ?? 0, metadata: ckpt.metadata)
    }

    /// The teacher's labels for the whole pool (or loads them from the run folder).
    public func pseudoLabels(iteration: Int, teacher: any Layer) throws -> PseudoLabels {
        if resume, let url = file({ $0.pseudoLabels(iteration) }), FileManager.default.fileExists(atPath: url.path) {
            return try PseudoLabelFile.read(url, wholePoolOf: data)
        }
        let labels = PseudoLabels.predict(teacher: teacher, pool: data.splits.unlabeled.images, normalization: data.normalization,
                                          classes: data.classes, progress: progress)
        if let url = output({ $0.pseudoLabels(iteration) }) { try PseudoLabelFile.write(labels, to: url, poolCount: data.splits.unlabeled.count) }
        return labels
    }

    /// Filters and balances the teacher's labels of iteration `iteration` (`filter_unlabel.py`,
    /// with the iteration's seed) and makes the student's pseudo-labeled set (targets soft or
    /// hard, sharpened by the recipe's temperature).
    public func studentSet(_ labels: PseudoLabels, iteration: Int) -> (filter: FilterResult, set: PseudoLabeledSet) {
        let pool = data.splits.unlabeled
        let filtered = PseudoLabelFilter.apply(labels, settings: recipe.filter, trueLabels: pool.heldOutTrueLabels,
                                               seed: RunFolder.filterSeed(runSeed: recipe.seed, iteration: iteration))
        return (filtered, recipe.studentSet(labels, filtered, pool: pool.images))
    }

    /// Refuses to train student `iteration` on no pseudo-labelled images (it would train on the
    /// labeled ones alone and be reported as a student).
    /// - Throws: `PipelineError.invalid` naming the threshold.
    public func requirePseudoLabels(_ set: PseudoLabeledSet, iteration: Int) throws {
        guard set.count > 0 else {
            throw PipelineError.invalid("iteration \(iteration): no pseudo label cleared the threshold \(recipe.filter.effectiveThreshold)")
        }
    }

    /// One first-iteration student trained on `labels` (a teacher's pseudo labels of the whole
    /// pool): filter, balance, train. The ablations (paper section 4) train one per recipe
    /// change from the same labels, so each differs from the run's first student in that change only.
    /// - Throws: `TrainingError` from training.
    public func firstStudent(from labels: PseudoLabels) throws -> TrainedModel {
        try trainModel(1, pseudoLabeled: studentSet(labels, iteration: 1).set)
    }

    /// Test (and validation) metrics of a trained model, with how long it trained.
    public func evaluate(_ name: String, _ trained: TrainedModel) -> ModelResult {
        let test = Evaluator.evaluate(trained.model, on: data.splits.test, normalization: data.normalization, classes: data.classes)
        let validation = data.splits.validation.count > 0
            ? Evaluator.evaluate(trained.model, on: data.splits.validation, normalization: data.normalization, classes: data.classes).top1 : nil
        return ModelResult(name: name, spec: trained.spec, test: test, validationTop1: validation,
                           trainingSeconds: trained.seconds, steps: trained.steps, history: trained.history,
                           parameters: trained.model.parameterCount)
    }

    /// The whole loop. `models` receives each trained model as it finishes (e.g. for robustness);
    /// `pseudoLabels` each iteration's teacher labels of the whole pool as they are predicted (or
    /// read back, on resume; iteration 1: the first teacher's, which the ablations train from).
    /// - Throws: what training, the run folder or either callback throws.
    public func run(models: ((String, TrainedModel) throws -> Void)? = nil,
                    pseudoLabels pseudoLabelsOut: ((Int, PseudoLabels) throws -> Void)? = nil) throws -> RunResult {
        let start = Date()
        try checkData()
        if let folder {
            try folder.create()
            if let url = output(\.dataset) { try RunFolder.writeJSON(data.choice, to: url) }
            if let url = output(\.recipe) {
                if resume { try folder.checkRecipe(recipe, hint: "use a new folder or drop --resume") }
                try RunFolder.writeJSON(recipe, to: url)
            }
        }
        var teacher = try trainModel(0, pseudoLabeled: nil)
        try models?("teacher", teacher)
        let teacherResult = evaluate("teacher", teacher)
        var students: [ModelResult] = [], stats: [PseudoLabelStatistics] = []
        let pool = data.splits.unlabeled
        for it in stride(from: 1, through: recipe.iterations, by: 1) {
            let t0 = Date()
            let labels = try pseudoLabels(iteration: it, teacher: teacher.model)
            try pseudoLabelsOut?(it, labels)
            let (filtered, set) = studentSet(labels, iteration: it)
            if let url = output({ $0.filterRecord(it) }) { try RunFolder.writeJSON(filtered, to: url) }
            let truth = pool.heldOutTrueLabels
            let known = truth.contains { $0 >= 0 }
            stats.append(PseudoLabelStatistics(
                iteration: it, mode: recipe.pseudoLabelMode, filter: filtered,
                confidences: (0..<labels.count).map { labels.prediction($0).confidence },
                correct: known ? (0..<labels.count).map { Int(truth[labels.indices[$0]]) == labels.prediction($0).label } : [],
                seconds: Date().timeIntervalSince(t0)))
            try requirePseudoLabels(set, iteration: it)
            let student = try trainModel(it, pseudoLabeled: set)
            try models?(RunFolder.modelName(it), student)
            students.append(evaluate(RunFolder.modelName(it), student))
            teacher = student  // the student becomes the teacher
        }
        let counts = ["labeled": data.splits.labeled.count, "unlabeled": pool.count,
                      "validation": data.splits.validation.count, "test": data.splits.test.count]
        let result = RunResult(recipe: recipe, dataset: data.choice.description, counts: counts, teacher: teacherResult,
                               students: students, pseudoLabels: stats, seconds: Date().timeIntervalSince(start))
        if let url = output(\.results) { try RunFolder.writeJSON(result, to: url) }
        return result
    }
}

/// What a finished model checkpoint records beside its weights, so that it can be used on new
/// images without the run that made it: class names, input normalisation and size.
public struct ModelCard: Sendable, Equatable {
    /// Class names in the order of the model's outputs.
    public var classNames: [String]
    /// Per-channel mean and standard deviation the model's inputs were normalised with.
    public var normalization: Normalization
    /// Input height and width in pixels (square images).
    public var inputSize: Int

    /// A card from its parts.
    public init(classNames: [String], normalization: Normalization, inputSize: Int) {
        self.classNames = classNames; self.normalization = normalization; self.inputSize = inputSize
    }

    /// The card as checkpoint metadata (keys `classes`, `normalization`, `inputSize`).
    public var metadata: [String: String] {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]  // identical runs write identical checkpoints
        return ["classes": classNames.joined(separator: "\u{1F}"),
                "normalization": String(decoding: (try? e.encode(normalization)) ?? Data(), as: UTF8.self),
                "inputSize": String(inputSize)]
    }

    /// Reads a card back from checkpoint metadata.
    /// - Throws: `PipelineError.corruptFile` naming `path` when a key is missing or unreadable.
    public init(metadata: [String: String], path: String) throws {
        guard let classes = metadata["classes"], let n = metadata["normalization"],
              let norm = try? JSONDecoder().decode(Normalization.self, from: Data(n.utf8)),
              let size = metadata["inputSize"].flatMap(Int.init) else {
            throw PipelineError.corruptFile(path, "the checkpoint does not record class names, normalisation and input size "
                                             + "(was it written by `noisy-student run`/`train-*`?)")
        }
        self.init(classNames: classes.split(separator: "\u{1F}", omittingEmptySubsequences: false).map(String.init),
                  normalization: norm, inputSize: size)
    }
}

/// Pseudo labels on disk: the checkpoint container (versioned, checksummed, atomic), holding
/// the pool indices and the probabilities.
public enum PseudoLabelFile {
    /// Writes labels atomically. `poolCount` (the size of the whole pool the rows index) is
    /// recorded so that `merge` can check shards cover the pool exactly once, and `source`
    /// (`ShardMerge.source`: which teacher labelled which pool) so that it refuses shards of
    /// different teachers or pools.
    public static func write(_ labels: PseudoLabels, to url: URL, poolCount: Int? = nil, source: String? = nil) throws {
        // Indices travel as Float32, exact below 2^24 (16.7 million images per pool).
        guard labels.indices.allSatisfy({ $0 < 1 << 24 }) else { throw PipelineError.invalid("pools above 16.7M images are not supported") }
        var meta = ["classes": String(labels.classes)]
        if let poolCount { meta["pool"] = String(poolCount) }
        if let source { meta["source"] = source }
        try Checkpoint(architecture: "pseudo-labels", metadata: meta, tensors: [
            ("indices", Tensor(shape: [labels.count], scalars: labels.indices.map(Float.init))),
            ("probabilities", Tensor(shape: [labels.count, labels.classes], scalars: labels.probabilities)),
        ]).write(to: url)
    }

    /// Reads and checks a label file (see `readWithPool`).
    public static func read(_ url: URL) throws -> PseudoLabels { try readWithPool(url).labels }

    /// Reads a label file that must hold one row for every image of `data`'s pool, in `data`'s
    /// classes (`ModelFit.check(_:path:against:wholePool:)`): what a filter, a student or a
    /// resumed run reads.
    /// - Throws: `PipelineError.corruptFile` naming the file, for a damaged file, labels of other
    ///   classes, a pool index outside the pool, or a shard rather than the whole pool.
    public static func read(_ url: URL, wholePoolOf data: PreparedData) throws -> PseudoLabels {
        let labels = try read(url)
        try ModelFit.check(labels, path: url.path, against: data, wholePool: true)
        return labels
    }

    /// Reads a label file, the pool size and the source it records (nil for files written
    /// before they were recorded, or without a source). Indices are checked to be whole numbers in 0..<2^24 before they become Ints,
    /// probabilities to be finite and in [0, 1], rows to be distinct and increasing.
    /// - Throws: `PipelineError.corruptFile` for a damaged file or bad values.
    public static func readWithPool(_ url: URL) throws -> (labels: PseudoLabels, poolCount: Int?, source: String?) {
        let c: Checkpoint
        do { c = try Checkpoint.read(from: url) } catch let e as CheckpointError {
            // Label files share the checkpoint container; the reader should hear what this file is for.
            throw PipelineError.corruptFile(url.path, "not a readable pseudo-label file (\(e.containerProblem))")
        }
        guard c.architecture == "pseudo-labels", let classes = c.metadata["classes"].flatMap(Int.init), classes >= 1,
              let idx = c.tensor(named: "indices"), idx.shape.count == 1, let p = c.tensor(named: "probabilities"),
              p.shape == [idx.count, classes] else {
            throw PipelineError.corruptFile(url.path, "not a pseudo-label file")
        }
        if let k = idx.scalars.firstIndex(where: { !($0 >= 0 && $0 < Float(1 << 24) && $0 == $0.rounded()) }) {
            throw PipelineError.corruptFile(url.path, "row \(k) has pool index \(idx.scalars[k]), not a whole number in 0..<16777216")
        }
        var pool: Int? = nil
        if let s = c.metadata["pool"] {
            guard let n = Int(s), n >= 0, n < 1 << 24 else { throw PipelineError.corruptFile(url.path, "pool size '\(s)'") }
            pool = n
        }
        let labels = try PseudoLabels(classes: classes, indices: idx.scalars.map { Int($0) }, probabilities: p.scalars)
            .validated(path: url.path)
        if let pool, let last = labels.indices.last, last >= pool {
            throw PipelineError.corruptFile(url.path, "pool index \(last) is outside its own pool of \(pool) images")
        }
        return (labels, pool, c.metadata["source"])
    }
}
