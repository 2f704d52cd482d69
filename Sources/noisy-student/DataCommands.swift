import ArgumentParser
import Augment
import Charts
import Datasets
import Foundation
import NoisyStudent

/// Prints one line to standard error (errors are one line: the file and the problem).
func printError(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}

/// `noisy-student data-stats --svhn-file PATH`: one JSON object describing an SVHN .mat file.
struct DataStats: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data-stats",
        abstract: "Print count, shape, per-digit label counts and pixel sum of an SVHN .mat file as one JSON object.")

    @Option(name: .customLong("svhn-file"), help: "Path to train_32x32.mat, test_32x32.mat or extra_32x32.mat.")
    var svhnFile: String

    func run() throws {
        do {
            let set = try SVHN.load(path: svhnFile)
            print(SVHN.Stats(set).json)
        } catch {
            printError("data-stats: \(error)")
            throw ExitCode.failure
        }
    }
}

/// `noisy-student fetch-svhn --dir DIR`: download the three SVHN files and check their MD5.
struct FetchSVHN: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fetch-svhn",
        abstract: "Download SVHN's train/test/extra .mat files with curl and verify their published MD5 sums.")

    @Option(help: "Directory to put the files in (created if missing).")
    var dir: String

    func run() throws {
        do {
            try SVHNDownload.fetch(into: dir)
        } catch {
            printError("fetch-svhn: \(error)")
            throw ExitCode.failure
        }
    }
}

/// `noisy-student data-preview ...`: PNG grids of data, augmentations and corruptions.
struct DataPreview: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data-preview",
        abstract: "Write a PNG grid of images: a dataset, RandAugment ops at several magnitudes, or corruptions at severities 1-5.")

    enum Dataset: String, ExpressibleByArgument, CaseIterable { case synthetic, svhn, fashionMnist = "fashion-mnist" }

    @Option(help: "Which images: synthetic, svhn (needs --svhn-file) or fashion-mnist.")
    var dataset: Dataset = .synthetic
    @Option(name: .customLong("svhn-file"), help: "SVHN .mat file for --dataset svhn.")
    var svhnFile: String?
    @Option(help: "Number of images (dataset grid), 1 to 10,000.")
    var count: Int = 100
    @Option(parsing: .unconditional, help: "Seed of the synthetic generator and of the augmentations.")
    var seed: UInt64 = 1
    @Option(help: "Synthetic difficulty (0 easy, 1 default, >1 harder).")
    var difficulty: Float = 1
    @Option(help: "Show an augmentation instead: randaugment (each op at several magnitudes) or pipeline (the full student noise).")
    var augment: String?
    @Flag(help: "Show each corruption at severities 1-5 instead.")
    var corruptions = false
    @Option(help: "Output PNG path.")
    var out: String

    /// A grid of 10,000 tiles is already 100 x 100; far larger counts asked for hundreds of
    /// gigabytes and ended in an allocation trap.
    func validate() throws {
        guard (1...10_000).contains(count) else { throw ValidationError("--count must be from 1 to 10,000 (got \(count))") }
    }

    func run() throws {
        do {
            var source = try images()
            if corruptions { source = source.expandedToRGB() }  // corruptions are defined on RGB
            if corruptions {
                try Previews.corruptions(source, seed: seed).write(pngTo: URL(fileURLWithPath: out))
            } else if let augment {
                switch augment {
                case "randaugment": try Previews.randAugmentOps(source, seed: seed).write(pngTo: URL(fileURLWithPath: out))
                case "pipeline": try Previews.pipeline(source, seed: seed).write(pngTo: URL(fileURLWithPath: out))
                default:
                    printError("data-preview: unknown --augment \(augment) (randaugment or pipeline)")
                    throw ExitCode.failure
                }
            } else {
                try Previews.dataset(source, count: count).write(pngTo: URL(fileURLWithPath: out))
            }
            print("wrote \(out)")
        } catch let e as ExitCode {
            throw e
        } catch {
            printError("data-preview: \(error)")
            throw ExitCode.failure
        }
    }

    /// The first max(count, 12) images of the chosen dataset (fewer if it has fewer); throws
    /// `ValidationError` for svhn without --svhn-file and the loader's error for a bad file.
    func images() throws -> ImageSet {
        let n = max(count, 12)
        switch dataset {
        case .synthetic:
            return SyntheticHouseNumbers(parameters: .difficulty(difficulty)).generate(count: n, seed: seed, threads: 2)
        case .svhn:
            guard let svhnFile else { throw ValidationError("--dataset svhn needs --svhn-file") }
            let all = try SVHN.load(path: svhnFile)
            return all.subset(Array(0..<min(n, all.count)))
        case .fashionMnist:
            let all = try FashionMNIST.test()
            return all.subset(Array(0..<min(n, all.count)))
        }
    }
}

