import Foundation
import SystemSupport

/// SHA-256 as lowercase hex, the one hash the weaver uses for keys and checksums (libcrypto,
/// through SystemSupport's `MessageDigest`).
enum Digest {
    static func hex(_ data: Data) -> String { MessageDigest.hex(.sha256, of: data) }

    static func hex(_ text: String) -> String { hex(Data(text.utf8)) }

    /// Streams the file so that multi-gigabyte checkpoints do not have to fit in memory.
    static func file(_ url: URL) throws -> String { try MessageDigest.file(.sha256, at: url) }
}
