import Engine
import Foundation
import SystemSupport

/// One run's folder and everything about its files: their names, the seeds each phase derives
/// from the recipe's, how JSON records are encoded and how a finished model is written (with
/// its `ModelCard`). `Pipeline`, the phase commands, `supervised`, `classify`,
/// `export-pseudo-labels` and the report's chapters all go through it, so a file written by one
/// is found and read by the others.
///
/// Layout (iteration `it` = 1, 2, ...; model `i` = 0 for the teacher, `i` for student `i`):
/// `recipe.json`, `dataset.json`, `teacher.ckpt`, `studentI.ckpt` (and `NAME.training.ckpt`
/// while one trains), `pseudo-IT.labels` (shards `pseudo-IT.shard-S-of-N.labels`),
/// `filter-IT.json`, `results.json`, `robustness.json`, `split/`.
public struct RunFolder: Sendable, Equatable {
    /// The folder.
    public var url: URL

    /// - Parameter url: the run folder (need not exist yet; `create()` makes it).
    public init(_ url: URL) { self.url = url }

    /// - Parameter path: the run folder's path, as given on a command line.
    public init(path: String) { self.url = URL(fileURLWithPath: path) }

    /// Makes the folder (and its parents) if missing.
    /// - Throws: the file system's error when it cannot be made.
    public func create() throws { try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true) }

    /// `url/name`.
    public func file(_ name: String) -> URL { url.appendingPathComponent(name) }

    // MARK: File names

    /// The n-th model's name: teacher (0), student1, student2, ...
    public static func modelName(_ i: Int) -> String { i == 0 ? "teacher" : "student\(i)" }

    /// The recipe the run was made with (the phase commands refuse a different one).
    public var recipe: URL { file("recipe.json") }
    /// The dataset choice (`DatasetChoice`), so that exports can rebuild the same split.
    public var dataset: URL { file("dataset.json") }
    /// The whole run's `RunResult`.
    public var results: URL { file("results.json") }
    /// `robustness`'s results.
    public var robustness: URL { file("robustness.json") }
    /// `export-split`'s NumPy files.
    public var split: URL { file("split") }
    /// Model `i`'s finished checkpoint (weights + model card), `teacher.ckpt` or `studentI.ckpt`.
    public func model(_ i: Int) -> URL { file("\(Self.modelName(i)).ckpt") }
    /// Model `i`'s resumable training state (weights, optimizer, EMA), removed when it finishes.
    public func trainingState(_ i: Int) -> URL { file("\(Self.modelName(i)).training.ckpt") }
    /// The pseudo labels that student `iteration` learns from (made by model `iteration - 1`).
    public func pseudoLabels(_ iteration: Int) -> URL { file("pseudo-\(iteration).labels") }
    /// Shard `index` of `count` of iteration `iteration`'s pseudo labels (`predict --shard`).
    public func pseudoLabelShard(_ iteration: Int, index: Int, count: Int) -> URL {
        file("pseudo-\(iteration).shard-\(index)-of-\(count).labels")
    }
    /// The filter record (`FilterResult`) of iteration `iteration`.
    public func filterRecord(_ iteration: Int) -> URL { file("filter-\(iteration).json") }

    /// Names of the files that show the folder holds (part of) a run, sorted.
    public func runFiles() -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []
        return names.filter { $0 == "recipe.json" || $0.hasSuffix(".ckpt") || $0.hasSuffix(".labels") || $0.hasPrefix("filter-") }.sorted()
    }

    // MARK: Seeds (one place for every rule that derives a phase's seed from the run's)

    /// The training seed of model `i` (0 = teacher): initialisation, batch order, noise.
    public static func trainingSeed(runSeed: UInt64, model i: Int) -> UInt64 { runSeed &+ UInt64(i) &* 1_000_003 }

    /// The seed of iteration `iteration`'s filtering and balancing (`filter_unlabel.py`'s
    /// sampling of over-full and duplication of under-full classes).
    public static func filterSeed(runSeed: UInt64, iteration: Int) -> UInt64 { runSeed &+ UInt64(iteration) }

    // MARK: Records

    /// The encoding of every JSON record of a run: pretty-printed with sorted keys, so that
    /// identical runs write identical files.
    /// - Throws: the encoder's error.
    public static func json<T: Encodable>(_ value: T) throws -> Data {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try e.encode(value)
    }

    /// Writes `value` as JSON (`json(_:)`) to `url`, atomically.
    /// - Throws: the encoder's or the file system's error.
    public static func writeJSON<T: Encodable>(_ value: T, to url: URL) throws {
        try AtomicFile.write(try json(value), to: url)
    }

    /// Reads a JSON record of the run.
    /// - Throws: `PipelineError.missingFile` (with `writtenBy`, what makes the file) or
    ///   `.corruptFile` naming the file.
    public static func readJSON<T: Decodable>(_ type: T.Type, from url: URL, writtenBy: String) throws -> T {
        guard let data = FileManager.default.contents(atPath: url.path) else { throw PipelineError.missingFile(url.path, writtenBy) }
        do { return try JSONDecoder().decode(T.self, from: data) } catch {
            throw PipelineError.corruptFile(url.path, "unreadable: \(error)")
        }
    }

    /// Writes a finished model: its weights, its architecture and the model card that
    /// `classify`, `evaluate` and the fit checks need, plus `extra` metadata (name, history).
    /// Atomic (the checkpoint writer's temp file + rename).
    /// - Throws: the encoder's or the file system's error.
    public static func writeModel(_ model: any Layer, spec: ModelSpec, card: ModelCard, extra: [String: String] = [:],
                                  to url: URL) throws {
        let meta = card.metadata.merging(extra) { _, new in new }
        try Checkpoint(architecture: try spec.json(), metadata: meta, tensors: model.checkpointTensors()).write(to: url)
    }

    /// Throws `PipelineError.missingFile(url, what)` when `url` does not exist.
    public static func require(_ url: URL, _ what: String) throws {
        guard FileManager.default.fileExists(atPath: url.path) else { throw PipelineError.missingFile(url.path, what) }
    }

    // MARK: One run per folder

    /// Refuses a fresh run into a folder that already holds one.
    /// - Throws: `PipelineError.invalid` listing the run's files and what to pass instead.
    public func checkEmptyForNewRun() throws {
        let files = runFiles()
        guard files.isEmpty else {
            throw PipelineError.invalid("\(url.relativePath) already holds a run (\(files.prefix(4).joined(separator: ", "))\(files.count > 4 ? ", ..." : "")): "
                                        + "pass --resume to continue it, or give a new or empty --run folder")
        }
    }

    /// The recipe saved in the folder (nil when there is none yet).
    /// - Throws: `RecipeError` for an unreadable `recipe.json`.
    public func savedRecipe() throws -> Recipe? {
        FileManager.default.fileExists(atPath: recipe.path) ? try Recipe.load(from: recipe) : nil
    }

    /// Refuses a recipe other than the one the folder's run was made with (its pseudo labels,
    /// filter records and checkpoints belong to that recipe); no `recipe.json` yet is fine.
    /// - Parameter hint: what the user should do instead, appended to the message.
    /// - Throws: `PipelineError.invalid` naming `recipe.json` and the differing recipe keys;
    ///   `RecipeError` for an unreadable `recipe.json`.
    public func checkRecipe(_ candidate: Recipe, hint: String) throws {
        guard let saved = try savedRecipe(), saved != candidate else { return }
        let keys = Self.differingKeys(saved, candidate)
        throw PipelineError.invalid("\(recipe.path) holds another recipe than this one (differs in \(keys.prefix(6).joined(separator: ", "))): \(hint)")
    }

    /// Dotted paths of the JSON keys whose values differ between two recipes (sorted).
    public static func differingKeys(_ a: Recipe, _ b: Recipe) -> [String] {
        func object(_ r: Recipe) -> Any? {
            guard let data = try? JSONEncoder().encode(r) else { return nil }
            return try? JSONSerialization.jsonObject(with: data)
        }
        var out: [String] = []
        func walk(_ x: Any?, _ y: Any?, _ path: String) {
            if let dx = x as? [String: Any], let dy = y as? [String: Any] {
                for k in Set(dx.keys).union(dy.keys).sorted() { walk(dx[k], dy[k], path.isEmpty ? k : "\(path).\(k)") }
            } else if let ax = x as? [Any], let ay = y as? [Any], ax.count == ay.count {
                for (i, (p, q)) in zip(ax, ay).enumerated() { walk(p, q, "\(path)[\(i)]") }
            } else if "\(x ?? "none")" != "\(y ?? "none")" {
                out.append(path)
            }
        }
        walk(object(a), object(b), "")
        return out.isEmpty ? ["its encoding"] : out
    }
}
