import Datasets
import Engine
import Foundation
import Randomness
import Testing
@testable import NoisyStudent

/// Issue 17: bad input and interrupted work give a clear error before work starts, never a
/// silent wrong answer. One test per case the issue lists.
@Suite struct BadInputTests {
    /// Writes 8x8 RGB PNGs (Python's zlib + struct): each argument `PATH=K` is an image whose
    /// channel K is bright; `PATH=jpg` writes a file that is not a PNG.
    static let writer = #"""
import os, struct, sys, zlib
def png(path, k):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if k == "jpg":
        open(path, "wb").write(b"\xff\xd8\xff\xe0 not a png"); return
    k = int(k); w = h = 8
    px = []
    for i in range(w * h): px += [200 if c == k else (i * 7 + c * 31) % 60 for c in range(3)]
    raw = b"".join(b"\x00" + bytes(px[y*w*3:(y+1)*w*3]) for y in range(h))
    c = lambda t, d: struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
    open(path, "wb").write(b"\x89PNG\r\n\x1a\n" + c(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) + c(b"IDAT", zlib.compress(raw)) + c(b"IEND", b""))
for a in sys.argv[1:]:
    path, k = a.rsplit("=", 1); png(path, k)
"""#

    /// A folder dataset: `classes` labeled class folders of `perClass` images, an unlabeled pool
    /// and (optionally) a test folder; `files` adds or replaces entries (relative path = class).
    static func folder(classes: [String] = ["a", "b", "c"], perClass: Int = 4, unlabeled: Int = 6, test: Bool = true,
                       extra: [String] = []) throws -> URL {
        let root = CLI.tempDir("bad-folder")
        var args: [String] = []
        for (k, name) in classes.enumerated() {
            for i in 0..<perClass { args.append("\(root.path)/labeled/\(name)/\(i).png=\(k)") }
            if test { for i in 0..<2 { args.append("\(root.path)/test/\(name)/\(i).png=\(k)") } }
        }
        for i in 0..<unlabeled { args.append("\(root.path)/unlabeled/\(i).png=\(i % classes.count)") }
        args += extra.map { "\(root.path)/\($0)" }
        try CLI.python(writer, args)
        return root
    }

    static func options() -> ImageFolder.Options { ImageFolder.Options(cacheDirectory: nil) }

    /// A model checkpoint with a model card, as `train-teacher` writes it (random weights).
    static func checkpoint(_ url: URL, classes: [String], channels: Int = 3, size: Int = 32) throws {
        let spec = ModelSpec.wideResNet(depth: 10, width: 1, classes: classes.count, inputChannels: channels)
        var rng = SeededGenerator(seed: 1)
        let model = spec.build(rng: &rng)
        let card = ModelCard(classNames: classes, normalization: .unit(channels: channels), inputSize: size)
        try Checkpoint(architecture: try spec.json(), metadata: card.metadata, tensors: model.checkpointTensors()).write(to: url)
    }

    // MARK: 1. Model and data that do not fit

    @Test func tenClassCheckpointOnAThreeClassFolderIsRefused() throws {
        let exe = try #require(CLI.binary)
        let root = try Self.folder()
        defer { try? FileManager.default.removeItem(at: root) }
        let ckpt = root.appendingPathComponent("digits.ckpt")
        try Self.checkpoint(ckpt, classes: (0..<10).map(String.init))
        for command in [["evaluate", "--checkpoint", ckpt.path], ["robustness", ckpt.path]] {
            let r = try CLI.outcome(exe, command + ["--dataset", "folder:\(root.path)", "--scale", "tiny", "--run", root.appendingPathComponent("run").path])
            #expect(r.status == 1 && !r.signalled, "\(command[0]): \(r.err)")
            #expect(r.err.contains(ckpt.path) && r.err.contains("10 classes") && r.err.contains("a, b, c"), "\(r.err)")
        }
    }

    @Test func rgbCheckpointOnGreyFashionMNISTIsRefused() throws {
        let p = try #require(PipelineTests.data, "needs dataset-fashion-mnist")
        let url = CLI.tempDir("fit").appendingPathComponent("rgb.ckpt")
        try Self.checkpoint(url, classes: p.classNames, channels: 3, size: 28)
        let trained = try Pipeline.loadModel(url)
        #expect { try ModelFit.check(trained, path: url.path, against: p) } throws: { e in
            "\(e)".contains("3-channel") && "\(e)".contains("1-channel") && "\(e)".contains(url.path)
        }
        // The same checkpoint made for the data fits.
        try Self.checkpoint(url, classes: p.classNames, channels: 1, size: 28)
        try ModelFit.check(try Pipeline.loadModel(url), path: url.path, against: p)
        // Input size: a 32x32 model card on 28x28 images.
        try Self.checkpoint(url, classes: p.classNames, channels: 1, size: 32)
        #expect { try ModelFit.check(try Pipeline.loadModel(url), path: url.path, against: p) } throws: { "\($0)".contains("32x32") }
    }

    @Test func syntheticTeacherCannotLabelAFoldersPool() throws {
        let exe = try #require(CLI.binary)
        let root = try Self.folder()
        defer { try? FileManager.default.removeItem(at: root) }
        let run = root.appendingPathComponent("run")
        try Self.checkpoint(run.appendingPathComponent("teacher.ckpt"), classes: (0..<10).map(String.init))
        let r = try CLI.outcome(exe, ["predict", "--dataset", "folder:\(root.path)", "--scale", "tiny", "--run", run.path])
        #expect(r.status == 1 && r.err.contains("teacher.ckpt does not fit"), "\(r.err)")
        #expect(!FileManager.default.fileExists(atPath: run.appendingPathComponent("pseudo-1.labels").path))
    }

    @Test func trainAndTestImagesOfDifferentSizesAreRefused() throws {
        let train = ImageSet(height: 4, width: 4, channels: 1, pixels: [UInt8](repeating: 1, count: 32), labels: [0, 1])
        let test = ImageSet(height: 5, width: 4, channels: 1, pixels: [UInt8](repeating: 1, count: 20), labels: [0])
        let splits = DataSplits.from(labeled: train, unlabeled: UnlabeledPool(train), validation: train, test: test)
        #expect { try ModelFit.checkShapes(splits, dataName: "mixed") } throws: { "\($0)".contains("test images are 5x4x1") }
    }

    // MARK: 2. merge

    static func writeShard(_ dir: URL, shard: Int, of n: Int, pool: Int, recordPool: Bool = true, source: String? = nil) throws {
        let r = PseudoLabels.shardRange(count: pool, shard: shard, shards: n)
        let labels = PseudoLabels(classes: 2, indices: Array(r), probabilities: Array(repeating: 0.5, count: 2 * r.count))
        try PseudoLabelFile.write(labels, to: dir.appendingPathComponent("pseudo-1.shard-\(shard)-of-\(n).labels"),
                                  poolCount: recordPool ? pool : nil, source: source)
    }

    @Test func mergeRefusesShardsOfDifferentSplits() throws {
        let dir = CLI.tempDir("merge")
        try Self.writeShard(dir, shard: 0, of: 2, pool: 1500)
        try Self.writeShard(dir, shard: 2, of: 3, pool: 1500)
        #expect { try ShardMerge.merge(directory: dir, iteration: 1) } throws: { e in
            "\(e)".contains("0-of-2") && "\(e)".contains("2-of-3")
        }
        if let exe = CLI.binary {  // and the command exits 1 with the message
            let r = try CLI.outcome(exe, ["merge", "--run", dir.path])
            #expect(r.status == 1 && r.err.contains("different splits"), "\(r.err)")
        }
    }

    @Test func mergeNamesMissingShardsAndTheirImages() throws {
        let dir = CLI.tempDir("merge")
        try Self.writeShard(dir, shard: 0, of: 3, pool: 1500)
        try Self.writeShard(dir, shard: 2, of: 3, pool: 1500)
        #expect { try ShardMerge.merge(directory: dir, iteration: 1) } throws: { e in
            "\(e)".contains("pseudo-1.shard-1-of-3.labels (pool images 500..<1000)")
        }
        try Self.writeShard(dir, shard: 1, of: 3, pool: 1500)
        let (merged, pool, _) = try ShardMerge.merge(directory: dir, iteration: 1)
        #expect(pool == 1500 && merged.indices == Array(0..<1500))
    }

    /// A shard copied from another teacher's run (or another data set's pool of the same size)
    /// merged without an error into a file of mixed labels.
    @Test func mergeRefusesShardsOfDifferentTeachersOrPools() throws {
        let dir = CLI.tempDir("merge")
        let a = "teacher 0123456789abcdef, pool fedcba9876543210", b = "teacher 1111111111111111, pool fedcba9876543210"
        try Self.writeShard(dir, shard: 0, of: 2, pool: 1500, source: a)
        try Self.writeShard(dir, shard: 1, of: 2, pool: 1500, source: b)
        #expect { try ShardMerge.merge(directory: dir, iteration: 1) } throws: { e in
            "\(e)".contains("different teachers or pools") && "\(e)".contains("1111111111111111")
        }
        try Self.writeShard(dir, shard: 1, of: 2, pool: 1500, source: a)
        let (_, _, source) = try ShardMerge.merge(directory: dir, iteration: 1)
        #expect(source == a)
        // The fingerprint follows the teacher's bytes and the pool's pixels.
        let teacher = dir.appendingPathComponent("t.ckpt")
        try Data([1, 2, 3]).write(to: teacher)
        let pool = ImageSet(height: 2, width: 2, channels: 1, pixels: [0, 1, 2, 3, 4, 5, 6, 7], labels: [0, 1])
        let other = ImageSet(height: 2, width: 2, channels: 1, pixels: [0, 1, 2, 3, 4, 5, 6, 8], labels: [0, 1])
        let s = try ShardMerge.source(teacher: teacher, pool: pool)
        #expect(s == (try ShardMerge.source(teacher: teacher, pool: pool)))
        #expect(s != (try ShardMerge.source(teacher: teacher, pool: other)))
        try Data([1, 2, 4]).write(to: teacher)
        #expect(s != (try ShardMerge.source(teacher: teacher, pool: pool)))
    }

    /// "a/1/2" and "1//2" ran as shard 1 of 2 (their odd parts dropped).
    @Test(arguments: ["a/1/2", "1//2", "/0/2", "0/2/", "1 /2", "0/0", "3/2"])
    func predictRefusesMalformedShards(shard: String) throws {
        guard let exe = CLI.binary else { return }
        let r = try CLI.outcome(exe, ["predict", "--shard=\(shard)", "--run", CLI.tempDir("shard").path])
        #expect(r.status == 64 && r.err.contains("--shard must be i/N"), "\(shard): \(r.status) \(r.err)")
    }

    @Test func mergeRefusesShardsOfDifferentPools() throws {
        let dir = CLI.tempDir("merge")
        try Self.writeShard(dir, shard: 0, of: 2, pool: 1500)
        try Self.writeShard(dir, shard: 1, of: 2, pool: 1000)
        #expect { try ShardMerge.merge(directory: dir, iteration: 1) } throws: { "\($0)".contains("pools of different sizes") }
    }

    @Test func filterRefusesLabelsThatDoNotCoverThePool() throws {
        let p = try #require(PipelineTests.data, "needs dataset-fashion-mnist")
        let part = PseudoLabels(classes: 10, indices: Array(0..<250), probabilities: Array(repeating: 0.1, count: 2500))
        #expect { try ModelFit.check(part, path: "p.labels", against: p, wholePool: true) } throws: { "\($0)".contains("250 of the pool's 1000") }
        try ModelFit.check(part, path: "p.labels", against: p, wholePool: false)
        // The one reader of whole-pool label files (filter, train-student, a resumed run, the
        // report's ablations) refuses such a file, naming it; the whole pool passes.
        let dir = CLI.tempDir("whole-pool")
        let shard = dir.appendingPathComponent("shard.labels"), whole = dir.appendingPathComponent("whole.labels")
        try PseudoLabelFile.write(part, to: shard, poolCount: 1000)
        #expect { try PseudoLabelFile.read(shard, wholePoolOf: p) } throws: {
            "\($0)".contains(shard.path) && "\($0)".contains("250 of the pool's 1000")
        }
        let all = PseudoLabels(classes: 10, indices: Array(0..<p.splits.unlabeled.count),
                               probabilities: Array(repeating: 0.1, count: 10 * p.splits.unlabeled.count))
        try PseudoLabelFile.write(all, to: whole, poolCount: p.splits.unlabeled.count)
        #expect(try PseudoLabelFile.read(whole, wholePoolOf: p).count == p.splits.unlabeled.count)
    }

    // MARK: 3. Image folders

    @Test func emptyClassFolderIsNamed() throws {
        let root = try Self.folder()
        defer { try? FileManager.default.removeItem(at: root) }
        try FileManager.default.createDirectory(at: root.appendingPathComponent("labeled/d"), withIntermediateDirectories: true)
        #expect { try ImageFolder.load(root.path, options: Self.options()) } throws: { e in
            "\(e)".contains("labeled/d") && "\(e)".contains("the folder is empty")
        }
    }

    @Test func classImagesOneLevelTooDeepAreNamed() throws {
        let root = try Self.folder(extra: ["labeled/d/inner/0.png=0", "labeled/d/inner/1.png=0"])
        defer { try? FileManager.default.removeItem(at: root) }
        #expect { try ImageFolder.load(root.path, options: Self.options()) } throws: { e in
            "\(e)".contains("labeled/d") && "\(e)".contains("2 sit in subfolders")
        }
    }

    @Test func oneClassFolderIsRefused() throws {
        let root = try Self.folder(classes: ["only"])
        defer { try? FileManager.default.removeItem(at: root) }
        #expect { try ImageFolder.load(root.path, options: Self.options()) } throws: { "\($0)".contains("only 'only' is there") }
    }

    @Test(arguments: ["missing", "empty", "jpg"])
    func unlabeledFolderProblemsStopBeforeTraining(kind: String) throws {
        let root = try Self.folder(unlabeled: 0, extra: kind == "jpg" ? ["unlabeled/a.jpg=jpg", "unlabeled/b.jpg=jpg"] : [])
        defer { try? FileManager.default.removeItem(at: root) }
        if kind == "empty" {
            try FileManager.default.createDirectory(at: root.appendingPathComponent("unlabeled"), withIntermediateDirectories: true)
        }
        let expected = ["missing": "unlabeled: missing folder", "empty": "the folder is empty", "jpg": "2 .jpg files"][kind]!
        #expect { try ImageFolder.load(root.path, options: Self.options()) } throws: { "\($0)".contains(expected) }
        if let exe = CLI.binary {  // the CLI says so before any training
            let r = try CLI.outcome(exe, ["run", "--dataset", "folder:\(root.path)", "--scale", "tiny", "--run", root.appendingPathComponent("run").path])
            #expect(r.status == 1 && r.err.contains(expected) && !r.out.contains("teacher"), "\(r.err)")
        }
    }

    @Test func noTestFolderSaysNoTestSet() throws {
        let exe = try #require(CLI.binary)
        let root = try Self.folder(test: false)
        defer { try? FileManager.default.removeItem(at: root) }
        let run = root.appendingPathComponent("run").path
        let r = try CLI.outcome(exe, ["train-teacher", "--dataset", "folder:\(root.path)", "--scale", "tiny", "--run", run])
        #expect(r.status == 0 && r.out.contains("no test set") && !r.out.contains("0.00%"), "\(r.out) \(r.err)")
        let e = try CLI.outcome(exe, ["evaluate", "--dataset", "folder:\(root.path)", "--scale", "tiny", "--checkpoint", run + "/teacher.ckpt"])
        #expect(e.status == 1 && e.err.contains("no test set"), "\(e.err)")
    }

    // MARK: 7. Recipes

    static func recipeFile(_ edit: (inout [String: Any]) -> Void) throws -> URL {
        var json = try JSONSerialization.jsonObject(with: JSONEncoder().encode(Recipe.preset(.tiny))) as! [String: Any]
        edit(&json)
        let url = CLI.tempDir("recipe").appendingPathComponent("recipe.json")
        try JSONSerialization.data(withJSONObject: json).write(to: url)
        return url
    }

    static func set(_ json: inout [String: Any], _ section: String, _ key: String, _ value: Any) {
        var s = json[section] as! [String: Any]
        s[key] = value
        json[section] = s
    }

    @Test(arguments: [
        ("teacherTraining", "batchSize", "0", "teacherTraining.batchSize"),
        ("studentTraining", "batchSize", "-4", "studentTraining.batchSize"),
        ("data", "validationCount", "-1", "data.validationCount"),
        ("data", "unlabeledCount", "-5", "data.unlabeledCount"),
        ("teacherTraining", "epochs", "-1", "teacherTraining.epochs"),
        ("teacherTraining", "epochs", "0", "teacherTraining.epochs"),
        ("studentTraining", "epochs", "1e300", "studentTraining.epochs"),
        ("studentTraining", "peakLearningRate", "-0.1", "studentTraining.peakLearningRate"),
        ("filter", "threshold", "1.5", "filter.threshold"),
        ("filter", "threshold", "-0.2", "filter.threshold"),
        ("teacherTraining", "emaDecy", "0.9", "teacherTraining.emaDecy"),
        ("teacherTraining", "batchSize", "3.5", "teacherTraining.batchSize"),
        ("teacher", "depth", "1e300", "teacher.depth"),
        ("studentNoise", "randAugmentLayers", "1000000", "studentNoise.randAugmentLayers"),
        ("studentNoise", "randAugmentLayers", "-1", "studentNoise.randAugmentLayers"),
        ("studentNoise", "randAugmentMagnitude", "31", "studentNoise.randAugmentMagnitude"),
        ("teacherTraining", "batchSize", "1000000000", "teacherTraining.batchSize"),
        ("studentTraining", "batchSize", "10000000", "studentTraining.batchSize"),
        ("filter", "perClass", "1000000000000", "filter.perClass"),
    ])
    func badRecipeValuesAreNamedWithTheirFile(section: String, key: String, value: String, named: String) throws {
        let number: Any = Int(value).map { NSNumber(value: $0) } ?? NSNumber(value: Double(value)!)
        let url = try Self.recipeFile { Self.set(&$0, section, key, number) }
        #expect { try Recipe.load(from: url) } throws: { e in
            let text = "\(e)"
            return text.hasPrefix(url.path + ": " + named + ":")
        }
    }

    /// A ratio of 10^9 (or 2^60) passed and then failed to allocate (or overflowed an Int) at
    /// the student's first step, after the teacher had trained.
    @Test(arguments: [1_000_000_000, 1 << 60])
    func hugeUnlabeledRatioIsRefusedWhenTheRecipeLoads(ratio: Int) throws {
        let url = try Self.recipeFile { $0["unlabeledRatio"] = ratio }
        #expect { try Recipe.load(from: url) } throws: { e in "\(e)".hasPrefix(url.path + ": unlabeledRatio: must be at most") }
    }

    @Test func negativeSeedIsNamedNotCalledInvalidJSON() throws {
        let url = try Self.recipeFile { $0["seed"] = -1 }
        #expect { try Recipe.load(from: url) } throws: { e in "\(e)".hasPrefix(url.path + ": seed:") }
    }

    @Test func syntheticCountsBeyondMemoryAreRefusedBeforeGenerating() throws {
        var settings = Recipe.preset(.tiny).data
        settings.unlabeledCount = 1_000_000_000_000
        #expect { try PreparedData.prepare(.synthetic, settings: settings, seed: 0) } throws: { e in
            "\(e)".hasPrefix("recipe: data.unlabeledCount: 1000000000000 images") && "\(e)".contains("do not fit")
        }
        #expect { try PreparedData.checkSyntheticFits(settings, unlabeledCount: .max, memory: 1 << 34) } throws: { e in "\(e)".contains("data.unlabeledCount") }
        try PreparedData.checkSyntheticFits(settings, unlabeledCount: 1_000_000, memory: 1 << 34)  // 2.9 GiB: fits in 16 GiB
    }

    @Test func validRecipesLoad() throws {
        for scale in Recipe.Scale.allCases {
            let url = CLI.tempDir("recipe").appendingPathComponent("r.json")
            try JSONEncoder().encode(Recipe.preset(scale)).write(to: url)
            #expect(try Recipe.load(from: url) == Recipe.preset(scale))
        }
    }

    @Test func batchSizeZeroExitsWithAMessageNotSIGFPE() throws {
        let exe = try #require(CLI.binary)
        let url = try Self.recipeFile { Self.set(&$0, "teacherTraining", "batchSize", 0) }
        let r = try CLI.outcome(exe, ["train-teacher", "--recipe", url.path, "--run", url.deletingLastPathComponent().path + "/run"])
        #expect(r.status == 1 && !r.signalled && r.err.contains("teacherTraining.batchSize"), "\(r.err)")
    }

    /// Foundation keeps one of two equal keys silently: the file would not mean what it says.
    @Test(arguments: [
        ("{\"seed\": 1, \"scale\": \"tiny\", \"seed\": 2}", "seed"),
        ("{\"teacherTraining\": {\"epochs\": 3, \"batchSize\": 8, \"epochs\": 4}}", "teacherTraining.epochs"),
        ("{\"students\": [{\"depth\": 10}, {\"width\": 2, \"kind\": \"resnet\", \"width\": 3}]}", "students[1].width"),
        ("{\"a\": {\"x\": 1}, \"b\": {\"x\": \"\\\"x\"}, \"c\": [[{\"k\": 1}], {\"k\": 2, \"k\": 3}]}", "c[1].k"),
        // Two spellings of one name: JSONSerialization merges them too, so nothing else sees it.
        ("{\"seed\": 1, \"se\\u0065d\": 2}", "seed"),
    ])
    func duplicateKeysAreFoundWithTheirPath(json: String, path: String) {
        #expect(Recipe.duplicateKey(Data(json.utf8)) == path)
    }

    @Test func jsonWithoutDuplicatesHasNone() throws {
        let data = try JSONEncoder().encode(Recipe.preset(.paper))
        #expect(Recipe.duplicateKey(data) == nil)
        #expect(Recipe.duplicateKey(Data("{\"a\": {\"k\": 1}, \"b\": {\"k\": 1}, \"l\": [{\"k\": 1}, {\"k\": 2}], \"s\": \"k,k\"}".utf8)) == nil)
    }

    /// Wrong JSON types are named as JSON kinds ("not a Dictionary<String, Any>" for an array).
    @Test func wrongJSONTypesInARecipeAreNamedAsJSON() throws {
        let url = CLI.tempDir("recipe").appendingPathComponent("recipe.json")
        try Data("[]".utf8).write(to: url)
        #expect { try Recipe.load(from: url) } throws: { "\($0)" == url.path + ": not an object ({...})" }
        let text = String(decoding: try JSONEncoder().encode(Recipe.preset(.tiny)), as: UTF8.self)
            .replacingOccurrences(of: "\"seed\":0", with: "\"seed\":\"zero\"")
        try Data(text.utf8).write(to: url)
        #expect { try Recipe.load(from: url) } throws: { "\($0)" == url.path + ": seed: not a whole number" }
    }

    @Test func duplicateKeyInARecipeFileIsRefused() throws {
        var text = String(decoding: try JSONEncoder().encode(Recipe.preset(.tiny)), as: UTF8.self)
        text.removeLast()  // the closing brace
        text += ",\"seed\":7}"
        let url = CLI.tempDir("recipe").appendingPathComponent("recipe.json")
        try Data(text.utf8).write(to: url)
        #expect { try Recipe.load(from: url) } throws: { "\($0)".hasPrefix(url.path + ": seed: given twice") }
    }

    /// A WideResNet or ResNet has no width multiplier: 0 was accepted and ignored.
    @Test(arguments: ["widthMultiplier", "depthMultiplier"])
    func multipliersOfOtherModelsThanEfficientNetAreRefused(key: String) throws {
        let url = try Self.recipeFile { json in
            var students = json["students"] as! [[String: Any]]
            students[0][key] = 0
            json["students"] = students
        }
        #expect { try Recipe.load(from: url) } throws: { "\($0)".hasPrefix(url.path + ": students[0].\(key): is EfficientNet's") }
    }

    /// The mirror: an EfficientNet's size is its multipliers; a depth or width was ignored.
    @Test(arguments: ["depth", "width"])
    func resNetSizesOnAnEfficientNetAreRefused(key: String) throws {
        var recipe = Recipe.preset(.tiny)
        recipe.students = [ModelSpec.efficientNet(width: 0.25, depth: 0.25)]
        var json = try JSONSerialization.jsonObject(with: JSONEncoder().encode(recipe)) as! [String: Any]
        var students = json["students"] as! [[String: Any]]
        students[0][key] = 3
        json["students"] = students
        let url = CLI.tempDir("recipe").appendingPathComponent("recipe.json")
        try JSONSerialization.data(withJSONObject: json).write(to: url)
        #expect { try Recipe.load(from: url) } throws: { "\($0)".hasPrefix(url.path + ": students[0].\(key): is ResNet's and WideResNet's") }
    }

    @Test func corruptRecipeOnResumeNamesTheFile() throws {
        let dir = CLI.tempDir("resume")
        let url = dir.appendingPathComponent("recipe.json")
        try Data("{\"scale\": \"tiny\", ".utf8).write(to: url)
        #expect { try Recipe.load(from: url) } throws: { "\($0)".hasPrefix(url.path + ": not valid JSON") }
    }

    // MARK: 8. Files that are valid but inconsistent

    @Test func filterFileRowsOutsideThePseudoLabelsAreRefused() throws {
        let labels = PseudoLabels(classes: 2, indices: [0, 1, 2], probabilities: [0.9, 0.1, 0.2, 0.8, 0.6, 0.4])
        let good = PseudoLabelFilter.apply(labels, settings: FilterSettings(), trueLabels: nil, seed: 1)
        var bad = good
        bad.rows.append(1_000_000)
        let url = CLI.tempDir("filter").appendingPathComponent("filter-1.json")
        try RunFolder.json(bad).write(to: url)
        #expect { try FilterResult.load(from: url, labels: labels) } throws: { "\($0)".contains("row 1000000 is outside the 3 pseudo labels") }
        try RunFolder.json(good).write(to: url)
        #expect(try FilterResult.load(from: url, labels: labels) == good)
    }

    @Test(arguments: [Float.nan, 3e9, -1, 2.5])
    func pseudoLabelIndicesThatAreNotPoolIndicesAreRefused(index: Float) throws {
        let url = CLI.tempDir("labels").appendingPathComponent("pseudo-1.labels")
        try Checkpoint(architecture: "pseudo-labels", metadata: ["classes": "2"], tensors: [
            ("indices", Tensor(shape: [2], scalars: [0, index])),
            ("probabilities", Tensor(shape: [2, 2], scalars: [0.5, 0.5, 0.5, 0.5])),
        ]).write(to: url)
        #expect { try PseudoLabelFile.read(url) } throws: { "\($0)".contains(url.path) && "\($0)".contains("row 1") }
    }

    @Test func pseudoLabelsOutsideThePoolAreRefused() throws {
        let p = try #require(PipelineTests.data, "needs dataset-fashion-mnist")
        let labels = PseudoLabels(classes: 10, indices: [0, 5000], probabilities: Array(repeating: 0.1, count: 20))
        #expect { try ModelFit.check(labels, path: "x.labels", against: p, wholePool: false) } throws: { "\($0)".contains("pool index 5000") }
    }

    // MARK: 12. Stable JSON

    @Test func filterRecordsHaveSortedKeys() throws {
        let labels = PseudoLabels(classes: 2, indices: [0, 1], probabilities: [0.9, 0.1, 0.2, 0.8])
        let result = PseudoLabelFilter.apply(labels, settings: FilterSettings(), trueLabels: [0, 1], seed: 1)
        let text = String(decoding: try RunFolder.json(result), as: UTF8.self)
        let keys = text.split(separator: "\n").filter { $0.hasPrefix("  \"") }.map { $0.split(separator: "\"")[1] }
        #expect(keys == keys.sorted() && keys.count == Mirror(reflecting: result).children.count, "\(keys)")
        #expect(try RunFolder.json(result) == (try RunFolder.json(result)))
    }
}
