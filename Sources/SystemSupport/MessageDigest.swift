import CCrypto
import Foundation

/// Incremental MD5 or SHA-256 over OpenSSL libcrypto's EVP interface, as lowercase hex.
/// SHA-256 keys the weaver's cache; MD5 compares SVHN downloads with their published checksums
/// and fingerprints dataset content (not for security). libcrypto is a system library like
/// OpenBLAS, so a cold build compiles no cryptography.
public final class MessageDigest {
    /// The hash function.
    public enum Algorithm: Sendable { case md5, sha256 }

    private let context: OpaquePointer

    /// A fresh digest of nothing yet.
    public init(_ algorithm: Algorithm) {
        // Both only fail when memory runs out (or libcrypto lacks a standard digest): there is
        // nothing sensible to return instead.
        guard let context = EVP_MD_CTX_new() else { fatalError("libcrypto: cannot allocate a digest context") }
        let md = algorithm == .md5 ? EVP_md5() : EVP_sha256()
        guard EVP_DigestInit_ex(context, md, nil) == 1 else { fatalError("libcrypto: \(algorithm) unavailable") }
        self.context = context
    }

    deinit { EVP_MD_CTX_free(context) }

    /// Adds bytes to the message.
    public func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        _ = EVP_DigestUpdate(context, base, bytes.count)
    }

    /// Adds bytes to the message.
    public func update(_ data: Data) { data.withUnsafeBytes { update($0) } }

    /// Adds bytes to the message.
    public func update(_ bytes: [UInt8]) { bytes.withUnsafeBytes { update($0) } }

    /// The digest of everything added, as lowercase hex (32 digits for MD5, 64 for SHA-256).
    /// Call once: the digest is finished afterwards.
    public func finalize() -> String {
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        _ = EVP_DigestFinal_ex(context, &digest, &length)
        return digest.prefix(Int(length)).map { String(format: "%02x", $0) }.joined()
    }

    /// The digest of `data` as lowercase hex.
    public static func hex(_ algorithm: Algorithm, of data: Data) -> String {
        let digest = MessageDigest(algorithm)
        digest.update(data)
        return digest.finalize()
    }

    /// The digest of a whole file as lowercase hex, read in 4 MiB chunks so multi-gigabyte
    /// files (SVHN's extra set, checkpoints) need not fit in memory.
    /// - Throws: Foundation's error when the file cannot be opened or read.
    public static func file(_ algorithm: Algorithm, at url: URL) throws -> String {
        let handle = try FileHandle(forReadingFrom: url)
        defer { try? handle.close() }
        let digest = MessageDigest(algorithm)
        while let chunk = try handle.read(upToCount: 4 << 20), !chunk.isEmpty {
            digest.update(chunk)
        }
        return digest.finalize()
    }
}
