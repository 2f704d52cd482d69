import Augment
import Datasets
import Foundation
import Randomness

/// Which images a run uses.
public enum DatasetChoice: Codable, Hashable, Sendable, CustomStringConvertible {
    /// The embedded SVHN-like generator (synthetic house numbers).
    case synthetic
    /// Real SVHN: a folder with train_32x32.mat, test_32x32.mat and (optionally) extra_32x32.mat.
    case svhn(directory: String)
    /// Fashion-MNIST IDX files (Debian's dataset-fashion-mnist).
    case fashionMNIST(directory: String)
    /// Folders of PNG files: DIR/labeled/<class>/, DIR/unlabeled/, optional DIR/test/ and DIR/val/.
    case folder(directory: String, fit: ImageFit, skipUnreadable: Bool = false)

    /// A short name for logs and the report (the folder path for SVHN and image folders).
    public var description: String {
        switch self {
        case .synthetic: return "synthetic house numbers"
        case .svhn(let d): return "SVHN (\(d))"
        case .fashionMNIST: return "Fashion-MNIST"
        case .folder(let d, _, _): return "image folder \(d)"
        }
    }

    /// Parses the CLI's `--dataset` value.
    public static func parse(_ name: String, svhnDirectory: String?, fashionDirectory: String = FashionMNIST.defaultDirectory,
                             fit: ImageFit = .resize, skipUnreadable: Bool = false) throws -> DatasetChoice {
        if name.hasPrefix("folder:") {
            return .folder(directory: String(name.dropFirst("folder:".count)), fit: fit, skipUnreadable: skipUnreadable)
        }
        switch name {
        case "synthetic": return .synthetic
        case "svhn":
            guard let d = svhnDirectory else { throw PipelineError.invalid("--dataset svhn needs --svhn DIR (the folder with the .mat files)") }
            return .svhn(directory: d)
        case "fashion-mnist": return .fashionMNIST(directory: fashionDirectory)
        default: throw PipelineError.invalid("unknown dataset '\(name)' (synthetic, svhn, fashion-mnist, folder:DIR)")
        }
    }
}

/// Splits ready for training, with what the pipeline needs to know about them.
public struct PreparedData: Sendable {
    /// The dataset these splits came from.
    public var choice: DatasetChoice
    /// Labeled, unlabeled, validation and test images (NHWC, UInt8 pixels).
    public var splits: DataSplits
    /// Per-channel mean and standard deviation of the labeled split only (the unlabeled, validation
    /// and test images do not leak into it).
    public var normalization: Normalization
    /// Number of classes: 10 for the built-in datasets, the folder count of `DIR/labeled/` otherwise.
    public var classes: Int
    /// One name per class, by label index ("0"..."9" for digits, Fashion-MNIST's names, folder names).
    public var classNames: [String]
    /// Where each unlabeled image came from, for exports (folder datasets: relative paths).
    public var unlabeledNames: [String]? = nil

    /// Channels of every image (C of NHWC): 3 for RGB, 1 for Fashion-MNIST.
    public var channels: Int { splits.labeled.channels }

