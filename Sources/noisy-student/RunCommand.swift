import ArgumentParser
import Datasets
import Engine
import Foundation
import NoisyStudent

/// Options every pipeline command shares: data, scale, seed, threads, run folder.
struct PipelineOptions: ParsableArguments {
    @Option(help: "Dataset: synthetic, svhn, fashion-mnist or folder:DIR (PNG folders; see README).") var dataset: String = "synthetic"
    @Option(help: "Folder datasets: fit images by resize (whole image) or crop (centre square).") var fit: ImageFit = .resize
    @Flag(help: "Folder datasets: skip PNG files that cannot be read (listed on standard error) instead of stopping.") var skipUnreadable = false
    @Option(help: "Folder with SVHN's train_32x32.mat, test_32x32.mat and extra_32x32.mat.") var svhn: String?
    @Option(help: "Folder with the Fashion-MNIST IDX files.") var fashionDir: String = FashionMNIST.defaultDirectory
    @Option(help: "Scale preset: tiny, default or paper.") var scale: String = "default"
    @Option(help: "A recipe JSON file (overrides --scale).") var recipe: String?
    @Option(parsing: .unconditional, help: "Seed (data split, initialisation, noise).") var seed: UInt64?
    @Option(help: "Labeled images per class (overrides the preset).") var labelsPerClass: Int?
    @Option(help: "Iterations (students) (overrides the preset).") var iterations: Int?
    @Option(parsing: .unconditional, help: "BLAS threads.") var threads: Int = 2
    @Option(help: "Under mpirun: batch-norm statistics over the global batch (synchronised: N ranks compute what 1 does) or each rank's rows (per-rank, as the official TPU code).")
    var batchNorm: BatchNormStatistics = .synchronised
    @Option(help: "Run folder: checkpoints, pseudo labels, results.") var run: String = "runs/latest"
    @Flag(help: "Continue an interrupted run from its run folder.") var resume = false
    @Option(help: "Folder datasets: refuse PNG files above this many pixels (decompression bombs).") var maxImagePixels: Int = PNGDecoder.defaultMaxPixels

    func makeRecipe() throws -> Recipe {
        var r: Recipe
        if let path = recipe {
            r = try Recipe.load(from: URL(fileURLWithPath: path))
        } else {
            do { r = Recipe.preset(try Recipe.Scale(parsing: scale)) } catch let e as PipelineError { throw ValidationError(e.description) }
        }
        if let seed { r.seed = seed }
        if let k = labelsPerClass { r.data.labeledPerClass = k }
        if let n = iterations {
            guard n >= 0 else { throw ValidationError("--iterations must be 0 or more") }
            let last = r.students.last ?? r.teacher
            r.students = Array((r.students + Array(repeating: last, count: max(0, n - r.students.count))).prefix(n))
        }
        do { try r.validate() } catch var e as RecipeError {
            e.file = recipe ?? "--scale \(scale) with the command line's overrides"
            throw e
        }
        return r
    }

    /// The recipe and its data, the recipe's models fitted to the data's classes and channels.
    /// `use`: how the command uses `--run` (checked before any data is decoded, with the recipe
    /// adapted to the data's classes and channels as it is saved).
    func load(use: RunFolderUse = .continuesRun) throws -> (Recipe, PreparedData) {
        if let problem = BLASRuntime.threadCountProblem(threads) { throw ValidationError("--threads \(problem)") }
        // A negative limit refused every image, but only after decoding it.
        guard maxImagePixels >= 1 else { throw ValidationError("--max-image-pixels must be 1 or more, got \(maxImagePixels)") }
        let recipe = try makeRecipe()
        if use == .startsRun && !resume { try checkRunFolder(recipe, use: use) }  // with --resume, Pipeline.run compares the recipes
        BLASRuntime.setThreads(threads)
        FileHandle.standardError.write(Data("noisy-student: \(BLASRuntime.description)\n".utf8))
        let choice = try DatasetChoice.parse(dataset, svhnDirectory: svhn, fashionDirectory: fashionDir, fit: fit, skipUnreadable: skipUnreadable)
        let data = try PreparedData.prepare(choice, settings: recipe.data, seed: recipe.seed, threads: threads,
                                              maxImagePixels: maxImagePixels) { done, total in
            FileHandle.standardError.write(Data("\rdecoding images \(done)/\(total)\(done == total ? "\n" : "")".utf8))
        }
        // A preset is written for any data; a recipe file states its models' classes and
        // channels, and replacing them silently would run a different recipe than the file says.
        if let path = self.recipe {
            let models = [("teacher", recipe.teacher)] + recipe.students.enumerated().map { ("students[\($0)]", $1) }
            for (key, spec) in models {
                if spec.classes != data.classes {
                    throw RecipeError(file: path, key: "\(key).classes", problem: "is \(spec.classes), but \(data.choice) has \(data.classes) classes")
                }
                if spec.inputChannels != data.channels {
                    throw RecipeError(file: path, key: "\(key).inputChannels",
                                      problem: "is \(spec.inputChannels), but \(data.choice) has \(data.channels)-channel images")
                }
            }
        }
        let adapted = recipe.adapted(classes: data.classes, inputChannels: data.channels)
        if use == .continuesRun { try checkRunFolder(adapted, use: use) }
        try Pipeline(recipe: adapted, data: data).checkData()
        return (adapted, data)
    }
}

