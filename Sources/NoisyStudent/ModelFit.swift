import Datasets
import Engine
import Foundation

/// Whether a model and a dataset fit each other. A model applied to data it was not made for
/// (other classes, channels or image size) still produces numbers, so every path that puts a
/// checkpoint next to a dataset checks this first and refuses a mismatch, naming both.
public enum ModelFit {
    /// Checks `trained` (loaded from `path`) against `data`: class count and names, input
    /// channels, and the input size the checkpoint records.
    /// - Throws: `PipelineError.invalid` naming the checkpoint, the data and what differs.
    public static func check(_ trained: TrainedModel, path: String, against data: PreparedData) throws {
        let card = try? ModelCard(metadata: trained.metadata, path: path)
        try check(spec: trained.spec, card: card, path: path, classes: data.classNames, channels: data.channels,
                  height: data.splits.labeled.height, width: data.splits.labeled.width, dataName: data.choice.description)
    }

    /// The same check against data described by its parts (class names, channels, image size).
    public static func check(spec: ModelSpec, card: ModelCard?, path: String, classes: [String], channels: Int,
                             height: Int, width: Int, dataName: String) throws {
        func refuse(_ what: String) -> PipelineError {
            .invalid("\(path) does not fit \(dataName): \(what). Use the checkpoint with the data it was trained on.")
        }
        if spec.classes != classes.count {
            let named = card.map { ": \(list($0.classNames))" } ?? ""
            throw refuse("the model has \(spec.classes) classes\(named), the data \(classes.count): \(list(classes))")
        }
        if let card, card.classNames != classes {
            throw refuse("the model's classes are \(list(card.classNames)), the data's \(list(classes))")
        }
        if spec.inputChannels != channels {
            throw refuse("the model takes \(spec.inputChannels)-channel images, the data has \(channels)-channel images")
        }
        if let card, card.inputSize != height || card.inputSize != width {
            throw refuse("the model takes \(card.inputSize)x\(card.inputSize) images, the data has \(height)x\(width)")
        }
    }

    /// Checks that pseudo labels read from `path` belong to `data`'s pool and classes.
    /// - Throws: `PipelineError.corruptFile` naming the file.
    public static func check(_ labels: PseudoLabels, path: String, against data: PreparedData, wholePool: Bool) throws {
        let pool = data.splits.unlabeled.count
        guard labels.classes == data.classes else {
            throw PipelineError.corruptFile(path, "holds \(labels.classes)-class labels, the data \(data.choice) has \(data.classes) classes")
        }
        if let bad = labels.indices.first(where: { $0 < 0 || $0 >= pool }) {
            throw PipelineError.corruptFile(path, "pool index \(bad) is outside the pool of \(pool) images of \(data.choice)")
        }
        if wholePool, labels.count != pool {
            throw PipelineError.corruptFile(path, "labels \(labels.count) of the pool's \(pool) images; merge every shard first")
        }
    }

    /// Checks that a data set's splits hold images of one shape (a model sees them all).
    /// - Throws: `PipelineError.invalid` naming the splits.
    public static func checkShapes(_ splits: DataSplits, dataName: String) throws {
        let reference = splits.labeled
        func shape(_ s: ImageSet) -> String { "\(s.height)x\(s.width)x\(s.channels)" }
        for (name, set) in [("unlabeled", splits.unlabeled.images), ("validation", splits.validation), ("test", splits.test)]
        where set.count > 0 && (set.height, set.width, set.channels) != (reference.height, reference.width, reference.channels) {
            throw PipelineError.invalid("\(dataName): the \(name) images are \(shape(set)), the labeled images \(shape(reference)) "
                                        + "(height x width x channels); every split must have one shape")
        }
    }

    private static func list(_ names: [String]) -> String {
        names.count <= 12 ? names.joined(separator: ", ") : names.prefix(12).joined(separator: ", ") + ", ... (\(names.count))"
    }
}