    /// Loads or generates the data a recipe asks for. `maxImagePixels` bounds the PNG files
    /// of folder datasets (larger ones are refused before decoding).
    public static func prepare(_ choice: DatasetChoice, settings: DataSettings, seed: UInt64, threads: Int = 2,
                               maxImagePixels: Int = PNGDecoder.defaultMaxPixels,
                               progress: (@Sendable (Int, Int) -> Void)? = nil) throws -> PreparedData {
        let digits = (0..<10).map(String.init)
        let splits: DataSplits
        var names = digits
        switch choice {
        case .folder(let dir, let fit, let skip):
            let folder = try ImageFolder.load(dir, options: ImageFolder.Options(fit: fit, skipUnreadable: skip, threads: threads, maxPixels: maxImagePixels), progress: progress)
            if !folder.skipped.isEmpty {
                let list = folder.skipped.map { "  \($0.reason)" }.joined(separator: "\n")
                FileHandle.standardError.write(Data("skipped \(folder.skipped.count) unreadable files:\n\(list)\n".utf8))
            }
            let empty = ImageSet(height: folder.labeled.height, width: folder.labeled.width, channels: 3)
            let split = DataSplits.from(labeled: folder.labeled, unlabeled: UnlabeledPool(folder.unlabeled),
                                        validation: folder.validation ?? empty, test: folder.test ?? folder.validation ?? empty)
            return PreparedData(choice: choice, splits: split, normalization: folder.labeled.channelStatistics(),
                                classes: folder.classNames.count, classNames: folder.classNames, unlabeledNames: folder.unlabeledPaths)
        case .synthetic:
            let unlabeledCount = settings.unlabeledCount ?? 10_000
            try checkSyntheticFits(settings, unlabeledCount: unlabeledCount)
            let spec = SplitSpec(labeledPerClass: settings.labeledPerClass, validationCount: settings.validationCount, seed: seed)
            let parameters = settings.syntheticDifficulty.map { SyntheticHouseNumbers.Parameters.difficulty($0) } ?? .default
            splits = try Splits.synthetic(generator: SyntheticHouseNumbers(parameters: parameters), spec: spec,
                                          unlabeledCount: unlabeledCount, testCount: settings.testCount, threads: threads)
        case .svhn(let dir):
            let spec = SplitSpec(labeledPerClass: settings.labeledPerClass, validationCount: settings.validationCount,
                                 unlabeledCount: settings.unlabeledCount, seed: seed)
            let hasExtra = FileManager.default.fileExists(atPath: URL(fileURLWithPath: dir).appendingPathComponent("extra_32x32.mat").path)
            let files = try SVHN.loadDirectory(dir, includeExtra: hasExtra)
            if settings.labeledPerClass == 0 {
                // The official setup: every training image not held out for validation is
                // labeled, and the extra set is the unlabeled pool.
                var s = try Splits.make(train: files.train, test: files.test, spec: spec)  // labeled empty, the rest unlabeled
                s.labeled = s.unlabeled.images.relabeled(s.unlabeled.heldOutTrueLabels)
                s.unlabeled = UnlabeledPool(files.extra ?? ImageSet(height: 32, width: 32, channels: 3))
                splits = s
            } else if let extra = files.extra {
                splits = try Splits.svhn(train: files.train, extra: extra, test: files.test, spec: spec)
            } else {
                splits = try Splits.make(train: files.train, test: files.test, spec: spec)
            }
        case .fashionMNIST(let dir):
            let spec = SplitSpec(labeledPerClass: settings.labeledPerClass, validationCount: settings.validationCount,
                                 unlabeledCount: settings.unlabeledCount, seed: seed)
            splits = try Splits.make(train: FashionMNIST.train(directory: dir), test: FashionMNIST.test(directory: dir), spec: spec)
            names = FashionMNIST.classNames
        }
        // Normalise with statistics of the labeled images only (what a practitioner would have).
        return PreparedData(choice: choice, splits: splits, normalization: splits.labeled.channelStatistics(),
                            classes: 10, classNames: names)
    }

    /// Refuses counts whose generated images (`SyntheticHouseNumbers`' 32x32x3 bytes each) would
    /// not fit in half the machine's memory (`memory`, bytes): such a recipe otherwise traps in the
    /// allocator after the run started. Real datasets need no such check (their counts are
    /// bounded by their files). `unlabeledCount` is the pool size the generator will draw.
    /// - Throws: `RecipeError` naming the first count that does not fit (or overflows).
    static func checkSyntheticFits(_ settings: DataSettings, unlabeledCount: Int,
                                   memory: UInt64 = ProcessInfo.processInfo.physicalMemory) throws {
        let counts = [("data.labeledPerClass", settings.labeledPerClass, 10),
                      ("data.unlabeledCount", unlabeledCount, 1),
                      ("data.validationCount", settings.validationCount, 1), ("data.testCount", settings.testCount, 1)]
        let imageBytes = SyntheticHouseNumbers.height * SyntheticHouseNumbers.width * SyntheticHouseNumbers.channels
        var total = 0
        for (key, count, per) in counts {
            let (images, o1) = count.multipliedReportingOverflow(by: per)
            let (bytes, o2) = images.multipliedReportingOverflow(by: imageBytes)
            let (sum, o3) = total.addingReportingOverflow(bytes)
            guard !o1, !o2, !o3, UInt64(sum) <= memory / 2 else {
                let gib = Double(memory) / Double(1 << 30)
                throw RecipeError(key: key, problem: "\(count) images of 32x32x3 do not fit in half of this machine's "
                                  + String(format: "%.1f GiB", gib) + " of memory (at most \(Int(memory / 2) / imageBytes) images in all)")
            }
            total = sum
        }
    }
}

/// RandAugment + Cutout + crop as the trainer's input noise: each image gets its own generator
/// derived from the batch's, so results do not depend on how the batch is cut up.
extension StudentNoise: ImageAugmenter {
    /// Replaces `batch` (NHWC UInt8, labels kept) by its noised copy; draws one value from `rng`
    /// as the batch seed, then image i is noised with `StudentNoise.imageGenerator(seed:batch:index:)`
    /// of that seed, batch 0 and index i.
    public func augment(_ batch: inout ImageSet, rng: inout SeededGenerator) {
        let n = batch.imageSize
        var out = [UInt8](repeating: 0, count: batch.pixels.count)
        let batchSeed = rng.next()
        var scratch = Scratch()
        batch.pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for i in 0..<batch.count {
                    var g = StudentNoise.imageGenerator(seed: batchSeed, batch: 0, index: i)
                    apply(UnsafeBufferPointer(rebasing: src[(i * n)..<((i + 1) * n)]),
                          into: UnsafeMutableBufferPointer(rebasing: dst[(i * n)..<((i + 1) * n)]),
                          height: batch.height, width: batch.width, channels: batch.channels, rng: &g, scratch: &scratch)
                }
            }
        }
        batch = ImageSet(height: batch.height, width: batch.width, channels: batch.channels, pixels: out, labels: batch.labels)
    }
}