/// `noisy-student data-bench`: images/s of the generator, RandAugment and the training batches.
struct DataBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data-bench",
        abstract: "Measure images/s of synthetic generation, RandAugment and training's batch pipeline (BatchMaker + Prefetcher).")

    @Option(help: "Images to generate / augment per measurement.")
    var count: Int = 20_000
    @Option(help: "Threads for the parallel measurements.")
    var threads: Int = 2

    func run() throws {
        let generator = SyntheticHouseNumbers()
        _ = generator.generate(count: 256, seed: 0)  // fonts and glyph paths load once
        // Wall-clock rates, and for single-threaded work also images per CPU-second of this
        // thread: on a shared machine the CPU rate is the one that says what one core does.
        var lastCPURate = 0.0
        func cpuSeconds(_ clock: clockid_t) -> Double {
            var t = timespec()
            clock_gettime(clock, &t)
            return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
        }
        func rate(_ n: Int, _ body: () -> Void) -> Double {
            let t0 = DispatchTime.now().uptimeNanoseconds
            let c0 = cpuSeconds(CLOCK_THREAD_CPUTIME_ID)
            body()
            lastCPURate = Double(n) / (cpuSeconds(CLOCK_THREAD_CPUTIME_ID) - c0)
            return Double(n) / (Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
        }
        var set = ImageSet(height: 32, width: 32, channels: 3)
        let gen1 = rate(count) { set = generator.generate(count: count, seed: 1, threads: 1) }
        let gen1CPU = lastCPURate
        let genN = rate(count) { _ = generator.generate(count: count, seed: 1, threads: threads) }
        print(String(format: "synthetic generation: %.0f img/s wall, %.0f img/s per CPU-second (1 thread); %.0f img/s wall (%d threads)",
                     gen1, gen1CPU, genN, threads))
        let ra = RandAugment(layers: 2, magnitude: 5)
        let pipeline = StudentNoise(randAugment: ra)
        let aug = rate(count) {
            var scratch = StudentNoise.Scratch()
            var out = [UInt8](repeating: 0, count: 3072)
            for i in 0..<count {
                var rng = StudentNoise.imageGenerator(seed: 7, batch: 0, index: i)
                set.pixels.withUnsafeBufferPointer { src in
                    out.withUnsafeMutableBufferPointer { dst in
                        pipeline.apply(UnsafeBufferPointer(rebasing: src[(i * 3072)..<((i + 1) * 3072)]), into: dst,
                                       height: 32, width: 32, channels: 3, rng: &rng, scratch: &scratch)
                    }
                }
            }
        }
        print(String(format: "RandAugment N=2 M=5 + cutout + crop: %.0f img/s wall, %.0f img/s per CPU-second (1 thread)", aug, lastCPURate))
        // The batches training runs: `BatchMaker` behind `Prefetcher` (one batch made ahead on
        // a second thread), as `Trainer.train` uses them; a teacher's clean labeled batches and a
        // noisy student's labeled + pseudo-labeled ones at the default recipe's ratio.
        let normalization = set.channelStatistics()
        let ratio = Recipe.preset(.default).unlabeledRatio
        var oneHot = [Float](repeating: 0, count: set.count * 10)
        for (i, label) in set.labels.enumerated() where (0..<10).contains(Int(label)) { oneHot[i * 10 + Int(label)] = 1 }
        let pseudo = PseudoLabeledSet(pool: set, indices: Array(0..<set.count), targets: oneHot, classes: 10)
        let batchSize = 128
        let cases: [(String, TrainingData, Int)] = [
            ("teacher batches (clean, \(batchSize) labeled)", TrainingData(labeled: set, normalization: normalization), 0),
            ("student batches (noised, \(batchSize) labeled + \(batchSize * ratio) pseudo-labeled)",
             TrainingData(labeled: set, pseudoLabeled: pseudo, normalization: normalization, augmenter: pipeline), ratio),
        ]
        for (name, data, r) in cases {
            let maker = BatchMaker(data: data, batchSize: batchSize, unlabeledRatio: r, seed: 3,
                                   stepsPerEpoch: (set.count + batchSize - 1) / batchSize)
            let prefetch = Prefetcher { maker.batch(step: $0) }
            let steps = max(1, count / (batchSize * (1 + r)))  // about `count` images per measurement
            let wall = rate(steps * batchSize * (1 + r)) { for step in 0..<steps { _ = prefetch.item(step) } }
            print(String(format: "training %@: %.0f img/s wall (BatchMaker + Prefetcher, as Trainer runs them)", name, wall))
        }
    }
}

