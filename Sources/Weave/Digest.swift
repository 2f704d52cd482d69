import CCrypto
import Foundation

/// SHA-256 as lowercase hex, the one hash the weaver uses for keys and checksums. It comes from
/// OpenSSL's libcrypto, a system library like OpenBLAS and Cairo, so a cold build compiles no
/// cryptography (swift-crypto's BoringSSL took about two minutes of every fresh build).
enum Digest {
    static func hex(_ data: Data) -> String {
        let hasher = SHA256Stream()
        hasher.update(data)
        return hasher.finalize()
    }

    static func hex(_ text: String) -> String { hex(Data(text.utf8)) }

    /// Streams the file so that multi-gigabyte checkpoints do not have to fit in memory.
    static func file(_ url: URL) throws -> String {
        let handle = try FileHandle(forReadingFrom: url)
        defer { try? handle.close() }
        let hasher = SHA256Stream()
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
            hasher.update(chunk)
        }
        return hasher.finalize()
    }
}

/// Incremental SHA-256 over libcrypto's EVP interface (one context, freed on deinit).
final class SHA256Stream {
    private let context: OpaquePointer

    init() {
        // Only fails when memory runs out; there is nothing sensible to return instead.
        guard let context = EVP_MD_CTX_new() else { fatalError("libcrypto: cannot allocate a digest context") }
        guard EVP_DigestInit_ex(context, EVP_sha256(), nil) == 1 else { fatalError("libcrypto: SHA-256 unavailable") }
        self.context = context
    }

    deinit { EVP_MD_CTX_free(context) }

    func update(_ data: Data) {
        data.withUnsafeBytes { bytes in
            guard bytes.count > 0 else { return }
            _ = EVP_DigestUpdate(context, bytes.baseAddress, bytes.count)
        }
    }

    func finalize() -> String {
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        _ = EVP_DigestFinal_ex(context, &digest, &length)
        return digest.prefix(Int(length)).map { String(format: "%02x", $0) }.joined()
    }
}