extension PseudoLabels {
    /// Checks values read from a file before anything indexes with them: at least two
    /// classes, finite non-negative probabilities, distinct pool indices in increasing order.
    /// - Throws: `PipelineError.corruptFile` naming `path`.
    func validated(path: String) throws -> PseudoLabels {
        guard classes >= 1 else { throw PipelineError.corruptFile(path, "\(classes) classes") }
        if let k = probabilities.firstIndex(where: { !$0.isFinite || $0 < 0 || $0 > 1.0001 }) {
            throw PipelineError.corruptFile(path, "probability \(probabilities[k]) in row \(k / classes) is not in [0, 1]")
        }
        for k in indices.indices.dropFirst() where indices[k] <= indices[k - 1] {
            throw PipelineError.corruptFile(path, "pool index \(indices[k]) in row \(k) does not follow \(indices[k - 1]) "
                                            + "(rows must be distinct pool indices in increasing order)")
        }
        return self
    }
}

extension FilterResult {
    /// Reads a `filter-N.json` and checks it against the pseudo labels it filtered, so that no
    /// row points outside them.
    /// - Throws: `PipelineError` naming the file.
    public static func load(from url: URL, labels: PseudoLabels) throws -> FilterResult {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw PipelineError.missingFile(url.path, "run `filter` first")
        }
        let result: FilterResult
        do { result = try JSONDecoder().decode(FilterResult.self, from: data) } catch let e as DecodingError {
            throw PipelineError.corruptFile(url.path, "not a filter result: \(e.keyPath.isEmpty ? "" : e.keyPath + ": ")\(e.problem)")
        } catch {
            throw PipelineError.corruptFile(url.path, "not a filter result: \(error)")
        }
        // A key we do not write (a hand edit, a misspelling) would otherwise be ignored silently.
        if let given = try? JSONSerialization.jsonObject(with: data),
           let known = try? JSONSerialization.jsonObject(with: JSONEncoder().encode(result)),
           let unknown = Recipe.unknownKeys(given, known, path: "").first {
            throw PipelineError.corruptFile(url.path, "unknown key \(unknown) (not a filter result written by this version?)")
        }
        if let bad = result.rows.first(where: { $0 < 0 || $0 >= labels.count }) {
            throw PipelineError.corruptFile(url.path, "row \(bad) is outside the \(labels.count) pseudo labels it filters "
                                            + "(was the file made from other pseudo labels?)")
        }
        for (key, counts) in [("predictedPerClass", result.predictedPerClass), ("keptPerClass", result.keptPerClass),
                              ("finalPerClass", result.finalPerClass)] where counts.count != labels.classes {
            throw PipelineError.corruptFile(url.path, "\(key) has \(counts.count) entries, the pseudo labels \(labels.classes) classes")
        }
        guard result.threshold.isFinite else { throw PipelineError.corruptFile(url.path, "threshold \(result.threshold)") }
        return result
    }
}

extension Pipeline {
    /// Checks the recipe and the data against each other before any work: valid recipe values,
    /// one image shape across splits, two classes or more, labeled images, an unlabeled pool
    /// when there are students, and models made for the data's classes and channels.
    /// - Throws: `RecipeError` or `PipelineError.invalid`.
    public func checkData() throws {
        try recipe.validate()
        let name = data.choice.description
        try ModelFit.checkShapes(data.splits, dataName: name)
        guard data.classes >= 2 else { throw PipelineError.invalid("\(name): \(data.classes) class; a classifier needs two or more") }
        guard data.splits.labeled.count > 0 else {
            throw PipelineError.invalid("\(name): no labeled images (data.labeledPerClass is \(recipe.data.labeledPerClass))")
        }
        if recipe.iterations > 0, data.splits.unlabeled.count == 0 {
            throw PipelineError.invalid("\(name): no unlabeled images, and the recipe trains \(recipe.iterations) student(s) on them")
        }
        for (i, spec) in ([recipe.teacher] + recipe.students).enumerated()
        where spec.classes != data.classes || spec.inputChannels != data.channels {
            throw PipelineError.invalid("the recipe's \(RunFolder.modelName(i)) is made for \(spec.classes) classes of \(spec.inputChannels)-channel "
                                        + "images, \(name) has \(data.classes) classes of \(data.channels)-channel images")
        }
    }
}
