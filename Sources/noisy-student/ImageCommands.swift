import ArgumentParser
import Datasets
import Engine
import Foundation
import NoisyStudent
import SystemSupport

/// RFC 4180 field: quoted when it holds a comma, quote or line break.
private func csvField(_ s: String) -> String {
    s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" })
        ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
}

private func csvLine(_ fields: [String]) -> String { fields.map(csvField).joined(separator: ",") + "\n" }

/// Writes lines to a file (atomically, when done) or to standard output.
private struct CSVOutput {
    let path: String?
    var text = ""
    mutating func append(_ fields: [String]) {
        text += csvLine(fields)
        if path == nil && text.utf8.count > 1 << 16 { flush() }
    }
    mutating func flush() {
        guard path == nil else { return }
        FileHandle.standardOutput.write(Data(text.utf8)); text = ""
    }
    mutating func finish() throws {
        if let path { try AtomicFile.write(Data(text.utf8), to: URL(fileURLWithPath: path)) } else { flush() }
    }
}

struct Classify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Classify PNG images with a trained model; CSV with the predicted class, confidence and top-k classes.")

    @Option(help: "A model checkpoint written by run/train-teacher/train-student.") var checkpoint: String
    @Option(help: "A folder of PNG files (searched recursively).") var images: String
    @Option(help: "How many classes to list per image.") var top: Int = 5
    @Option(help: "Write the CSV here instead of standard output.") var out: String?
    @Option(help: "Fit images by resize (whole image) or crop (centre square).") var fit: ImageFit = .resize
    @Flag(help: "Skip PNG files that cannot be read (and list them on standard error).") var skipUnreadable = false
    @Option(parsing: .unconditional, help: "Threads.") var threads: Int = 2
    @Option(help: "Refuse PNG files above this many pixels (decompression bombs).") var maxImagePixels: Int = PNGDecoder.defaultMaxPixels

    func run() throws {
        if let problem = BLASRuntime.threadCountProblem(threads) { throw ValidationError("--threads \(problem)") }
        guard maxImagePixels >= 1 else { throw ValidationError("--max-image-pixels must be 1 or more, got \(maxImagePixels)") }
        BLASRuntime.setThreads(threads)
        let trained = try Pipeline.loadModel(URL(fileURLWithPath: checkpoint))
        let card = try ModelCard(metadata: trained.metadata, path: checkpoint)
        guard top >= 1 else { throw ValidationError("--top must be 1 or more, got \(top)") }
        // PNGs become RGB (or grey, below) at the size the checkpoint records.
        try ModelFit.check(spec: trained.spec, card: card, path: checkpoint, classes: card.classNames,
                           channels: trained.spec.inputChannels == 1 ? 1 : 3, height: card.inputSize, width: card.inputSize,
                           dataName: "the PNG images of \(images)")
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: images, isDirectory: &isDir), isDir.boolValue else {
            throw ValidationError("\(images): not a folder")
        }
        let paths = try ImageFolder.pngFiles(URL(fileURLWithPath: images), recursive: true)
        guard !paths.isEmpty else { throw ValidationError("\(images): no .png files") }
        let options = ImageFolder.Options(size: card.inputSize, fit: fit, skipUnreadable: skipUnreadable, threads: threads, maxPixels: maxImagePixels)
        let decoded = try ImageFolder.decodeAll(paths, options: options) { done, total in
            FileHandle.standardError.write(Data("\rdecoding \(done)/\(total)\(done == total ? "\n" : "")".utf8))
        }
        var set = ImageSet(height: card.inputSize, width: card.inputSize, channels: 3)
        var kept: [String] = []
        for (p, r) in zip(paths, decoded) {
            switch r {
            case .success(let px): set.append(image: px, label: -1); kept.append(p)
            case .failure(let e): FileHandle.standardError.write(Data("skipped \(e)\n".utf8))
            }
        }
        if kept.count < paths.count { FileHandle.standardError.write(Data("skipped \(paths.count - kept.count) unreadable files\n".utf8)) }
        if trained.spec.inputChannels == 1 { set = luminance(set) }
        let classes = card.classNames.count
        let probs = Evaluator.probabilities(trained.model, images: set, normalization: card.normalization, classes: classes)
        let k = max(1, min(top, classes))
        var csv = CSVOutput(path: out)
        csv.append(["path", "predicted", "confidence"] + (1...k).flatMap { ["class_\($0)", "probability_\($0)"] })
        for (i, path) in kept.enumerated() {
            let row = Array(probs[(i * classes)..<((i + 1) * classes)])
            let order = row.indices.sorted { row[$0] != row[$1] ? row[$0] > row[$1] : $0 < $1 }
            csv.append([path, card.classNames[order[0]], String(format: "%.6f", row[order[0]])]
                       + order.prefix(k).flatMap { [card.classNames[$0], String(format: "%.6f", row[$0])] })
        }
        try csv.finish()
        if let out { FileHandle.standardError.write(Data("wrote \(kept.count) rows to \(out)\n".utf8)) }
    }
}

