import ArgumentParser
import Augment
import Datasets
import Engine
import Foundation
import NoisyStudent
import SystemSupport

// The loop's phases one at a time, as the official repository's scripts offer them: so that a
// cluster can run `predict --shard i/N` as N jobs, and a user can inspect each step's output.

struct TrainTeacher: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "train-teacher", abstract: "Train the teacher on the labeled images.")
    @OptionGroup var options: PipelineOptions

    func run() throws {
        try withDataParallelGroup { group, reports in
        let (recipe, data) = try options.load()
        let pipeline = try options.pipeline(recipe: recipe, data: data, group: group)
        try options.runFolder.create()
        // The later phases check their recipe against this one (they would otherwise mix runs);
        // `export-pseudo-labels` rebuilds the pool from the data set recorded beside it.
        if reports {
            try RunFolder.writeJSON(recipe, to: options.runFolder.recipe)
            try RunFolder.writeJSON(data.choice, to: options.runFolder.dataset)
        }
        let trained = try pipeline.trainModel(0, pseudoLabeled: nil)
        guard reports else { return }
        let result = pipeline.evaluate("teacher", trained)
        print("teacher \(trained.spec): \(testSummary(result.test)), \(validationSummary(result.validationTop1)); saved \(options.run)/teacher.ckpt")
        }
    }
}

struct Predict: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict", abstract: "Label the unlabeled pool with a teacher (clean images, eval mode), optionally one shard of it.")
    @OptionGroup var options: PipelineOptions
    @Option(help: "Which iteration's labels (1 = from the teacher, 2 = from student 1, ...).") var iteration: Int = 1
    @Option(help: "Shard i/N of the pool (0-based), e.g. 3/8.") var shard: String = "0/1"

    func run() throws {
        // Every part must be a number: "a/1/2" or "1//2" had their odd parts dropped.
        let parts = shard.split(separator: "/", omittingEmptySubsequences: false).map { Int($0) }
        guard parts.count == 2, let i = parts[0], let n = parts[1], n > 0, (0..<n).contains(i) else {
            throw ValidationError("--shard must be i/N with 0 <= i < N, got '\(shard)'")
        }
        guard iteration >= 1 else { throw ValidationError("--iteration must be 1 or more, got \(iteration)") }
        // load() checks the recipe against the run folder's (after decoding the data, so that
        // the recipe is adapted to its classes), and that is the first thing to hear about.
        let (_, data) = try options.load()
        let teacherFile = options.runFolder.model(iteration - 1)
        try RunFolder.require(teacherFile, "the model that labels iteration \(iteration); train it first")
        guard n <= data.splits.unlabeled.count else {
            throw ValidationError("--shard \(shard): \(n) shards of a pool of \(data.splits.unlabeled.count) images would leave some empty")
        }
        let teacher = try Pipeline.loadModel(teacherFile)
        try ModelFit.check(teacher, path: teacherFile.path, against: data)
        let labels = PseudoLabels.predict(teacher: teacher.model, pool: data.splits.unlabeled.images, normalization: data.normalization,
                                          classes: data.classes, shard: i, shards: n,
                                          progress: ConsoleProgress())
        let url = n == 1 ? options.runFolder.pseudoLabels(iteration)
            : options.runFolder.pseudoLabelShard(iteration, index: i, count: n)
        try PseudoLabelFile.write(labels, to: url, poolCount: data.splits.unlabeled.count,
                                  source: try ShardMerge.source(teacher: teacherFile, pool: data.splits.unlabeled.images))
        print("labelled \(labels.count) images (pool indices \(labels.indices.first ?? 0)..<\((labels.indices.last ?? -1) + 1)) -> \(options.run)/\(url.lastPathComponent)")
    }
}

