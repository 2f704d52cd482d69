import Foundation
import Testing
@testable import Datasets

/// Issue 17, item 5: the decoded-folder cache is keyed by content, so a file replaced by one of
/// the same size with its modification time restored (`cp -p`, `rsync -a`, `tar`) is decoded
/// again instead of keeping its old pixels.
@Suite struct ImageFolderCacheTests {
    /// Two 4x4 RGB PNGs of equal size (stored, uncompressed deflate): grey 10 and grey 200.
    static let writer = #"""
import struct, sys, zlib
def png(path, v):
    raw = b"".join(b"\x00" + bytes([v] * 12) for _ in range(4))
    c = lambda t, d: struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
    open(path, "wb").write(b"\x89PNG\r\n\x1a\n" + c(b"IHDR", struct.pack(">IIBBBBB", 4, 4, 8, 2, 0, 0, 0)) + c(b"IDAT", zlib.compress(raw, 0)) + c(b"IEND", b""))
png(sys.argv[1], 10); png(sys.argv[2], 200)
"""#

    @Test func replacedFileWithRestoredMtimeIsDecodedAgain() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cache-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let a = dir.appendingPathComponent("a.png"), b = dir.appendingPathComponent("b.png")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", Self.writer, a.path, b.path]
        try p.run(); p.waitUntilExit()
        let options = ImageFolder.Options(size: 4, threads: 1, cacheDirectory: dir.appendingPathComponent("cache"))
        func decode() throws -> [UInt8] {
            guard case .success(let px)? = try ImageFolder.decodeAll([a.path], options: options).first else { return [] }
            return px
        }
        #expect(try decode() == [UInt8](repeating: 10, count: 48))
        #expect(try decode() == [UInt8](repeating: 10, count: 48))  // from the cache
        // `cp -p b a`: same size, a's old modification time.
        let attributes = try FileManager.default.attributesOfItem(atPath: a.path)
        #expect(attributes[.size] as? Int == (try FileManager.default.attributesOfItem(atPath: b.path))[.size] as? Int)
        try FileManager.default.removeItem(at: a)
        try FileManager.default.copyItem(at: b, to: a)
        try FileManager.default.setAttributes([.modificationDate: attributes[.modificationDate] as Any], ofItemAtPath: a.path)
        #expect(try decode() == [UInt8](repeating: 200, count: 48))
    }
}
