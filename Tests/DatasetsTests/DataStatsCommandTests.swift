import Foundation
import Testing
@testable import Datasets

/// The `noisy-student data-stats` command as a user runs it (when the executable has been built
/// beside the test bundle, which `swift build --build-tests` and `swift test` do).
@Suite struct DataStatsCommandTests {
    static var executable: String? {
        let dir = URL(fileURLWithPath: CommandLine.arguments.first ?? "").deletingLastPathComponent()
        for candidate in [dir, dir.deletingLastPathComponent(), dir.deletingLastPathComponent().deletingLastPathComponent()] {
            let path = candidate.appendingPathComponent("noisy-student").path
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        let fallback = FileManager.default.currentDirectoryPath + "/.build/debug/noisy-student"
        return FileManager.default.isExecutableFile(atPath: fallback) ? fallback : nil
    }

    static func run(_ args: [String]) throws -> (status: Int32, out: String, err: String) {
        guard let exe = executable else { return (-1, "", "no executable") }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: exe)
        p.arguments = args
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        p.waitUntilExit()
        return (p.terminationStatus,
                String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self),
                String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))
    }

    @Test(.enabled(if: executable != nil, "noisy-student is not built"))
    func printsOneJSONObject() throws {
        let path = try SVHNTests.writeMat("stats", count: 40, compress: true, labels: "np.array([[10]] * 4 + [[k % 10 + 1] for k in range(36)])")
        let r = try Self.run(["data-stats", "--svhn-file", path + ".mat"])
        #expect(r.status == 0, "\(r.err)")
        let lines = r.out.split(separator: "\n")
        #expect(lines.count == 1)
        let json = try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any]
        #expect(json?["count"] as? Int == 40)
        #expect(json?["height"] as? Int == 32 && json?["width"] as? Int == 32 && json?["channels"] as? Int == 3)
        let expected = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path + ".expected")))
        #expect((json?["pixelSum"] as? NSNumber)?.uint64Value == expected.reduce(UInt64(0)) { $0 + UInt64($1) })
        let set = try SVHN.load(path: path + ".mat")
        #expect(json?["labelCounts"] as? [Int] == set.labelCounts())
    }

    @Test(.enabled(if: executable != nil, "noisy-student is not built"))
    func badFileFailsWithOneLine() throws {
        let bad = NSTemporaryDirectory() + "bad-\(getpid()).mat"
        try Data([UInt8](repeating: 1, count: 50)).write(to: URL(fileURLWithPath: bad))
        let r = try Self.run(["data-stats", "--svhn-file", bad])
        #expect(r.status != 0)
        #expect(r.out.isEmpty)
        #expect(r.err.split(separator: "\n").count == 1 && r.err.contains(bad))
    }

    @Test func hugeClaimedSizeIsRefusedBeforeAllocating() throws {
        // An uncompressed file whose X claims 32x32x3x1,000,000 (3 GB) in a 200-byte file.
        func u32(_ v: UInt32) -> [UInt8] { withUnsafeBytes(of: v.littleEndian) { Array($0) } }
        var header = [UInt8](repeating: 0x20, count: 128)
        let text = Array("MATLAB 5.0 MAT-file, test".utf8)
        header.replaceSubrange(0..<text.count, with: text)
        header[124] = 0x00; header[125] = 0x01; header[126] = 0x49; header[127] = 0x4D
        var body: [UInt8] = []
        body += u32(6) + u32(8) + u32(9) + u32(0)                       // flags: uint8 class
        body += u32(5) + u32(16) + u32(32) + u32(32) + u32(3) + u32(1_000_000)  // dims
        body += u32(1 | (1 << 16)) + Array("X".utf8) + [0, 0, 0]       // small-format name
        body += u32(2) + u32(3072 * 1_000_000)                          // data tag, no data
        let file = header + u32(14) + u32(UInt32(body.count)) + body
        let path = NSTemporaryDirectory() + "huge-\(getpid()).mat"
        try Data(file).write(to: URL(fileURLWithPath: path))
        #expect(throws: DatasetError.self) { try SVHN.load(path: path) }
    }
}

@Suite struct BigEndianMATTests {
    /// A hand-built big-endian ("MI") level-5 file: tags, flags and dimensions byte-swapped.
    @Test func readsBigEndianFiles() throws {
        func u32(_ v: UInt32) -> [UInt8] { withUnsafeBytes(of: v.bigEndian) { Array($0) } }
        func matrix(name: String, classID: UInt32, dims: [UInt32], type: UInt32, data: [UInt8]) -> [UInt8] {
            var body: [UInt8] = u32(6) + u32(8) + u32(classID) + u32(0)
            body += u32(5) + u32(UInt32(4 * dims.count)) + dims.flatMap(u32)
            if dims.count % 2 == 1 { body += [0, 0, 0, 0] }
            body += u32(1) + u32(UInt32(name.utf8.count)) + Array(name.utf8)
            body += [UInt8](repeating: 0, count: (8 - name.utf8.count % 8) % 8)
            body += u32(type) + u32(UInt32(data.count)) + data
            body += [UInt8](repeating: 0, count: (8 - data.count % 8) % 8)
            return u32(14) + u32(UInt32(body.count)) + body
        }
        var header = [UInt8](repeating: 0x20, count: 128)
        header.replaceSubrange(0..<10, with: Array("MATLAB 5.0".utf8))
        header[124] = 0x01; header[125] = 0x00; header[126] = 0x4D; header[127] = 0x49
        let n = 2
        let x = (0..<(3072 * n)).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        // y as big-endian doubles 10 and 3.
        let y = [10.0, 3.0].flatMap { d in withUnsafeBytes(of: d.bitPattern.bigEndian) { Array($0) } }
        let file = header + matrix(name: "X", classID: 9, dims: [32, 32, 3, UInt32(n)], type: 2, data: x)
            + matrix(name: "y", classID: 6, dims: [UInt32(n), 1], type: 9, data: y)
        let path = NSTemporaryDirectory() + "be-\(getpid()).mat"
        try Data(file).write(to: URL(fileURLWithPath: path))
        let set = try SVHN.load(path: path)
        #expect(set.labels == [0, 3])
        // Column-major source: X(row, col, ch, n) at row + 32 col + 1024 ch + 3072 n.
        for (row, col, ch, k) in [(0, 0, 0, 0), (5, 7, 2, 1), (31, 31, 1, 1), (17, 3, 0, 0)] {
            #expect(set.pixels[((k * 32 + row) * 32 + col) * 3 + ch] == x[row + 32 * col + 1024 * ch + 3072 * k])
        }
    }
}
