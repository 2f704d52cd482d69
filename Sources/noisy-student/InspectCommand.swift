import ArgumentParser
import Datasets
import Engine
import Foundation
import NoisyStudent

/// `noisy-student inspect FILE`: reads one file with the loader the pipeline uses and prints
/// what it holds, or the one-line error a command would stop with. What the fuzz test runs on
/// mutated files (exit 0 or 1, never a signal).
struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Read one file (.mat, PNG, IDX, checkpoint, pseudo labels, recipe or filter JSON) as the pipeline would; print a summary or what is wrong.")

    enum Kind: String, ExpressibleByArgument, CaseIterable { case mat, png, idx, checkpoint, labels, recipe, filter }

    @Argument(help: "The file.") var file: String
    @Option(name: .customLong("as"), help: "Read it as: mat, png, idx, checkpoint, labels, recipe or filter (default: from the name).")
    var kind: Kind?
    @Option(help: "For --as filter: the pseudo-label file the filter record belongs to.") var labels: String?

    func run() throws {
        let url = URL(fileURLWithPath: file)
        switch try kind ?? Self.guess(file) {
        case .mat:
            let set = try SVHN.load(path: file)
            print("SVHN .mat: \(set.count) images \(set.height)x\(set.width)x\(set.channels), labels per digit \(set.labelCounts(classes: 10))")
        case .png:
            let img = try PNGDecoder.decodeRGB(path: file)
            print("PNG: \(img.width)x\(img.height)")
        case .idx:
            let a = try IDX.read(path: file)
            print("IDX: dimensions \(a.dims)")
        case .checkpoint:
            let trained = try Pipeline.loadModel(url)
            let card = try? ModelCard(metadata: trained.metadata, path: file)
            print("model \(trained.spec), \(trained.model.parameterCount) parameters"
                  + (card.map { ", classes \($0.classNames.joined(separator: ", ")), input \($0.inputSize)x\($0.inputSize)" } ?? ""))
        case .labels:
            let (l, pool, _) = try PseudoLabelFile.readWithPool(url)
            print("pseudo labels: \(l.count) rows, \(l.classes) classes" + (pool.map { ", pool of \($0)" } ?? ""))
        case .recipe:
            let r = try Recipe.load(from: url)
            print("recipe: scale \(r.scale), \(r.iterations) student(s), seed \(r.seed)")
        case .filter:
            guard let labels else { throw ValidationError("--as filter needs --labels (the pseudo labels it filtered)") }
            let f = try FilterResult.load(from: url, labels: try PseudoLabelFile.read(URL(fileURLWithPath: labels)))
            print("filter: \(f.rows.count) rows, threshold \(f.threshold)")
        }
    }

    /// The kind a file's name suggests (extension, or "recipe"/"filter" in a JSON name); throws
    /// `ValidationError` asking for --as when the name says nothing.
    static func guess(_ path: String) throws -> Kind {
        let name = URL(fileURLWithPath: path).lastPathComponent.lowercased()
        if name.hasSuffix(".mat") { return .mat }
        if name.hasSuffix(".png") { return .png }
        if name.hasSuffix(".ckpt") { return .checkpoint }
        if name.hasSuffix(".labels") { return .labels }
        if name.hasSuffix(".gz") || name.hasSuffix(".idx") || name.contains("-ubyte") { return .idx }
        if name.hasSuffix(".json") && name.contains("recipe") { return .recipe }
        if name.hasSuffix(".json") && name.hasPrefix("filter") { return .filter }
        throw ValidationError("\(path): cannot tell the kind of file from its name; give --as")
    }
}
