import Foundation
import Testing
@testable import Datasets

/// SVHN .mat files written by an independent writer (scipy.io.savemat), checked pixel by pixel.
@Suite struct SVHNTests {
    /// Writes `name.mat` with scipy plus `name.expected` (NHWC bytes) and `name.labels` (digits).
    static func writeMat(_ name: String, count: Int, compress: Bool, yType: String = "uint8",
                         xShape: String = "(32, 32, 3, n)", labels: String? = nil, seed: Int = 0) throws -> String {
        let dir = NSTemporaryDirectory() + "svhn-tests-\(getpid())/"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let path = dir + name
        let script = """
        import numpy as np, scipy.io, sys
        n = \(count)
        rng = np.random.default_rng(\(seed))
        X = rng.integers(0, 256, size=\(xShape), dtype=np.uint8)
        y = \(labels ?? "rng.integers(1, 11, size=(n, 1))").astype(np.\(yType))
        scipy.io.savemat('\(path).mat', {'X': X, 'y': y}, do_compression=\(compress ? "True" : "False"))
        if X.ndim == 4 and X.shape[:3] == (32, 32, 3):
            open('\(path).expected', 'wb').write(np.ascontiguousarray(np.transpose(X, (3, 0, 1, 2))).tobytes())
            open('\(path).labels', 'wb').write((np.asarray(y).reshape(-1).astype(np.int64) % 10).astype(np.uint8).tobytes())
        """
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", script]
        try p.run()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0, "scipy could not write the test file")
        return path
    }

    @Test(arguments: [(false, "uint8"), (true, "uint8"), (false, "float64"), (true, "float64"), (true, "int32")])
    func everyPixelAndLabel(compress: Bool, yType: String) throws {
        let path = try Self.writeMat("x-\(compress)-\(yType)", count: 257, compress: compress, yType: yType)
        let set = try SVHN.load(path: path + ".mat")
        let expected = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path + ".expected")))
        let labels = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path + ".labels")))
        #expect(set.count == 257 && set.height == 32 && set.width == 32 && set.channels == 3)
        #expect(set.pixels == expected)
        #expect(set.labels == labels.map { Int32($0) })
    }

    @Test func largeCompressedFileStreams() throws {
        // More than one 1024-image block, so the streaming transpose crosses block boundaries.
        let path = try Self.writeMat("large", count: 2500, compress: true)
        let set = try SVHN.load(path: path + ".mat")
        let expected = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path + ".expected")))
        #expect(set.pixels == expected)
        let stats = SVHN.Stats(set)
        #expect(stats.pixelSum == expected.reduce(UInt64(0)) { $0 + UInt64($1) })
        #expect(stats.labelCounts.reduce(0, +) == 2500)
    }

    @Test func singleImageFile() throws {
        let path = try Self.writeMat("one", count: 1, compress: false, xShape: "(32, 32, 3, 1)")
        let set = try SVHN.load(path: path + ".mat")
        #expect(set.count == 1)
        #expect(set.pixels == (try [UInt8](Data(contentsOf: URL(fileURLWithPath: path + ".expected")))))
    }

    @Test func tenMeansZero() throws {
        let path = try Self.writeMat("tens", count: 4, compress: true, labels: "np.array([[10], [1], [9], [10]])")
        let set = try SVHN.load(path: path + ".mat")
        #expect(set.labels == [0, 1, 9, 0])
        #expect(SVHN.Stats(set).labelCounts == [2, 1, 0, 0, 0, 0, 0, 0, 0, 1])
    }

    @Test func statsJSONShape() throws {
        let set = ImageSet(height: 32, width: 32, channels: 3, pixels: [UInt8](repeating: 2, count: 3072 * 2), labels: [3, 0])
        let json = SVHN.Stats(set).json
        #expect(json == "{\"count\": 2, \"height\": 32, \"width\": 32, \"channels\": 3, \"labelCounts\": [1, 0, 0, 1, 0, 0, 0, 0, 0, 0], \"pixelSum\": 12288}")
        let decoded = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
        #expect(decoded?["count"] as? Int == 2)
    }

    @Test(arguments: ["np.array([[0], [1], [2]])", "np.array([[11], [1], [2]])", "np.array([[1.5], [1], [2]])"])
    func labelOutOfRange(labels: String) throws {
        let path = try Self.writeMat("badlabel-\(labels.hashValue)", count: 3, compress: false, yType: "float64", labels: labels)
        #expect(throws: DatasetError.self) { try SVHN.load(path: path + ".mat") }
        do { _ = try SVHN.load(path: path + ".mat") } catch let e as DatasetError {
            switch e {
            case .labelOutOfRange(let file, let index, _), .invalidLabel(let file, let index, _, _):
                #expect(file.hasSuffix(".mat") && index == 0)
            default: Issue.record("wrong error \(e)")
            }
        }
    }

    /// Issue 17, item 12: NaN and 1e20 labels are named as stored, not as -9223372036854775808.
    @Test(arguments: [("np.array([[np.nan], [1], [2]])", "nan"), ("np.array([[1e20], [1], [2]])", "1e+20")])
    func labelNotAWholeNumberIsPrintedAsStored(labels: String, printed: String) throws {
        let path = try Self.writeMat("nanlabel-\(printed)", count: 3, compress: false, yType: "float64", labels: labels)
        #expect { try SVHN.load(path: path + ".mat") } throws: { e in
            let text = "\(e)"
            return text.contains("label \(printed) of image 0") && !text.contains("9223372036854775808")
        }
    }

    @Test func wrongShapes() throws {
        let grey = try Self.writeMat("grey", count: 5, compress: true, xShape: "(32, 32, 1, n)")
        #expect { try SVHN.load(path: grey + ".mat") } throws: { e in
            if case .wrongShape(_, "X", _, _)? = e as? DatasetError { return true }
            return false
        }
        let small = try Self.writeMat("small", count: 5, compress: false, xShape: "(28, 28, 3, n)")
        #expect(throws: DatasetError.self) { try SVHN.load(path: small + ".mat") }
        let mismatch = try Self.writeMat("mismatch", count: 5, compress: false, labels: "np.ones((4, 1))")
        #expect { try SVHN.load(path: mismatch + ".mat") } throws: { e in
            if case .wrongShape(_, "y", _, _)? = e as? DatasetError { return true }
            return false
        }
    }

    @Test func truncatedFilesAlwaysThrow() throws {
        for compress in [false, true] {
            let path = try Self.writeMat("trunc-\(compress)", count: 20, compress: compress)
            let bytes = try Data(contentsOf: URL(fileURLWithPath: path + ".mat"))
            let cut = path + ".cut.mat"
            for length in [0, 10, 127, 128, 136, 200, bytes.count / 2, bytes.count - 100, bytes.count - 1] {
                try bytes.prefix(length).write(to: URL(fileURLWithPath: cut))
                #expect(throws: DatasetError.self, "length \(length) of \(bytes.count)") { try SVHN.load(path: cut) }
            }
        }
    }

    @Test func corruptedBytesNeverCrash() throws {
        // Flip bytes at many positions: every outcome must be a loaded set or a DatasetError.
        for compress in [false, true] {
            let path = try Self.writeMat("fuzz-\(compress)", count: 3, compress: compress)
            let original = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path + ".mat")))
            var state: UInt64 = 12345
            for trial in 0..<300 {
                var bytes = original
                for _ in 0..<(1 + trial % 4) {
                    state = state &* 6364136223846793005 &+ 1442695040888963407
                    let at = 116 + Int(state >> 33) % (bytes.count - 116)
                    bytes[at] = UInt8(truncatingIfNeeded: state >> 13)
                }
                let fuzz = path + ".fuzz.mat"
                try Data(bytes).write(to: URL(fileURLWithPath: fuzz))
                do {
                    let set = try SVHN.load(path: fuzz)
                    #expect(set.count == 3)
                } catch is DatasetError {
                } catch {
                    Issue.record("unexpected error type \(error)")
                }
            }
        }
    }

    @Test func refusesOtherFormats() throws {
        let dir = NSTemporaryDirectory()
        // MATLAB v7.3: a 512-byte text header with version 0x0200, then HDF5.
        var v73 = [UInt8](repeating: 0x20, count: 512)
        let text = Array("MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: Mon Jan 1 HDF5 schema 1.00 .".utf8)
        v73.replaceSubrange(0..<text.count, with: text)
        v73[124] = 0x00; v73[125] = 0x02; v73[126] = 0x49; v73[127] = 0x4D
        v73 += [0x89, 0x48, 0x44, 0x46, 0x0D, 0x0A, 0x1A, 0x0A]
        try Data(v73).write(to: URL(fileURLWithPath: dir + "v73.mat"))
        #expect { try SVHN.load(path: dir + "v73.mat") } throws: { e in
            if case .unsupportedFormat(_, let reason)? = e as? DatasetError { return reason.contains("7.3") }
            return false
        }
        try Data([0x89, 0x48, 0x44, 0x46] + [UInt8](repeating: 0, count: 600)).write(to: URL(fileURLWithPath: dir + "h5.mat"))
        #expect(throws: DatasetError.self) { try SVHN.load(path: dir + "h5.mat") }
        try Data([UInt8](repeating: 7, count: 300)).write(to: URL(fileURLWithPath: dir + "junk.mat"))
        #expect(throws: DatasetError.self) { try SVHN.load(path: dir + "junk.mat") }
        #expect { try SVHN.load(path: dir + "does-not-exist.mat") } throws: { e in
            if case .unreadable? = e as? DatasetError { return true }
            return false
        }
    }

    @Test func missingVariable() throws {
        let dir = NSTemporaryDirectory()
        let script = "import numpy as np, scipy.io; scipy.io.savemat('\(dir)onlyX.mat', {'X': np.zeros((32,32,3,2), np.uint8)})"
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", script]
        try p.run(); p.waitUntilExit()
        #expect { try SVHN.load(path: dir + "onlyX.mat") } throws: { e in
            if case .missing(_, let what)? = e as? DatasetError { return what.contains("'y'") }
            return false
        }
    }

    @Test func errorMessagesNameTheFile() {
        let e = DatasetError.truncated(file: "/data/train_32x32.mat", detail: "element at byte 128 announces 9 bytes")
        #expect(e.description.hasPrefix("/data/train_32x32.mat: truncated"))
        #expect(!e.description.contains("\n"))
    }
}
