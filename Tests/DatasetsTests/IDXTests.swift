import Foundation
import Testing
@testable import Datasets

@Suite struct IDXTests {
    static let installed = FileManager.default.fileExists(atPath: FashionMNIST.defaultDirectory + "/train-images-idx3-ubyte.gz")

    @Test(.enabled(if: installed, "needs Debian's dataset-fashion-mnist"))
    func realFashionMNIST() throws {
        let train = try FashionMNIST.train()
        let test = try FashionMNIST.test()
        #expect(train.count == 60_000 && test.count == 10_000)
        #expect(train.height == 28 && train.width == 28 && train.channels == 1)
        #expect(train.labelCounts() == [Int](repeating: 6000, count: 10))
        #expect(test.labelCounts() == [Int](repeating: 1000, count: 10))
        #expect(train.pixels.count == 60_000 * 784)
        // Not all black and not all white: real images.
        let mean = Double(train.pixelSum) / Double(train.pixels.count)
        #expect(mean > 50 && mean < 100)
    }

    static func header(_ type: UInt8, _ dims: [Int]) -> [UInt8] {
        var b: [UInt8] = [0, 0, type, UInt8(dims.count)]
        for d in dims { b += [UInt8(d >> 24 & 255), UInt8(d >> 16 & 255), UInt8(d >> 8 & 255), UInt8(d & 255)] }
        return b
    }

    @Test func parsesWellFormedBytes() throws {
        let a = try IDX.parse(Self.header(8, [2, 3]) + [1, 2, 3, 4, 5, 6], file: "x")
        #expect(a.dims == [2, 3] && a.bytes == [1, 2, 3, 4, 5, 6])
    }

    @Test func malformedBytes() {
        let cases: [[UInt8]] = [
            [],
            [0, 0],
            [1, 0, 8, 1, 0, 0, 0, 1, 9],                // bad magic
            Self.header(0x0D, [1]) + [0, 0, 0, 0],      // float elements
            Self.header(8, [2, 3]) + [1, 2, 3],          // truncated data
            Self.header(8, [2, 3]) + [UInt8](repeating: 0, count: 7),  // trailing byte
            [0, 0, 8, 3, 0, 0],                          // truncated dimensions
            [0, 0, 8, 0],                                // zero dimensions
            Self.header(8, [0x7FFF_FFFF, 0x7FFF_FFFF]),  // absurd size
        ]
        for bytes in cases {
            #expect(throws: DatasetError.self, "\(bytes.prefix(12))") { try IDX.parse(bytes, file: "bad.idx") }
        }
    }

    func write(_ bytes: [UInt8], gzip: Bool) throws -> String {
        let path = NSTemporaryDirectory() + "idx-\(UUID().uuidString)" + (gzip ? ".gz" : "")
        if gzip {
            let raw = path + ".raw"
            try Data(bytes).write(to: URL(fileURLWithPath: raw))
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            p.arguments = ["sh", "-c", "gzip -c '\(raw)' > '\(path)'"]
            try p.run(); p.waitUntilExit()
        } else {
            try Data(bytes).write(to: URL(fileURLWithPath: path))
        }
        return path
    }

    @Test func gzipRoundTripAndCorruption() throws {
        let images = Self.header(8, [3, 2, 2]) + Array(0..<12)
        let labels = Self.header(8, [3]) + [0, 9, 4]
        let ip = try write(images, gzip: true), lp = try write(labels, gzip: true)
        let set = try IDX.loadImages(imagesPath: ip, labelsPath: lp)
        #expect(set.count == 3 && set.height == 2 && set.width == 2 && set.channels == 1)
        #expect(set.pixels == Array(0..<12) && set.labels == [0, 9, 4])

        // A truncated gzip stream and a damaged one.
        let gz = try [UInt8](Data(contentsOf: URL(fileURLWithPath: ip)))
        let cut = try write([], gzip: false)
        try Data(gz.prefix(gz.count - 12)).write(to: URL(fileURLWithPath: cut))
        #expect(throws: DatasetError.self) { try IDX.read(path: cut) }
        var damaged = gz
        damaged[damaged.count - 6] ^= 0xFF  // CRC-32 of the data
        try Data(damaged).write(to: URL(fileURLWithPath: cut))
        #expect(throws: DatasetError.self) { try IDX.read(path: cut) }

        // Label out of range and count mismatch.
        let bad = try write(Self.header(8, [3]) + [0, 10, 4], gzip: false)
        #expect { try IDX.loadImages(imagesPath: ip, labelsPath: bad) } throws: { e in
            if case .labelOutOfRange(_, 1, 10)? = e as? DatasetError { return true }
            return false
        }
        let short = try write(Self.header(8, [2]) + [0, 1], gzip: false)
        #expect(throws: DatasetError.self) { try IDX.loadImages(imagesPath: ip, labelsPath: short) }
        #expect(throws: DatasetError.self) { try IDX.loadImages(imagesPath: lp, labelsPath: lp) }
    }
}

extension IDXTests {
    /// Issue 17, item 6: multi-member gzip (pigz, bgzip, `cat a.gz b.gz`) reads as the
    /// concatenation of its members, zero padding after a member is ignored (as Python's gzip
    /// module does), and anything else after a member is an error.
    @Test func multiMemberGzipReads() throws {
        let bytes = Self.header(8, [3, 2, 2]) + Array(0..<12)
        let whole = try write(bytes, gzip: true)
        let a = try [UInt8](Data(contentsOf: URL(fileURLWithPath: try write(Array(bytes[0..<9]), gzip: true))))
        let b = try [UInt8](Data(contentsOf: URL(fileURLWithPath: try write(Array(bytes[9...]), gzip: true))))
        let joined = try write([], gzip: false) + ".gz"
        try Data(a + b).write(to: URL(fileURLWithPath: joined))
        #expect(try IDX.read(path: joined) == IDX.read(path: whole))
        try Data(a + b + [0, 0, 0, 0]).write(to: URL(fileURLWithPath: joined))
        #expect(try IDX.read(path: joined).bytes == Array(0..<12))
        try Data(a + b + [0x1F, 0x8B, 7]).write(to: URL(fileURLWithPath: joined))
        #expect(throws: DatasetError.self) { try IDX.read(path: joined) }
    }

    /// Issue 17, item 7: a zero-sized IDX dimension is an error naming the dimension.
    @Test func zeroSizedDimensionsAreRefused() {
        for dims in [[0, 28, 28], [10, 0, 28], [10, 28, 0]] {
            #expect { try IDX.parse(Self.header(8, dims), file: "zero.idx") } throws: { e in
                "\(e)".contains("zero.idx") && "\(e)".contains("is 0")
            }
        }
    }
}

@Suite struct FashionMNISTSplitTests {
    @Test(.enabled(if: IDXTests.installed, "needs Debian's dataset-fashion-mnist"))
    func splitsTheRealTrainingSet() throws {
        let train = try FashionMNIST.train(), test = try FashionMNIST.test()
        let s = try Splits.make(train: train, test: test, spec: SplitSpec(labeledPerClass: 100, validationCount: 5000, seed: 1))
        #expect(s.labeled.labelCounts() == [Int](repeating: 100, count: 10))
        #expect(s.validation.count == 5000 && s.unlabeled.count == 60_000 - 5000 - 1000 && s.test.count == 10_000)
        let rgb = s.labeled.expandedToRGB()
        #expect(rgb.channels == 3 && rgb.pixels.count == s.labeled.pixels.count * 3)
        #expect(rgb.pixels[0] == s.labeled.pixels[0] && rgb.pixels[2] == s.labeled.pixels[0])
    }
}
