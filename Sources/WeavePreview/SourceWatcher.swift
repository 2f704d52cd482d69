import Foundation

/// Notices edits to the files a report is made from (chapters, library sources) by polling
/// each file's inode, size, mtime and ctime. Polling needs no inotify watch limits and no
/// platform code, and a few thousand `lstat` calls every half second cost nothing noticeable.
/// An editor's atomic save changes the inode; `cp -p` can restore an mtime but not a ctime.
public struct SourceWatcher: Sendable {
    /// Files or folders to watch (folders recursively; hidden names and `NAME~` backups skipped,
    /// so an editor's swap file does not rebuild on every keystroke).
    public var paths: [URL]
    /// Seconds between polls.
    public var interval: Double
    /// Seconds the files must stay unchanged after an edit before `waitForChange` returns, so
    /// that saving several files (or an editor writing in steps) starts one build, not several.
    public var settle: Double

    /// One file's identity and times, as `lstat` reports them.
    struct Stamp: Equatable, Sendable {
        var inode: UInt64
        var size: Int64
        var modified: Int64
        var changed: Int64
    }

    /// Every watched file (absolute path) and its stamp at one moment.
    public struct Snapshot: Equatable, Sendable {
        var stamps: [String: Stamp] = [:]

        /// Paths added, removed or changed since `old`, sorted.
        public func changes(since old: Snapshot) -> [String] {
            Set(stamps.keys).union(old.stamps.keys).filter { stamps[$0] != old.stamps[$0] }.sorted()
        }
    }

    /// Watches `paths`, polling every `interval` seconds; an edit counts once the files have
    /// been still for `settle` seconds.
    public init(paths: [URL], interval: Double = 0.5, settle: Double = 0.3) {
        self.paths = paths
        self.interval = interval
        self.settle = settle
    }

    /// The watched files now. A path that does not exist contributes nothing (its appearance
    /// later is a change).
    public func snapshot() -> Snapshot {
        var snapshot = Snapshot()
        for root in paths {
            let base = root.path
            guard let top = Self.stamp(base) else { continue }
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: base, isDirectory: &isFolder), isFolder.boolValue else {
                snapshot.stamps[base] = top
                continue
            }
            guard let walker = FileManager.default.enumerator(atPath: base) else { continue }
            while let relative = walker.nextObject() as? String {
                let name = (relative as NSString).lastPathComponent
                if name.hasPrefix(".") || name.hasSuffix("~") {
                    walker.skipDescendants()
                    continue
                }
                let path = base + "/" + relative
                if let stamp = Self.stamp(path, regularOnly: true) { snapshot.stamps[path] = stamp }
            }
        }
        return snapshot
    }

    /// Blocks until the files differ from `old` and have then stayed the same for `settle`
    /// seconds; returns the settled snapshot.
    public func waitForChange(from old: Snapshot) -> Snapshot {
        var current = old
        while current == old {
            Thread.sleep(forTimeInterval: interval)
            current = snapshot()
        }
        while true {
            Thread.sleep(forTimeInterval: settle)
            let next = snapshot()
            if next == current { return next }
            current = next
        }
    }

    static func stamp(_ path: String, regularOnly: Bool = false) -> Stamp? {
        var info = stat()
        guard lstat(path, &info) == 0 else { return nil }
        if regularOnly && (info.st_mode & S_IFMT) != S_IFREG { return nil }
        return Stamp(inode: UInt64(info.st_ino), size: Int64(info.st_size),
                     modified: Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec),
                     changed: Int64(info.st_ctim.tv_sec) * 1_000_000_000 + Int64(info.st_ctim.tv_nsec))
    }
}
