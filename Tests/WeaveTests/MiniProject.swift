import Foundation
import Synchronization
import SystemSupport
import Testing
import Weave

/// A small project the weaver can build in seconds: the chart library and the runtime (the real
/// sources, linked in), plus a one-file library `Lib` the tests edit. Kept under
/// `.build/weave-mini` so its compiled libraries survive between runs.
struct MiniProject {
    let root: URL
    let cache: URL
    let libFile: URL

    static let folder = packageRoot.appendingPathComponent(".build/weave-mini")

    static func make() throws -> MiniProject {
        let fm = FileManager.default
        let root = folder.appendingPathComponent("project")
        try fm.createDirectory(at: root.appendingPathComponent("Sources/Lib"), withIntermediateDirectories: true)
        let manifest = """
        // swift-tools-version:6.0
        import PackageDescription
        let package = Package(
            name: "MiniProject",
            products: [
                .library(name: "Lib", targets: ["Lib"]),
                .library(name: "Charts", targets: ["Charts"]),
                .library(name: "WeaveRuntime", targets: ["WeaveRuntime"]),
            ],
            targets: [
                .systemLibrary(name: "CCairo", pkgConfig: "cairo"),
                .target(name: "Charts", dependencies: ["CCairo"]),
                .target(name: "WeaveRuntime"),
                .target(name: "Lib"),
            ]
        )

        """
        _ = try AtomicFile.writeIfChanged(Data(manifest.utf8), to: root.appendingPathComponent("Package.swift"))
        for target in ["CCairo", "Charts", "WeaveRuntime"] {
            let link = root.appendingPathComponent("Sources/\(target)")
            let source = packageRoot.appendingPathComponent("Sources/\(target)")
            // A link left by a checkout at another path (a moved worktree) is pointed here again.
            if (try? fm.destinationOfSymbolicLink(atPath: link.path)) != source.path {
                try? fm.removeItem(at: link)
                try fm.createSymbolicLink(at: link, withDestinationURL: source)
            }
        }
        let project = MiniProject(root: root, cache: folder.appendingPathComponent("cache"),
                                  libFile: root.appendingPathComponent("Sources/Lib/Lib.swift"))
        try project.setLibrary(answer: 42)
        // Every scenario starts without results (the compiled program stays: only stage code recompiles).
        for folder in ["entries", "records"] { try? fm.removeItem(at: project.cache.appendingPathComponent(folder)) }
        return project
    }

    /// Lib's one function returns `answer`; `comment` goes above it (edits that change no meaning).
    func setLibrary(answer: Int, comment: String = "") throws {
        let text = """
        \(comment)
        /// The answer the tests' stages publish.
        public func libraryAnswer() -> Int { \(answer) }

        """
        _ = try AtomicFile.writeIfChanged(Data(text.utf8), to: libFile)
    }

    /// A fresh chapters folder holding `chapters` (file name -> text), a fresh report folder.
    func chapters(_ name: String, _ chapters: [String: String]) throws -> URL {
        let folder = Self.folder.appendingPathComponent("chapters-\(name)")
        try? FileManager.default.removeItem(at: folder)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for (file, text) in chapters { try text.write(to: folder.appendingPathComponent(file), atomically: true, encoding: .utf8) }
        return folder
    }

    func options(_ chapters: URL, only: [String] = [], dataPaths: [String] = [], timeout: Double? = nil, jobs: Int = 2) -> BuildOptions {
        let name = chapters.lastPathComponent
        return BuildOptions(root: root, chapters: chapters, cache: cache,
                            report: Self.folder.appendingPathComponent("report-\(name)"),
                            figures: Self.folder.appendingPathComponent("figures-\(name)"),
                            scale: "tiny", seed: 0, jobs: jobs, blasThreads: 1, only: only, dataPaths: dataPaths, timeout: timeout)
    }

    /// A published JSON value of a build, as text.
    static func published(_ outcome: BuildOutcome, _ stage: String, _ artifact: String) -> String? {
        guard let entry = outcome.results[stage]?.entry,
              let data = try? Data(contentsOf: entry.output.appendingPathComponent("artifacts/\(artifact).json")) else { return nil }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// Lines a build printed, collected from any thread.
final class Transcript: Sendable {
    private let lines = Mutex<[String]>([])
    var display: ProgressDisplay { ProgressDisplay(mode: .plain) { text in self.lines.withLock { $0.append(text) } } }
    var text: String { lines.withLock { $0.joined() } }
}

/// Runs `body` on its own thread; `wait` gives up after `seconds` (a hung build fails the test
/// instead of hanging the suite).
final class Background<T: Sendable>: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private var value: Result<T, Error>?

    init(_ body: @escaping @Sendable () throws -> T) {
        Thread { [self] in
            value = Result { try body() }
            done.signal()
        }.start()
    }

    func wait(seconds: Double) throws -> T? {
        guard done.wait(timeout: .now() + seconds) == .success, let value else { return nil }
        return try value.get()
    }
}

/// Waits until `condition` holds, polling, for at most `seconds`.
func eventually(seconds: Double, _ condition: () -> Bool) -> Bool {
    let end = Date().addingTimeInterval(seconds)
    while Date() < end {
        if condition() { return true }
        Thread.sleep(forTimeInterval: 0.05)
    }
    return condition()
}

/// True while `pid` names a live process (zombies count as gone).
func isAlive(_ pid: Int32) -> Bool {
    guard kill(pid, 0) == 0 else { return false }
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
          let close = stat.lastIndex(of: ")") else { return true }
    return !stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).hasPrefix("Z")
}
