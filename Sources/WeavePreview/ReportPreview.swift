import Foundation
import Weave

/// `weave preview`'s loop: build, tell the pages, wait for an edit, build again. One build at
/// a time (this loop is the only builder; the cache lock keeps other `weave` processes out).
/// Stopping is the CLI's signal handling: Ctrl-C ends the process, its stages with it.
public struct ReportPreview {
    /// What to watch (chapters, Sources/, Package.swift) and how often.
    public var watcher: SourceWatcher
    /// Where the build's progress and each finished build are announced to the pages.
    public let live: LiveReload
    /// Changed paths are shown relative to this folder.
    public var root: URL

    /// A loop over `watcher`'s files that reports to `live`.
    public init(watcher: SourceWatcher, live: LiveReload, root: URL) {
        self.watcher = watcher
        self.live = live
        self.root = root
    }

    /// Builds with `build` (the same entry point as `weave build`, given a display whose lines
    /// also reach the pages), then rebuilds after every settled edit of the watched files.
    /// An error thrown by `build` (chapters that do not parse, a missing `files=` path) is
    /// printed and shown on the page above the last report that built; the loop goes on.
    public func run(build: (ProgressDisplay) throws -> Void) -> Never {
        var before = watcher.snapshot()
        var reason = "first build"
        while true {
            live.buildStarted(reason: reason)
            var display = ProgressDisplay.automatic()
            let live = self.live
            display.observer = { live.observe($0) }
            var failure: String?
            do { try build(display) } catch {
                failure = "\(error)"
                FileHandle.standardError.write(Data("\(error)\n".utf8))
            }
            live.buildFinished(error: failure)
            FileHandle.standardError.write(Data("weave preview: watching for changes (Ctrl-C to stop)\n".utf8))
            let after = watcher.waitForChange(from: before)
            reason = describe(after.changes(since: before))
            FileHandle.standardError.write(Data("weave preview: \(reason); rebuilding\n".utf8))
            before = after
        }
    }

    /// "chapters/01.md changed", "a.md, b.md and 3 more changed".
    func describe(_ paths: [String]) -> String {
        let prefix = root.standardizedFileURL.path + "/"
        let names = paths.map { $0.hasPrefix(prefix) ? String($0.dropFirst(prefix.count)) : $0 }
        let shown = names.prefix(3).joined(separator: ", ")
        return (names.count > 3 ? "\(shown) and \(names.count - 3) more" : shown) + " changed"
    }
}
