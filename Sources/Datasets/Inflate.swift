import CZlib

/// Streaming zlib/gzip decompression over bytes already in memory (or mapped).
///
/// Streaming matters for SVHN's extra set: its compressed `X` inflates to 1.6 GB, which we
/// transpose image by image into the destination instead of inflating into a second buffer.
/// The input buffer must outlive the inflater (callers keep it inside `withUnsafeBytes`).
final class Inflater {
    enum Format { case zlib, gzip }

    private var stream = z_stream()
    private var finished = false
    /// True once zlib saw the stream's own end marker (not just the end of the input bytes).
    private(set) var streamEnded = false
    private let file: String
    private let format: Format

    init(input: UnsafeRawBufferPointer, format: Format, file: String) throws {
        self.file = file
        self.format = format
        // 15 window bits; +32 lets zlib detect the gzip header (IDX files are .gz).
        let windowBits: Int32 = format == .gzip ? 15 + 32 : 15
        let status = inflateInit2_(&stream, windowBits, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        guard status == Z_OK else {
            throw DatasetError.malformed(file: file, detail: "zlib could not start (status \(status))")
        }
        stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: Bytef.self))
        // zlib counts input in UInt32; our inputs (one compressed variable) stay below 4 GB.
        stream.avail_in = UInt32(clamping: input.count)
    }

    deinit { inflateEnd(&stream) }

    /// Fills `output` completely or throws: the caller asks for exactly what the format announces.
    func readExactly(into output: UnsafeMutableRawBufferPointer, what: String) throws {
        let got = try read(into: output)
        if got < output.count {
            throw DatasetError.truncated(file: file, detail: "compressed data ends after \(got) of \(output.count) bytes of \(what)")
        }
    }

    /// Reads up to `output.count` bytes; fewer only at the end of the stream.
    func read(into output: UnsafeMutableRawBufferPointer) throws -> Int {
        guard let base = output.baseAddress, output.count > 0 else { return 0 }
        var produced = 0
        while produced < output.count && !finished {
            let chunk = min(output.count - produced, Int(UInt32.max))
            stream.next_out = (base + produced).assumingMemoryBound(to: Bytef.self)
            stream.avail_out = UInt32(chunk)
            let status = inflate(&stream, Z_NO_FLUSH)
            produced += chunk - Int(stream.avail_out)
            switch status {
            case Z_OK: continue
            case Z_STREAM_END:
                streamEnded = true
                finished = !startNextGzipMember()
            case Z_BUF_ERROR:
                // No progress possible: the input ran out before the stream's end.
                if stream.avail_in == 0 { finished = true } else { fallthrough }
            default:
                let message = stream.msg.map { String(cString: $0) } ?? "status \(status)"
                throw DatasetError.malformed(file: file, detail: "corrupt compressed data (\(message))")
            }
        }
        return produced
    }

    /// A gzip file may hold several members one after another (what `pigz`, `bgzip` and
    /// `cat a.gz b.gz` write); their contents concatenate. As Python's gzip module does, zero
    /// padding after a member is skipped; any other trailing bytes must start a valid member.
    /// - Returns: true when another member follows and the stream was reset for it.
    private func startNextGzipMember() -> Bool {
        guard format == .gzip else { return false }
        while stream.avail_in > 0, let p = stream.next_in, p.pointee == 0 {
            stream.next_in = p + 1
            stream.avail_in -= 1
        }
        guard stream.avail_in > 0, inflateReset(&stream) == Z_OK else { return false }
        streamEnded = false
        return true
    }

    /// Reads and discards `count` bytes.
    func skip(_ count: Int, what: String) throws {
        var remaining = count
        var scratch = [UInt8](repeating: 0, count: min(count, 1 << 16))
        while remaining > 0 {
            let n = min(remaining, scratch.count)
            try scratch.withUnsafeMutableBytes { try readExactly(into: UnsafeMutableRawBufferPointer(rebasing: $0[0..<n]), what: what) }
            remaining -= n
        }
    }

    /// Inflates everything that is left.
    func readAll(what: String) throws -> [UInt8] {
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = try chunk.withUnsafeMutableBytes { try read(into: $0) }
            out.append(contentsOf: chunk[0..<n])
            if n < chunk.count { break }
        }
        if !streamEnded {
            throw DatasetError.truncated(file: file, detail: "compressed stream of \(what) ends early")
        }
        return out
    }
}
