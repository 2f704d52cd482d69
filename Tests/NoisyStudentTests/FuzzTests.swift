import Datasets
import Engine
import Foundation
import Randomness
import Testing
@testable import NoisyStudent

/// Issue 17's fuzz harness: seed files of every format the pipeline reads are mutated (bit
/// flips, byte overwrites with boundary values, truncations, deleted and repeated slices, and
/// for JSON numbers swapped for extreme values) and each mutant is read by
/// `noisy-student inspect`, a process of its own. Every one must end by exit (0 or 1, never a
/// signal) within the time limit, and a refusal must be a one-line error naming the file.
///
/// Nine seed files (.mat plain and compressed, PNG, IDX plain and gzip, checkpoint, pseudo
/// labels, recipe JSON, filter JSON); `FUZZ_MUTANTS` sets the mutants per seed file (default
/// 24: 216 in all, what CI runs).
@Suite struct FuzzTests {
    static let perSeed = ProcessInfo.processInfo.environment["FUZZ_MUTANTS"].flatMap(Int.init) ?? 24
    static let timeout = 60.0

    /// Seed files, by inspect kind; `extra` are arguments inspect needs beside the file.
    struct Seed { var kind: String; var name: String; var bytes: [UInt8]; var extra: [String] = [] }

    static func seeds(in dir: URL) throws -> [Seed] {
        var seeds: [Seed] = []
        // PNG (Python's writer) and .mat plain and compressed (SciPy, where installed).
        try CLI.python(BadInputTests.writer, [dir.appendingPathComponent("seed.png").path + "=1"])
        seeds.append(Seed(kind: "png", name: "f.png", bytes: try bytes(dir.appendingPathComponent("seed.png"))))
        let mat = #"""
import sys, numpy as np, scipy.io
X = (np.arange(32 * 32 * 3 * 3) % 251).astype(np.uint8).reshape(32, 32, 3, 3)
for name, c in [("plain", False), ("zipped", True)]:
    scipy.io.savemat(f"{sys.argv[1]}/{name}.mat", {"X": X, "y": np.array([[1], [10], [5]], dtype=np.uint8)}, do_compression=c)
"""#
        if (try? CLI.python(mat, [dir.path])) != nil {
            for name in ["plain", "zipped"] {
                seeds.append(Seed(kind: "mat", name: "f.mat", bytes: try bytes(dir.appendingPathComponent("\(name).mat"))))
            }
        }
        // IDX, gzip-compressed as Fashion-MNIST ships it, and plain.
        let idx: [UInt8] = [0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 3] + Array(0..<18)
        seeds.append(Seed(kind: "idx", name: "f.idx", bytes: idx))
        let gz = dir.appendingPathComponent("seed.gz")
        try Data(idx).write(to: dir.appendingPathComponent("seed.idx"))
        try CLI.python("import gzip, sys; open(sys.argv[2], 'wb').write(gzip.compress(open(sys.argv[1], 'rb').read()))",
                       [dir.appendingPathComponent("seed.idx").path, gz.path])
        seeds.append(Seed(kind: "idx", name: "f.gz", bytes: try bytes(gz)))
        // A model checkpoint (a small ResNet-8 w4 with a model card) and pseudo labels.
        let ckpt = dir.appendingPathComponent("seed.ckpt")
        let spec = ModelSpec.resnet(depth: 8, width: 4, classes: 3)
        var rng = SeededGenerator(seed: 2)
        let card = ModelCard(classNames: ["a", "b", "c"], normalization: .unit(channels: 3), inputSize: 32)
        try Checkpoint(architecture: try spec.json(), metadata: card.metadata, tensors: spec.build(rng: &rng).checkpointTensors()).write(to: ckpt)
        seeds.append(Seed(kind: "checkpoint", name: "f.ckpt", bytes: try bytes(ckpt)))
        let labels = PseudoLabels(classes: 3, indices: Array(0..<6), probabilities: (0..<18).map { Float($0 % 3 + 1) / 6 })
        let labelsURL = dir.appendingPathComponent("seed.labels")
        try PseudoLabelFile.write(labels, to: labelsURL, poolCount: 6)
        seeds.append(Seed(kind: "labels", name: "f.labels", bytes: try bytes(labelsURL)))
        // Recipe and filter JSON.
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys]
        seeds.append(Seed(kind: "recipe", name: "recipe.json", bytes: [UInt8](try e.encode(Recipe.preset(.tiny)))))
        let filter = PseudoLabelFilter.apply(labels, settings: FilterSettings(), trueLabels: nil, seed: 1)
        seeds.append(Seed(kind: "filter", name: "filter-1.json", bytes: [UInt8](try RunFolder.json(filter)), extra: ["--labels", labelsURL.path]))
        return seeds
    }

    static func bytes(_ url: URL) throws -> [UInt8] { [UInt8](try Data(contentsOf: url)) }

    /// One mutant of `seed`, chosen by `rng`.
    static func mutate(_ seed: [UInt8], text: Bool, rng: inout SeededGenerator) -> [UInt8] {
        var b = seed
        guard !b.isEmpty else { return b }
        func pos() -> Int { Int(rng.next() % UInt64(b.count)) }
        let boundary: [[UInt8]] = [[0, 0, 0, 0], [0xFF, 0xFF, 0xFF, 0xFF], [0x7F, 0xFF, 0xFF, 0xFF], [0x80, 0, 0, 0], [0, 0, 0, 1]]
        switch rng.next() % (text ? 7 : 6) {
        case 0: for _ in 0..<(1 + rng.next() % 4) { b[pos()] ^= UInt8(1) << UInt8(rng.next() % 8) }
        case 1: b[pos()] = UInt8(truncatingIfNeeded: rng.next())
        case 2:
            let v = boundary[Int(rng.next() % UInt64(boundary.count))], at = pos()
            for k in 0..<4 where at + k < b.count { b[at + k] = v[k] }
        case 3: b = Array(b.prefix(pos()))
        case 4:
            let at = pos(), n = min(b.count - at, 1 + Int(rng.next() % 64))
            b.removeSubrange(at..<(at + n))
        case 5:
            let at = pos(), n = min(b.count - at, 1 + Int(rng.next() % 64))
            b.insert(contentsOf: b[at..<(at + n)], at: at)
        default:
            // A number in the JSON becomes an extreme or invalid value.
            let digits = b.indices.filter { (48...57).contains(b[$0]) && ($0 == 0 || !(48...57).contains(b[$0 - 1])) }
            guard let start = digits.isEmpty ? nil : digits[Int(rng.next() % UInt64(digits.count))] else { return b }
            var end = start
            while end < b.count, (48...57).contains(b[end]) || b[end] == 46 { end += 1 }
            let values = ["-1", "0", "1e308", "-1e308", "NaN", "9223372036854775807", "3.5", "\"x\"", "null", "[]"]
            b.replaceSubrange(start..<end, with: Array(values[Int(rng.next() % UInt64(values.count))].utf8))
        }
        return b
    }

    @Test func mutatedFilesNeverCrashOrHang() throws {
        let exe = try #require(CLI.binary)
        let dir = CLI.tempDir("fuzz")
        defer { try? FileManager.default.removeItem(at: dir) }
        let seeds = try Self.seeds(in: dir)
        var cases: [(file: URL, seed: Seed)] = []
        var rng = SeededGenerator(seed: 17)
        for (s, seed) in seeds.enumerated() {
            for m in 0..<Self.perSeed {
                let sub = dir.appendingPathComponent("m\(s)-\(m)")
                try FileManager.default.createDirectory(at: sub, withIntermediateDirectories: true)
                let url = sub.appendingPathComponent(seed.name)
                try Data(Self.mutate(seed.bytes, text: seed.name.hasSuffix(".json"), rng: &rng)).write(to: url)
                cases.append((url, seed))
            }
        }
        let outcomes = Outcomes(count: cases.count)
        let jobs = cases.map { ($0.file, $0.seed.kind, $0.seed.extra) }
        DispatchQueue.concurrentPerform(iterations: 2) { worker in
            for i in stride(from: worker, to: jobs.count, by: 2) {
                let (file, kind, extra) = jobs[i]
                outcomes.set(i, try? CLI.outcome(exe, ["inspect", file.path, "--as", kind] + extra, timeout: Self.timeout))
            }
        }
        var refused = 0
        for (i, r) in outcomes.values.enumerated() {
            let file = cases[i].file.path
            guard let r else { Issue.record("\(file): could not run inspect"); continue }
            #expect(!r.signalled, "\(file): ended by signal \(r.status) (or hung past \(Self.timeout) s): \(r.err)")
            #expect(r.status == 0 || r.status == 1, "\(file): exit \(r.status): \(r.err)")
            if r.status == 1 {
                refused += 1
                let lines = r.err.split(separator: "\n").filter { !$0.hasPrefix("noisy-student:") }
                #expect(lines.count == 1 && lines[0].contains(file), "\(file): \(r.err)")
            }
        }
        #expect(refused > cases.count / 3, "only \(refused) of \(cases.count) mutants were refused: are the mutations reaching the readers?")
    }
}

/// Per-index outcomes written by the two workers.
private final class Outcomes: @unchecked Sendable {
    private var storage: [CLI.Outcome?]
    private let lock = NSLock()
    init(count: Int) { storage = Array(repeating: nil, count: count) }
    func set(_ i: Int, _ o: CLI.Outcome?) { lock.lock(); storage[i] = o; lock.unlock() }
    var values: [CLI.Outcome?] { lock.lock(); defer { lock.unlock() }; return storage }
}
