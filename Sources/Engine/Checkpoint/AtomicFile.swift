import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Whole-file writes that a crash can never leave half-done: write a temporary file in the same
/// folder, flush it to disk, then rename it over the target (rename is atomic on POSIX).
public enum AtomicFile {
    public static func write(_ data: Data, to url: URL) throws {
        let dir = url.deletingLastPathComponent()
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let tmp = dir.appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        let fd = open(tmp.path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw AtomicFileError.cannotWrite(url.path, String(cString: strerror(errno))) }
        var ok = true
        data.withUnsafeBytes { raw in
            var off = 0
            while off < raw.count {
                let n = Glibc.write(fd, raw.baseAddress! + off, raw.count - off)
                if n <= 0 { ok = false; break }
                off += n
            }
        }
        ok = ok && fsync(fd) == 0
        let reason = String(cString: strerror(errno))
        close(fd)
        guard ok, rename(tmp.path, url.path) == 0 else {
            unlink(tmp.path)
            throw AtomicFileError.cannotWrite(url.path, reason)
        }
    }
}

public enum AtomicFileError: Error, CustomStringConvertible {
    case cannotWrite(String, String)
    public var description: String {
        switch self { case .cannotWrite(let p, let why): return "cannot write \(p): \(why)" }
    }
}