struct Merge: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "merge", abstract: "Join the shards of `predict --shard` into one label file.")
    @Option(name: .customLong("run"), help: "Run folder.") var runPath: String = "runs/latest"
    @Option(help: "Iteration.") var iteration: Int = 1

    func run() throws {
        let folder = RunFolder(path: runPath)
        let (merged, pool, source) = try ShardMerge.merge(directory: folder.url, iteration: iteration)
        try PseudoLabelFile.write(merged, to: folder.pseudoLabels(iteration), poolCount: pool, source: source)
        print("merged the shards: \(merged.count) of \(pool) pool images -> \(runPath)/pseudo-\(iteration).labels")
    }
}

struct Filter: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "filter", abstract: "Filter pseudo labels by confidence and balance the classes.")
    @OptionGroup var options: PipelineOptions
    @Option(help: "Iteration.") var iteration: Int = 1

    func run() throws {
        let (recipe, data) = try options.load()
        let url = options.runFolder.pseudoLabels(iteration)
        try RunFolder.require(url, "run `predict` (and `merge`) first")
        let labels = try PseudoLabelFile.read(url, wholePoolOf: data)
        let result = PseudoLabelFilter.apply(labels, settings: recipe.filter, trueLabels: data.splits.unlabeled.heldOutTrueLabels,
                                             seed: RunFolder.filterSeed(runSeed: recipe.seed, iteration: iteration))
        try RunFolder.writeJSON(result, to: options.runFolder.filterRecord(iteration))
        print("threshold \(result.threshold): predicted per class \(result.predictedPerClass), kept \(result.keptPerClass), "
              + "after balancing \(result.finalPerClass)")
        print("rule: \(result.rule); per-class thresholds \(result.classThresholds)")
        if let a = result.accuracyAll, let k = result.accuracyKept {
            print(String(format: "pseudo-label accuracy %.2f%% overall, %.2f%% of the kept images", a, k))
        }
    }
}

struct TrainStudent: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "train-student", abstract: "Train a noisy student on labeled + filtered pseudo-labeled images.")
    @OptionGroup var options: PipelineOptions
    @Option(help: "Iteration (student number).") var iteration: Int = 1

    func run() throws {
        try withDataParallelGroup { group, reports in
        let (recipe, data) = try options.load()
        guard (1...max(1, recipe.iterations)).contains(iteration), iteration <= recipe.students.count else {
            throw ValidationError("the recipe has \(recipe.iterations) students; --iteration \(iteration) is out of range")
        }
        let labelsURL = options.runFolder.pseudoLabels(iteration), filterURL = options.runFolder.filterRecord(iteration)
        try RunFolder.require(labelsURL, "run `predict` first"); try RunFolder.require(filterURL, "run `filter` first")
        let labels = try PseudoLabelFile.read(labelsURL, wholePoolOf: data)
        let filtered = try FilterResult.load(from: filterURL, labels: labels)
        let set = recipe.studentSet(labels, filtered, pool: data.splits.unlabeled.images)
        let pipeline = try options.pipeline(recipe: recipe, data: data, group: group)
        try pipeline.requirePseudoLabels(set, iteration: iteration)
        let trained = try pipeline.trainModel(iteration, pseudoLabeled: set)
        guard reports else { return }
        let result = pipeline.evaluate(RunFolder.modelName(iteration), trained)
        print("student \(iteration) \(trained.spec): \(testSummary(result.test)), \(validationSummary(result.validationTop1))")
        }
    }
}

struct Evaluate: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "evaluate", abstract: "Test metrics of a checkpoint, as JSON.")
    @OptionGroup var options: PipelineOptions
    @Option(help: "Checkpoint to evaluate.") var checkpoint: String

    func run() throws {
        let (_, data) = try options.load()
        let trained = try Pipeline.loadModel(URL(fileURLWithPath: checkpoint))
        try ModelFit.check(trained, path: checkpoint, against: data)
        guard data.splits.test.count > 0 else { throw PipelineError.invalid("\(data.choice): no test set to evaluate on") }
        let e = Evaluator.evaluate(trained.model, on: data.splits.test, normalization: data.normalization, classes: data.classes)
        let enc = JSONEncoder(); enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        print(String(decoding: try enc.encode(e), as: UTF8.self))
    }
}

