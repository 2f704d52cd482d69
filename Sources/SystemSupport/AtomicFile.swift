import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Whole-file writes that neither a crash nor a power cut can leave half-done: write a temporary
/// file in the same folder, fsync it, rename it over the target (atomic on POSIX), then fsync the
/// folder so the rename itself is on disk. Checkpoints, run-folder records and every file the
/// weaver writes go through here.
///
/// Temporary files are named `.NAME.tmp-HOST-PID-RANDOM`; a writer killed between open and
/// rename leaves one behind, and the next write of NAME on the same host removes those of
/// writers that no longer run (a run folder shared over NFS keeps other hosts' files alone).
public enum AtomicFile {
    /// Writes `data` to `url` atomically, creating missing parent folders.
    /// - Throws: `AtomicFileError.cannotWrite` with the path and the system's reason (or
    ///   Foundation's error when the parent folder cannot be created).
    public static func write(_ data: Data, to url: URL) throws {
        let dir = url.deletingLastPathComponent()
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        removeStaleTemporaryFiles(of: url)
        let tmp = dir.appendingPathComponent(".\(url.lastPathComponent).tmp-\(hostName)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        let fd = open(tmp.path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw AtomicFileError.cannotWrite(url.path, String(cString: strerror(errno))) }
        var ok = true
        data.withUnsafeBytes { raw in
            guard let base = raw.baseAddress else { return }
            var off = 0
            while off < raw.count {
                let n = Glibc.write(fd, base + off, raw.count - off)
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
        syncDirectory(dir)
    }

    /// Writes only when the content differs and returns whether it wrote, so build tools that
    /// look at modification times (SwiftPM's incremental build) see untouched files as unchanged.
    /// - Throws: what `write` throws.
    @discardableResult
    public static func writeIfChanged(_ data: Data, to url: URL) throws -> Bool {
        if let old = try? Data(contentsOf: url), old == data { return false }
        try write(data, to: url)
        return true
    }

    /// Makes a rename in `dir` durable. Best effort: the file is already complete and in place,
    /// and some file systems refuse fsync on a folder (EINVAL), so a failure here is no error.
    static func syncDirectory(_ dir: URL) {
        let fd = open(dir.path, O_RDONLY | O_DIRECTORY)
        guard fd >= 0 else { return }
        _ = fsync(fd)
        close(fd)
    }
}

extension AtomicFile {
    /// This host's name as it appears in temporary file names (no dashes, so names parse).
    public static let hostName: String = {
        var buf = [CChar](repeating: 0, count: 256)
        guard gethostname(&buf, buf.count - 1) == 0 else { return "localhost" }
        let name = String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return name.isEmpty ? "localhost" : name.replacingOccurrences(of: "-", with: "_")
    }()

    /// Removes `.NAME.tmp-HOST-PID-*` files of `url` left by writers on this host that are no
    /// longer running. Files of live writers and of other hosts stay.
    static func removeStaleTemporaryFiles(of url: URL) {
        let dir = url.deletingLastPathComponent()
        let prefix = ".\(url.lastPathComponent).tmp-"
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir.path) else { return }
        for name in names where name.hasPrefix(prefix) {
            // HOST-PID-RANDOM, or PID-RANDOM as written before host names were recorded.
            let parts = name.dropFirst(prefix.count).split(separator: "-", omittingEmptySubsequences: false).map(String.init)
            let pidText = parts.count == 3 && parts[0] == hostName ? parts[1] : parts.count == 2 ? parts[0] : ""
            guard let pid = Int32(pidText), pid > 0 else { continue }
            // kill(pid, 0) fails with ESRCH only when no such process exists.
            if kill(pid, 0) != 0 && errno == ESRCH { unlink(dir.appendingPathComponent(name).path) }
        }
    }
}

/// Why `AtomicFile` could not write: the target's path and the system's reason (strerror).
public enum AtomicFileError: Error, CustomStringConvertible {
    case cannotWrite(String, String)
    /// "cannot write PATH: REASON".
    public var description: String {
        switch self { case .cannotWrite(let p, let why): return "cannot write \(p): \(why)" }
    }
}
