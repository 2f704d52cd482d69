import CZlib
import Foundation
import SystemSupport

/// A versioned binary checkpoint: named Float32 tensors plus the architecture that made them.
///
/// Layout (little-endian):
///   "NSCKPT\r\n"  magic (8 bytes; the CR LF catches text-mode mangling)
///   UInt32        format version
///   UInt32        header length, then the header as JSON (architecture, metadata, tensor table)
///   Float32...    tensor data, in table order
///   UInt32        CRC-32 of everything above
/// Writes are atomic; reads check magic, version, lengths and checksum before trusting a byte.
public struct Checkpoint: Sendable {
    /// The first 8 bytes of every checkpoint file.
    public static let magic: [UInt8] = Array("NSCKPT\r\n".utf8)
    /// The format version this build writes and reads.
    public static let version: UInt32 = 1

    /// What built the tensors, as JSON (e.g. an encoded `ModelSpec`); compared on load.
    public var architecture: String
    /// Free-form facts (phase, step, seed, ...).
    public var metadata: [String: String]
    /// The tensors in file order, named as `Module.namedParameters` names them.
    public var tensors: [(name: String, tensor: Tensor)]

    /// A checkpoint in memory; `write(to:)` stores it.
    public init(architecture: String, metadata: [String: String] = [:], tensors: [(name: String, tensor: Tensor)]) {
        self.architecture = architecture; self.metadata = metadata; self.tensors = tensors
    }

    struct Header: Codable {
        struct Entry: Codable { var name: String; var shape: [Int] }
        var architecture: String
        var metadata: [String: String]
        var tensors: [Entry]
    }

    /// The first tensor called `name`, or nil.
    public func tensor(named name: String) -> Tensor? { tensors.first { $0.name == name }?.tensor }

    // MARK: Encoding

    /// The file's bytes (layout above). Throws only if the header cannot be JSON-encoded.
    public func encoded() throws -> Data {
        let header = Header(architecture: architecture, metadata: metadata,
                            tensors: tensors.map { .init(name: $0.name, shape: $0.tensor.shape) })
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = try encoder.encode(header)
        var data = Data(Self.magic)
        data.appendLE(Self.version)
        data.appendLE(UInt32(json.count))
        data.append(json)
        for (_, t) in tensors {
            t.scalars.withUnsafeBufferPointer { data.append(UnsafeBufferPointer(start: UnsafeRawPointer($0.baseAddress!).assumingMemoryBound(to: UInt8.self), count: $0.count * 4)) }
        }
        data.appendLE(Self.crc32(data))
        return data
    }

    /// Writes the checkpoint atomically (`AtomicFile`: temp file, fsync, rename).
    /// - Throws: `AtomicFileError` naming the path.
    public func write(to url: URL) throws {
        try AtomicFile.write(try encoded(), to: url)
    }

    // MARK: Decoding

    /// Reads and verifies a checkpoint file.
    /// - Throws: `CheckpointError` naming the file: unreadable, not a checkpoint, other version,
    /// truncated, CRC mismatch or malformed header.
    public static func read(from url: URL) throws -> Checkpoint {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw CheckpointError.unreadable(url.path, error.localizedDescription)
        }
        return try decode(data, path: url.path)
    }

    /// Parses checkpoint bytes, checking magic, version, lengths and CRC-32 before trusting any of it;
    /// `path` only names the source in errors.
    /// - Throws: `CheckpointError`, as `read(from:)`.
    public static func decode(_ data: Data, path: String = "<memory>") throws -> Checkpoint {
        let bytes = [UInt8](data)
        guard bytes.count >= magic.count + 12, Array(bytes[0..<magic.count]) == magic else {
            throw CheckpointError.notACheckpoint(path)
        }
        let version = bytes.readLE(at: 8)
        guard version == Self.version else { throw CheckpointError.unsupportedVersion(path, found: version, supported: Self.version) }
        let stored = bytes.readLE(at: bytes.count - 4)
        let computed = bytes.withUnsafeBufferPointer { crc32Bytes($0.baseAddress!, bytes.count - 4) }
        let headerLength = Int(bytes.readLE(at: 12))  // UInt32: no overflow below
        let headerStart = 16
        guard headerStart + headerLength <= bytes.count - 4 else {
            throw CheckpointError.truncated(path, expected: headerStart + headerLength + 4, actual: bytes.count)
        }
        let header: Header
        do {
            header = try JSONDecoder().decode(Header.self, from: Data(bytes[headerStart..<headerStart + headerLength]))
        } catch {
            throw stored == computed ? CheckpointError.malformedHeader(path, "\(error)") : CheckpointError.checksumMismatch(path)
        }
        var expected = headerStart + headerLength
        for e in header.tensors {
            guard e.shape.allSatisfy({ $0 >= 0 }) else { throw CheckpointError.malformedHeader(path, "negative shape for \(e.name)") }
            // Checked arithmetic: this module is built unchecked, and a forged shape must not
            // wrap around to a size that matches the file.
            var count = 1
            for d in e.shape {
                let (p, overflow) = count.multipliedReportingOverflow(by: d)
                guard !overflow, p <= bytes.count else {
                    throw CheckpointError.malformedHeader(path, "tensor \(e.name) of shape \(e.shape) is larger than the file")
                }
                count = p
            }
            expected += count * 4
            guard expected <= bytes.count else { throw CheckpointError.truncated(path, expected: expected + 4, actual: bytes.count) }
        }
        guard expected + 4 == bytes.count else {
            if expected + 4 > bytes.count { throw CheckpointError.truncated(path, expected: expected + 4, actual: bytes.count) }
            throw CheckpointError.malformedHeader(path, "\(bytes.count - expected - 4) unexpected trailing bytes")
        }
        guard stored == computed else { throw CheckpointError.checksumMismatch(path) }
        var tensors: [(name: String, tensor: Tensor)] = []
        var offset = headerStart + headerLength
        for e in header.tensors {
            let n = e.shape.reduce(1, *)
            let scalars = [Float](unsafeUninitializedCapacity: n) { buf, count in
                bytes.withUnsafeBytes { raw in
                    UnsafeMutableRawBufferPointer(buf).copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[offset..<offset + n * 4]))
                }
                count = n
            }
            tensors.append((e.name, Tensor(shape: e.shape, scalars: scalars)))
            offset += n * 4
        }
        return Checkpoint(architecture: header.architecture, metadata: header.metadata, tensors: tensors)
    }

    static func crc32(_ data: Data) -> UInt32 {
        data.withUnsafeBytes { crc32Bytes($0.baseAddress!.assumingMemoryBound(to: UInt8.self), data.count) }
    }
}

