import Foundation
import SystemSupport

/// Content digests of input files (`--data`, `files=`), remembered between builds by what
/// `stat` says about each file.
///
/// A file's remembered digest is reused only while its inode, size, modification time *and*
/// status-change time are all unchanged: `cp -p`, `rsync -a` and `tar` restore the modification
/// time but cannot restore the change time, so new content is always rehashed. Memo file:
/// `CACHE/file-digests.json` (written atomically; losing it only costs a rehash).
final class ContentFingerprint {
    struct Stamp: Codable, Equatable {
        var inode: UInt64
        var size: Int64
        var modified: Int64
        var changed: Int64
    }
    struct Remembered: Codable {
        var stamp: Stamp
        var sha256: String
    }

    private let memoFile: URL
    private var memo: [String: Remembered]
    private var dirty = false

    /// Reads the memo of `cache` (an empty one when missing or unreadable).
    init(cache: URL) {
        memoFile = cache.appendingPathComponent("file-digests.json")
        memo = (try? JSONDecoder().decode([String: Remembered].self, from: Data(contentsOf: memoFile))) ?? [:]
    }

    static func stamp(_ path: String) -> Stamp? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return Stamp(inode: UInt64(st.st_ino), size: Int64(st.st_size),
                     modified: Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec),
                     changed: Int64(st.st_ctim.tv_sec) * 1_000_000_000 + Int64(st.st_ctim.tv_nsec))
    }

    /// SHA-256 of one regular file's bytes.
    func fileDigest(_ path: String) throws -> String {
        guard let stamp = Self.stamp(path) else { throw WeaveError("cannot read \(path)") }
        if let known = memo[path], known.stamp == stamp { return known.sha256 }
        let sha = try Digest.file(URL(fileURLWithPath: path))
        memo[path] = Remembered(stamp: stamp, sha256: sha)
        dirty = true
        return sha
    }

    /// One digest for a file or a whole folder (every regular file under it, by relative path
    /// and content). Throws, naming the path, when it does not exist.
    func digest(of path: String) throws -> String {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
            throw WeaveError("\(path) does not exist")
        }
        guard isFolder.boolValue else { return try fileDigest(path) }
        let base = URL(fileURLWithPath: path).standardizedFileURL
        var lines: [String] = []
        if let walker = FileManager.default.enumerator(at: base, includingPropertiesForKeys: [.isRegularFileKey]) {
            for case let url as URL in walker {
                guard (try? url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true else { continue }
                let full = url.standardizedFileURL.path
                lines.append("\(full.dropFirst(base.path.count)) \(try fileDigest(full))")
            }
        }
        return Digest.hex(lines.sorted().joined(separator: "\n"))
    }

    /// Writes the memo back when something was hashed.
    func save() {
        guard dirty, let data = try? JSONEncoder().encode(memo) else { return }
        try? FileManager.default.createDirectory(at: memoFile.deletingLastPathComponent(), withIntermediateDirectories: true)
        if (try? AtomicFile.write(data, to: memoFile)) != nil { dirty = false }
    }
}