/// How a command uses its run folder, for `PipelineOptions.checkRunFolder`.
enum RunFolderUse {
    /// `run`: writes every file of a run (without `--resume`, the folder must not hold one).
    case startsRun
    /// The phase commands: read (and add to) a run whose recipe is in `recipe.json`.
    case continuesRun
}

extension PipelineOptions {
    /// The `--run` folder.
    var runFolder: RunFolder { RunFolder(path: run) }

    /// Refuses, before any work, to mix two runs in one folder (`RunFolder.checkEmptyForNewRun`,
    /// `RunFolder.checkRecipe`), as a ValidationError that says which options to pass instead.
    func checkRunFolder(_ recipe: Recipe, use: RunFolderUse) throws {
        do {
            if use == .startsRun && !resume { return try runFolder.checkEmptyForNewRun() }
            try runFolder.checkRecipe(recipe, hint: "give the run's own --scale/--seed/--recipe options (for example --recipe \(runFolder.recipe.path)), or another --run folder")
        } catch let e as PipelineError {
            throw ValidationError(e.description)
        }
    }
}

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "The whole loop: teacher, pseudo labels, filtering, noisy students, iterations.")

    @OptionGroup var options: PipelineOptions

    func run() throws {
        try withDataParallelGroup { group, reports in
        let (recipe, data) = try options.load(use: .startsRun)
        if reports {
            print("\(data.choice): \(data.splits.labeled.count) labeled, \(data.splits.unlabeled.count) unlabeled, "
                  + "\(data.splits.validation.count) validation, \(data.splits.test.count) test; scale \(recipe.scale), seed \(recipe.seed)")
        }
        let pipeline = try options.pipeline(recipe: recipe, data: data, group: group)
        let result = try pipeline.run()
        guard reports else { return }
        for (i, s) in result.pseudoLabels.enumerated() {
            // A pool without true labels (a folder dataset) has no pseudo-label accuracy to show,
            // and the kept images may have none known even when the pool has some.
            let kept = s.filter.accuracyKept.map { String(format: "kept %.2f%%", $0) } ?? "none known among the kept"
            let accuracy = s.filter.accuracyAll.map { String(format: "accuracy %.2f%% (%@)", $0, kept) }
                ?? "accuracy unknown (the pool has no true labels)"
            print(String(format: "pseudo labels %d: %@ %@, kept %d of %d above %.2f",
                         i + 1, s.mode.rawValue, accuracy, s.filter.keptPerClass.reduce(0, +), s.confidences.count, s.filter.threshold))
        }
        for m in result.models {
            print(String(format: "%@ %@: %@, %@, %.0f s", m.name, "\(m.spec)", testSummary(m.test), validationSummary(m.validationTop1), m.trainingSeconds))
        }
        print(String(format: "total %.0f s; results in %@/results.json", result.seconds, options.run))
        }
    }
}

extension ImageFit: ExpressibleByArgument {}

/// "test top-1 N%", or "no test set" when the data has none (never a 0.00% from 0 images).
func testSummary(_ e: Evaluation) -> String {
    e.count == 0 ? "no test set" : String(format: "test top-1 %.2f%%", e.top1)
}

/// "validation 84.20%", or "no validation split" (a folder data set without val/) rather than nan.
func validationSummary(_ top1: Double?) -> String {
    top1.map { String(format: "validation %.2f%%", $0) } ?? "no validation split"
}
