import Crypto
import Foundation

/// SHA-256 as lowercase hex, the one hash the weaver uses for keys and checksums.
enum Digest {
    static func hex(_ data: Data) -> String {
        SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
    }

    static func hex(_ text: String) -> String { hex(Data(text.utf8)) }

    /// Streams the file so that multi-gigabyte checkpoints do not have to fit in memory.
    static func file(_ url: URL) throws -> String {
        let handle = try FileHandle(forReadingFrom: url)
        defer { try? handle.close() }
        var hasher = SHA256()
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
            hasher.update(data: chunk)
        }
        return hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }
}