struct RobustnessCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "robustness", abstract: "Corruption accuracy (14 CIFAR-10-C corruptions, no frost; severities 1-5), mCE over those 14 against the first model, FGSM and PGD accuracy.")
    @OptionGroup var options: PipelineOptions
    @Option(help: "Test images to use (a prefix of the test set).") var count: Int = 1000
    @Argument(help: "Checkpoints; the first is the mCE baseline (default: the run folder's teacher and students).") var checkpoints: [String] = []

    func run() throws {
        let (recipe, data) = try options.load()
        let folder = options.runFolder
        let files = checkpoints.isEmpty
            ? (0...recipe.iterations).map { folder.model($0).path }.filter { FileManager.default.fileExists(atPath: $0) }
            : checkpoints
        guard !files.isEmpty else { throw PipelineError.missingFile(folder.url.path, "no checkpoints to evaluate") }
        guard count >= 1 else { throw ValidationError("--count must be 1 or more, got \(count)") }
        guard data.splits.test.count > 0 else { throw PipelineError.invalid("\(data.choice): no test set to measure robustness on") }
        // Every model is checked before the first one's (long) measurement starts.
        let models = try files.map { f -> TrainedModel in
            let trained = try Pipeline.loadModel(URL(fileURLWithPath: f))
            try ModelFit.check(trained, path: f, against: data)
            return trained
        }
        let test = data.splits.test.subset(Array(0..<min(count, data.splits.test.count)))
        var results: [RobustnessResult] = []
        for (f, trained) in zip(files, models) {
            let name = URL(fileURLWithPath: f).deletingPathExtension().lastPathComponent
            let r = Robustness.evaluate(name: name, model: trained.model, test: test, normalization: data.normalization,
                                        classes: data.classes, seed: recipe.seed, threads: options.threads, progress: ConsoleProgress())
            results.append(r)
            let mce = CorruptionErrors(model: r, baseline: results[0]).mCE
            print(String(format: "%@: clean %.2f%%, mCE (%d corruptions) %.1f, FGSM %@, PGD %@", name, r.clean, r.corruptions.count, mce,
                         r.fgsm.map { String(format: "%.1f", $0) }.joined(separator: "/"),
                         r.pgd.map { String(format: "%.1f", $0) }.joined(separator: "/")))
        }
        try RunFolder.writeJSON(results, to: folder.robustness)
    }
}

/// `noisy-student export-split --run DIR`: one seed's split as NumPy files, for the PyTorch
/// training-parity run (tools/torch_reference.py train reads them).
struct ExportSplit: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export-split",
        abstract: "Write the run's labeled, unlabeled, validation and test images (uint8 NHWC .npy) and labels (int32 .npy; the unlabeled pool's are held-out true labels), the normalisation and the recipe into RUN/split/.")
    @OptionGroup var options: PipelineOptions

    func run() throws {
        let (recipe, data) = try options.load()
        let dir = options.runFolder.split
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let sets: [(String, ImageSet, [Int32])] = [
            ("labeled", data.splits.labeled, data.splits.labeled.labels),
            ("unlabeled", data.splits.unlabeled.images, data.splits.unlabeled.heldOutTrueLabels),
            ("validation", data.splits.validation, data.splits.validation.labels),
            ("test", data.splits.test, data.splits.test.labels),
        ]
        for (name, set, labels) in sets {
            try AtomicFile.write(NPYFile.encode(set.pixels, shape: [set.count, set.height, set.width, set.channels]),
                                 to: dir.appendingPathComponent("\(name)-images.npy"))
            try AtomicFile.write(NPYFile.encode(labels, shape: [labels.count]), to: dir.appendingPathComponent("\(name)-labels.npy"))
        }
        try RunFolder.writeJSON(data.normalization, to: dir.appendingPathComponent("normalization.json"))
        try RunFolder.writeJSON(recipe, to: dir.appendingPathComponent("recipe.json"))
        print("\(data.choice), seed \(recipe.seed): " + sets.map { "\($0.1.count) \($0.0)" }.joined(separator: ", ") + " -> \(dir.path)")
    }
}