struct ExportPseudoLabels: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export-pseudo-labels",
        abstract: "One CSV row per unlabeled image: the teacher's class and confidence, whether filtering kept it, "
            + "how often balancing used it, and whether it is right (where true labels are known).")

    @Option(name: .customLong("run"), help: "Run folder.") var runPath: String = "runs/latest"
    @Option(help: "Which iteration's pseudo labels.") var iteration: Int = 1
    @Option(help: "Output CSV file.") var out: String
    @Flag(help: "Include the full soft label (one probability column per class).") var soft = false
    @Option(parsing: .unconditional, help: "Threads.") var threads: Int = 2

    func run() throws {
        if let problem = BLASRuntime.threadCountProblem(threads) { throw ValidationError("--threads \(problem)") }
        let folder = RunFolder(path: runPath)
        let recipe = try Recipe.load(from: folder.recipe)
        let choice = try RunFolder.readJSON(DatasetChoice.self, from: folder.dataset,
                                            writtenBy: "written by `noisy-student run` (or the phase commands)")
        let labelsURL = folder.pseudoLabels(iteration)
        let labels = try PseudoLabelFile.read(labelsURL)
        let filter = try FilterResult.load(from: folder.filterRecord(iteration), labels: labels)
        let data = try PreparedData.prepare(choice, settings: recipe.data, seed: recipe.seed, threads: threads)
        try ModelFit.check(labels, path: labelsURL.path, against: data, wholePool: false)
        let truth = data.splits.unlabeled.heldOutTrueLabels
        let copies = filter.copies(rowCount: labels.count)
        let names = data.classNames
        var csv = CSVOutput(path: out)
        let knowsTruth = truth.contains { $0 >= 0 }
        csv.append(["id", "teacher_class", "confidence", "kept", "copies"] + (knowsTruth ? ["true_class", "correct"] : [])
                   + (soft ? names.map { "p_\($0)" } : []))
        for k in 0..<labels.count {
            let (c, conf) = labels.prediction(k)
            let index = labels.indices[k]
            let id = data.unlabeledNames?[index] ?? String(index)
            var row = [id, names[c], String(format: "%.6f", conf), conf >= filter.threshold ? "1" : "0", String(copies[k])]
            if knowsTruth {
                let t = index < truth.count ? Int(truth[index]) : -1
                row += t >= 0 ? [names[t], t == c ? "1" : "0"] : ["", ""]
            }
            if soft { row += labels.row(k).map { String(format: "%.6f", $0) } }
            csv.append(row)
        }
        try csv.finish()
        print("wrote \(labels.count) rows to \(out) (\(copies.filter { $0 > 0 }.count) used for training)")
    }
}

/// RGB to one channel (ITU-R BT.601 luma), for models trained on greyscale data.
private func luminance(_ set: ImageSet) -> ImageSet {
    var grey = [UInt8](repeating: 0, count: set.count * set.height * set.width)
    for i in 0..<grey.count {
        let r = Float(set.pixels[3 * i]), g = Float(set.pixels[3 * i + 1]), b = Float(set.pixels[3 * i + 2])
        grey[i] = UInt8(min(255, (0.299 * r + 0.587 * g + 0.114 * b).rounded()))
    }
    return ImageSet(height: set.height, width: set.width, channels: 1, pixels: grey, labels: set.labels)
}