/// Grids for data-preview (Charts' `ImageGrid`; 48 pt cells show a 32x32 image at 3x in the 2x PNG).
enum Previews {
    static let cellSize = 48.0

    /// One image of `set`'s shape (HWC bytes) as RGB; grey images repeat their one channel.
    static func tile(_ pixels: [UInt8], _ set: ImageSet, _ caption: String) -> RGBImage {
        let rgb = set.channels == 3 ? pixels : pixels.enumerated().flatMap { k, v in k % set.channels == 0 ? [v, v, v] : [] }
        return RGBImage(width: set.width, height: set.height, pixels: rgb, label: caption)
    }

    static func tile(_ set: ImageSet, _ i: Int, _ caption: String) -> RGBImage {
        tile(Array(set.image(i)), set, caption)
    }

    static func dataset(_ set: ImageSet, count: Int) -> ImageGrid {
        ImageGrid(columns: 10, cellSize: cellSize, images: (0..<min(count, set.count)).map { tile(set, $0, "\(set.labels[$0])") })
    }

    /// Each RandAugment op at magnitudes 0, 2, 5, 8, 10, 15 on one image (row per op).
    static func randAugmentOps(_ set: ImageSet, seed: UInt64) -> ImageGrid {
        let magnitudes: [Float] = [0, 2, 5, 8, 10, 15]
        var tiles: [RGBImage] = []
        var titles: [String] = []
        for (k, op) in RandAugment.Op.allCases.enumerated() {
            titles.append(op.rawValue)
            let i = k % set.count
            for m in magnitudes {
                var rng = StudentNoise.imageGenerator(seed: seed, batch: UInt64(k), index: 0)
                let out = RandAugment.apply(op, magnitude: m, to: Array(set.image(i)), height: set.height, width: set.width,
                                            channels: set.channels, rng: &rng)
                tiles.append(tile(out, set, "M=\(Int(m))"))
            }
        }
        return ImageGrid(columns: magnitudes.count, cellSize: cellSize, rowLabels: titles, images: tiles)
    }

    /// The full student noise (RandAugment N=2 M=5, Cutout 16, pad-and-crop), 8 draws per image.
    static func pipeline(_ set: ImageSet, seed: UInt64) -> ImageGrid {
        let noise = StudentNoise(randAugment: RandAugment(layers: 2, magnitude: 5))
        var tiles: [RGBImage] = []
        var scratch = StudentNoise.Scratch()
        for i in 0..<min(10, set.count) {
            tiles.append(tile(set, i, "clean \(set.labels[i])"))
            for d in 0..<7 {
                var rng = StudentNoise.imageGenerator(seed: seed, batch: UInt64(d), index: i)
                var out = [UInt8](repeating: 0, count: set.imageSize)
                let src = Array(set.image(i))
                src.withUnsafeBufferPointer { s in
                    out.withUnsafeMutableBufferPointer { o in
                        noise.apply(s, into: o, height: set.height, width: set.width, channels: set.channels, rng: &rng, scratch: &scratch)
                    }
                }
                tiles.append(tile(out, set, "draw \(d + 1)"))
            }
        }
        return ImageGrid(columns: 8, cellSize: cellSize, images: tiles)
    }

    /// Each corruption at severities 1-5 (row per corruption, clean image first).
    static func corruptions(_ set: ImageSet, seed: UInt64) -> ImageGrid {
        var tiles: [RGBImage] = []
        var titles: [String] = []
        precondition(set.channels == 3, "corruptions are defined for RGB images")
        for (k, c) in Corruption.allCases.enumerated() {
            titles.append(c.rawValue)
            let i = k % set.count
            tiles.append(tile(set, i, "clean"))
            for s in 1...5 {
                var rng = StudentNoise.imageGenerator(seed: seed, batch: UInt64(k), index: s)
                let out = c.apply(Array(set.image(i)), height: set.height, width: set.width, severity: s, rng: &rng)
                tiles.append(tile(out, set, "s=\(s)"))
            }
        }
        return ImageGrid(columns: 6, cellSize: cellSize, rowLabels: titles, images: tiles)
    }
}
