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
