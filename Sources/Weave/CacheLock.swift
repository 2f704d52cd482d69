import Foundation

/// An exclusive hold on a cache folder, or on a stage-compile folder shared by several caches,
/// for one build (`flock` on `FOLDER/lock`).
///
/// Two builds on one cache (or one compile folder) would otherwise recompile the shared stage
/// program under each other: a running build could start a stage from the other build's newer
/// code and file its result under its own, older key. The second build waits, saying who holds
/// the lock. The kernel drops the lock when the holder exits in any way (`kill -9` included), so
/// a stale lock cannot exist.
public final class CacheLock {
    private let descriptor: Int32

    private init(descriptor: Int32) { self.descriptor = descriptor }

    deinit {
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }

    /// Takes the lock on `cache` (a cache or compile folder, created if missing), blocking while
    /// another build holds it; `waiting` hears once why. Throws when the folder cannot be created
    /// or the lock file opened.
    public static func acquire(cache: URL, waiting: (String) -> Void = { _ in }) throws -> CacheLock {
        try FileManager.default.createDirectory(at: cache, withIntermediateDirectories: true)
        let path = cache.appendingPathComponent("lock").path
        // O_CLOEXEC: stage processes must not inherit (and so keep holding) the lock.
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw WeaveError("cannot open the cache lock \(path): \(String(cString: strerror(errno)))") }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let holder = (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            waiting("weave: another build (\(holder.isEmpty ? "unknown process" : holder)) is using \(cache.path); waiting for it to finish")
            while flock(fd, LOCK_EX) != 0 {
                guard errno == EINTR else {
                    close(fd)
                    throw WeaveError("cannot lock \(path): \(String(cString: strerror(errno)))")
                }
            }
        }
        let note = Data("pid \(getpid())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = note.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        return CacheLock(descriptor: fd)
    }
}
