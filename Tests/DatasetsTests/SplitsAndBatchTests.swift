import Foundation
import Testing
@testable import Datasets

@Suite struct SplitsAndBatchTests {
    func toySet(_ n: Int) -> ImageSet {
        var pixels: [UInt8] = []
        for i in 0..<n { pixels += [UInt8](repeating: UInt8(i % 256), count: 4 * 4 * 3) }
        return ImageSet(height: 4, width: 4, channels: 3, pixels: pixels, labels: (0..<n).map { Int32($0 % 10) })
    }

    @Test func labeledPerClassValidationAndPool() throws {
        let train = toySet(1000), test = toySet(50)
        let spec = SplitSpec(labeledPerClass: 7, validationCount: 100, seed: 3)
        let s = try Splits.make(train: train, test: test, spec: spec)
        #expect(s.labeled.labelCounts() == [Int](repeating: 7, count: 10))
        #expect(s.validation.count == 100)
        #expect(s.unlabeled.count == 1000 - 100 - 70)
        #expect(s.unlabeled.images.labels.allSatisfy { $0 == -1 })
        #expect(s.unlabeled.heldOutTrueLabels.count == s.unlabeled.count)
        #expect(s.test == test)
        // Disjoint and complete.
        let parts = try Splits.partition(labels: train.labels, spec: spec)
        let all = Set(parts.labeled + parts.validation + parts.rest)
        #expect(all.count == 1000)
        // Same seed, same split; another seed, another split.
        #expect(try Splits.partition(labels: train.labels, spec: spec) == parts)
        var other = spec; other.seed = 4
        #expect(try Splits.partition(labels: train.labels, spec: other).labeled != parts.labeled)
    }

    @Test func heldOutLabelsAreTheTrueOnes() throws {
        let train = toySet(250)  // pixel value = index (below 256)
        let s = try Splits.make(train: train, test: toySet(5), spec: SplitSpec(labeledPerClass: 2, validationCount: 10, seed: 1))
        // Pixel value i % 256 encodes the index, label = index % 10.
        for k in 0..<s.unlabeled.count {
            let index = Int(s.unlabeled.images.image(k).first ?? 0)
            #expect(Int(s.unlabeled.heldOutTrueLabels[k]) == index % 10)
        }
    }

    @Test func notEnoughData() {
        #expect(throws: DatasetError.self) {
            try Splits.make(train: toySet(50), test: toySet(5), spec: SplitSpec(labeledPerClass: 6, validationCount: 0, seed: 1))
        }
        #expect(throws: DatasetError.self) {
            try Splits.make(train: toySet(50), test: toySet(5), spec: SplitSpec(labeledPerClass: 1, validationCount: 60, seed: 1))
        }
    }

    @Test func syntheticSplits() throws {
        let g = SyntheticHouseNumbers()
        let s = try Splits.synthetic(generator: g, spec: SplitSpec(labeledPerClass: 10, validationCount: 50, seed: 8),
                                     unlabeledCount: 300, testCount: 100, threads: 2)
        #expect(s.labeled.labelCounts() == [Int](repeating: 10, count: 10))
        #expect(s.unlabeled.count == 300 && s.validation.count == 50 && s.test.count == 100)
        #expect(s.test.pixels != s.validation.pixels)
    }

    @Test func svhnStyleSplitUsesExtraAsPool() throws {
        let s = try Splits.svhn(train: toySet(200), extra: toySet(120), test: toySet(10),
                                spec: SplitSpec(labeledPerClass: 3, validationCount: 20, unlabeledCount: 60, seed: 2))
        #expect(s.labeled.count == 30 && s.validation.count == 20 && s.unlabeled.count == 60)
    }

    @Test func floatBatchNormalises() {
        let set = ImageSet(height: 1, width: 2, channels: 3, pixels: [0, 255, 51, 102, 0, 255], labels: [4])
        let unit = set.floatBatch(indices: [0], normalization: .unit(channels: 3))
        for (a, b) in zip(unit.images, [0, 1, 0.2, 0.4, 0, 1] as [Float]) { #expect(abs(a - b) < 1e-6) }
        let norm = Normalization(mean: [0.5, 0.5, 0.5], std: [0.25, 0.5, 1])
        let b = set.floatBatch(indices: [0, 0], normalization: norm)
        #expect(b.labels == [4, 4] && b.images.count == 12)
        let expected: [Float] = [-2, 1, -0.3, -0.4, -1, 0.5]
        for i in 0..<6 { #expect(abs(b.images[i] - expected[i]) < 1e-5) }
        let stats = set.channelStatistics()
        #expect(stats.mean.count == 3)
    }

    @Test func checksumVerification() throws {
        let path = NSTemporaryDirectory() + "md5-\(getpid()).bin"
        try Data("The quick brown fox jumps over the lazy dog".utf8).write(to: URL(fileURLWithPath: path))
        try SVHNDownload.verify(path: path, expected: "9E107D9D372BB6826BD81D3542A419D6")
        #expect { try SVHNDownload.verify(path: path, expected: SVHNDownload.files[0].md5) } throws: { e in
            if case .checksumMismatch(_, let expected, let actual)? = e as? DatasetError {
                return expected == "e26dedcc434d2e4c54c9b2d4a06d8373" && actual == "9e107d9d372bb6826bd81d3542a419d6"
            }
            return false
        }
        #expect(SVHNDownload.files.map(\.name) == ["train_32x32.mat", "test_32x32.mat", "extra_32x32.mat"])
        #expect(SVHNDownload.files[2].url == "http://ufldl.stanford.edu/housenumbers/extra_32x32.mat")
    }

    @Test func fetchSkipsVerifiedFilesWithoutNetwork() throws {
        let dir = NSTemporaryDirectory() + "fetch-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try Data("abc".utf8).write(to: URL(fileURLWithPath: dir + "/fake.mat"))
        let outcomes = try SVHNDownload.fetch(into: dir, files: [.init(name: "fake.mat", md5: "900150983cd24fb0d6963f7d28e17f72")], log: { _ in })
        #expect(outcomes == [.alreadyPresent])
    }
}

@Suite struct DatasetLoadingTests {
    @Test func syntheticSplitsHaveTheAskedSizes() throws {
        let s = try Splits.synthetic(generator: SyntheticHouseNumbers(), spec: SplitSpec(labeledPerClass: 4, validationCount: 20, seed: 2),
                                     unlabeledCount: 100, testCount: 40)
        #expect(s.labeled.count == 40 && s.unlabeled.count == 100 && s.test.count == 40 && s.validation.count == 20)
    }

    @Test func missingSVHNDirectoryNamesTheFile() {
        #expect { try SVHN.loadDirectory("/nonexistent", includeExtra: false) } throws: { e in
            (e as? DatasetError)?.description.contains("/nonexistent/train_32x32.mat") ?? false
        }
    }
}