private func crc32Bytes(_ p: UnsafePointer<UInt8>, _ n: Int) -> UInt32 {
    var crc: UInt = CZlib.crc32(0, nil, 0)
    var off = 0
    while off < n {  // zlib takes a 32-bit length
        let chunk = min(n - off, 1 << 30)
        crc = CZlib.crc32(crc, p + off, UInt32(chunk))
        off += chunk
    }
    return UInt32(truncatingIfNeeded: crc)
}

/// Why a checkpoint could not be read or loaded into a model; each case names the file or tensor.
public enum CheckpointError: Error, CustomStringConvertible, Equatable {
    case unreadable(String, String)
    case notACheckpoint(String)
    case unsupportedVersion(String, found: UInt32, supported: UInt32)
    case truncated(String, expected: Int, actual: Int)
    case checksumMismatch(String)
    case malformedHeader(String, String)
    case architectureMismatch(expected: String, found: String)
    case missingTensor(String)
    case unexpectedTensor(String)
    case shapeMismatch(String, expected: [Int], found: [Int])

    /// What is wrong with the file as a container, without its path or the word "checkpoint":
    /// for files that share the format (pseudo-label files), whose readers name them their way.
    public var containerProblem: String {
        switch self {
        case .unreadable(_, let why): return "cannot read: \(why)"
        case .notACheckpoint: return "bad magic bytes"
        case .unsupportedVersion(_, let found, let supported): return "format version \(found), this build reads \(supported)"
        case .truncated(_, let expected, let actual): return "truncated: \(actual) bytes, expected \(expected)"
        case .checksumMismatch: return "CRC-32 mismatch"
        case .malformedHeader(_, let why): return "malformed header: \(why)"
        default: return description
        }
    }

    /// One line for the user, starting with the file when there is one.
    public var description: String {
        switch self {
        case .unreadable(let p, let why): return "\(p): cannot read checkpoint: \(why)"
        case .notACheckpoint(let p): return "\(p): not a checkpoint (bad magic bytes)"
        case .unsupportedVersion(let p, let f, let s): return "\(p): checkpoint format version \(f), this build reads version \(s)"
        case .truncated(let p, let e, let a): return "\(p): checkpoint is truncated (\(a) bytes, expected \(e))"
        case .checksumMismatch(let p): return "\(p): checkpoint is corrupt (CRC-32 mismatch)"
        case .malformedHeader(let p, let why): return "\(p): checkpoint header is malformed: \(why)"
        case .architectureMismatch(let e, let f): return "checkpoint was written by \(f), but the model is \(e)"
        case .missingTensor(let n): return "checkpoint has no tensor \(n)"
        case .unexpectedTensor(let n): return "checkpoint has tensor \(n), which the model does not have"
        case .shapeMismatch(let n, let e, let f): return "tensor \(n): the model expects shape \(e), the checkpoint has \(f)"
        }
    }
}

extension Module {
    /// The module's parameters (and running statistics) as checkpoint tensors.
    public func checkpointTensors(prefix: String = "model") -> [(name: String, tensor: Tensor)] {
        namedParameters.map { ("\(prefix).\($0.name)", $0.parameter.value) }
    }

    /// Loads parameters from a checkpoint, explaining the first mismatch (missing, extra, shape).
    public func load(from checkpoint: Checkpoint, prefix: String = "model") throws {
        let named = namedParameters
        var table: [String: Tensor] = [:]
        for (n, t) in checkpoint.tensors where n.hasPrefix(prefix + ".") { table[n] = t }
        for (n, p) in named {
            let key = "\(prefix).\(n)"
            guard let t = table[key] else { throw CheckpointError.missingTensor(key) }
            guard t.shape == p.value.shape else { throw CheckpointError.shapeMismatch(key, expected: p.value.shape, found: t.shape) }
        }
        let known = Set(named.map { "\(prefix).\($0.name)" })
        if let extra = table.keys.sorted().first(where: { !known.contains($0) }) { throw CheckpointError.unexpectedTensor(extra) }
        for (n, p) in named { p.value = table["\(prefix).\(n)"]! }  // presence checked above
    }
}

extension Data {
    mutating func appendLE(_ v: UInt32) { Swift.withUnsafeBytes(of: v.littleEndian) { append(contentsOf: $0) } }
}

extension Array where Element == UInt8 {
    func readLE(at i: Int) -> UInt32 {
        UInt32(self[i]) | UInt32(self[i + 1]) << 8 | UInt32(self[i + 2]) << 16 | UInt32(self[i + 3]) << 24
    }
}
