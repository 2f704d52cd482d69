import ArgumentParser
import Foundation
import Slurm
import Weave
import WeavePreview

/// `weave`: Markdown chapters with Swift stages -> cached runs -> one HTML report.
@main
struct WeaveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "weave",
        abstract: "Weave chapters/*.md and their Swift stages into report/index.html.",
        subcommands: [Build.self, Figure.self, Preview.self, List.self, Check.self, Clean.self, Diff.self],
        defaultSubcommand: Build.self)
}

/// Options every command shares: where the project is.
struct Location: ParsableArguments {
    @Option(help: "Project root, ROOT below (holds Package.swift).")
    var root: String = FileManager.default.currentDirectoryPath
    @Option(help: "Chapters folder (default: ROOT/chapters; a relative path is taken from ROOT, like --cache, --report, --figures and --scratch).")
    var chapters: String?
    @Option(help: "Cache folder (default: ROOT/.weave-cache).")
    var cache: String?
    @Option(help: "Report folder for index.html and results.json (default: ROOT/report).")
    var report: String?
    @Option(help: "Folder for figures as NAME.svg and NAME.png (default: ROOT/figures).")
    var figures: String?
    @Option(help: "Experiment scale passed to stages: tiny, default, paper (default: default; for list, the last build's).")
    var scale: String?
    @Option(parsing: .unconditional, help: "Base seed passed to stages (0 to 2^64 - 1).")
    var seed: UInt64 = 0
    @Option(help: "External data file or folder (repeatable; a relative path is taken from the current folder); part of every key, visible to stages.")
    var data: [String] = []
    @Option(help: "Where the stage package compiles (default: CACHE/build). Caches that share one compile the project's libraries once; their builds take turns.")
    var scratch: String?

    /// A folder without chapters is not a project: say so before any command looks inside it
    /// (Foundation's "The file doesn't exist" named neither the folder's role nor the fix).
    func validate() throws {
        // Stages parse the scale only after the compile: "bogus" built nothing for minutes.
        if let scale, !Self.scales.contains(scale) {
            throw ValidationError("unknown --scale '\(scale)' (\(Self.scales.joined(separator: ", ")))")
        }
        let folder = options().chapters   // resolved as every command resolves it
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder.path, isDirectory: &isFolder), isFolder.boolValue else {
            throw ValidationError("no chapters folder at \(folder.path): run weave in a project folder (one holding "
                                  + "Package.swift and chapters/*.md), or give --root or --chapters")
        }
    }

    /// The scales stages understand.
    static let scales = ["tiny", "default", "paper"]

    func options(jobs: Int? = nil, threads: Int? = nil, only: [String] = [], cheap: Bool = false,
                 timeout: Double? = nil, fallbackScale: String = "default") -> BuildOptions {
        let rootURL = URL(fileURLWithPath: root).standardizedFileURL
        let scale = self.scale ?? fallbackScale
        func resolve(_ p: String?) -> URL? {
            p.map { $0.hasPrefix("/") ? URL(fileURLWithPath: $0) : rootURL.appendingPathComponent($0) }
        }
        return BuildOptions(root: rootURL, chapters: resolve(chapters), cache: resolve(cache), report: resolve(report),
                            figures: resolve(figures), scale: scale, seed: seed,
                            jobs: jobs, blasThreads: threads, only: only, cheap: cheap,
                            dataPaths: data.map { URL(fileURLWithPath: $0).standardizedFileURL.path },
                            scratch: resolve(scratch), timeout: timeout)
    }
}

struct RunOptions: ParsableArguments {
    // .unconditional: "-1" is taken as the value and refused by name ("Missing value" otherwise).
    @Option(parsing: .unconditional, help: "Stages to run at once (default: number of cores).")
    var jobs: Int?
    @Option(parsing: .unconditional, help: "BLAS threads per stage process (default: cores / jobs).")
    var threads: Int?
    @Flag(help: "Skip stages marked `expensive` unless they are cached.")
    var cheap = false
    @Flag(help: "Print the time each phase took.")
    var timings = false
    @Option(help: "Where stages run: local (child processes) or slurm (one sbatch job per stage, a job array per seeds=N stage; cache and project on a shared file system).")
    var executor: String = "local"
    @Option(help: "Slurm partition (--executor slurm).")
    var partition: String?
    @Option(help: "More sbatch arguments, given with =, e.g. --sbatch-args=\"--account=x --qos=y\" (--executor slurm).")
    var sbatchArgs: String?

    /// The executor the options name; refuses Slurm options without `--executor slurm`.
    func executorChoice() throws -> ExecutorChoice {
        switch executor {
        case "local":
            guard partition == nil, sbatchArgs == nil else {
                throw ValidationError("--partition and --sbatch-args need --executor slurm")
            }
            return .local
        case "slurm":
            let extra = try Slurm.splitArguments(sbatchArgs ?? "")
            return .slurm(SlurmSettings(partition: partition, extraArguments: extra))
        default:
            throw ValidationError("unknown executor '\(executor)' (local, slurm)")
        }
    }

    @Option(parsing: .unconditional, help: "Seconds any stage may run unless its block sets timeout= (default: no limit).")
    var timeout: Double?

    func validate() throws {
        if let timeout, !(timeout > 0 && timeout.isFinite) { throw ValidationError("--timeout must be a positive number of seconds") }
        if let jobs, jobs < 1 { throw ValidationError("--jobs must be 1 or more, got \(jobs)") }
        if let threads, threads < 1 { throw ValidationError("--threads must be 1 or more, got \(threads)") }
        // Local stages share this machine's cores: more stages or BLAS threads per stage than it
        // has only make them wait on each other (a cluster has more, so Slurm is not held to it).
        let cores = ProcessInfo.processInfo.activeProcessorCount
        if executor == "local", let threads, threads > cores {
            throw ValidationError("--threads \(threads) is more than this machine's \(cores) cores; use at most \(cores)")
        }
        if executor == "local", let jobs, jobs > cores {
            throw ValidationError("--jobs \(jobs) is more than this machine's \(cores) cores (each stage takes at least one); use at most \(cores)")
        }
    }

    func options(_ location: Location, only: [String]) throws -> BuildOptions {
        var o = location.options(jobs: jobs, threads: threads, only: only, cheap: cheap, timeout: timeout)
        o.executor = try executorChoice()
        return o
    }
}

/// Ctrl-C and SIGTERM end the weaver with a message and the usual status (130, 143). Stage
/// processes see their standard-input pipe close and exit; the next build removes their work
/// folders. Handled on a dispatch queue, not in a signal handler, so printing is safe.
enum Interruption {
    /// Returns the signal sources; the caller keeps them alive (a released source stops delivering).
    static func install() -> [any DispatchSourceSignal] {
        var sources: [any DispatchSourceSignal] = []
        for (signalNumber, status) in [(SIGINT, Int32(130)), (SIGTERM, Int32(143))] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler {
                FileHandle.standardError.write(Data("\nweave: \(String(cString: strsignal(signalNumber))); stopping the stages\n".utf8))
                InterruptHooks.runAll()  // e.g. scancel of the Slurm jobs this build submitted
                Foundation.exit(status)
            }
            source.resume()
            sources.append(source)
        }
        return sources
    }
}

func printErrors(_ error: Error) -> Never {
    FileHandle.standardError.write(Data("\(error)\n".utf8))
    Foundation.exit(1)
}

/// One build as `weave build` runs it: the errors and a one-line summary printed, the outcome
/// returned. Throws what stops a build before it renders (chapters that do not parse).
/// `weave preview` builds through this too, so both commands build the same way.
func buildOnce(_ options: BuildOptions, timings: Bool, display: ProgressDisplay = .automatic()) throws -> BuildOutcome {
    let start = Date()
    var weaver = Weaver(options: options, display: display)
    let outcome = try weaver.build()
    for e in outcome.errors { FileHandle.standardError.write(Data("\(e)\n".utf8)) }
    let counts = Dictionary(grouping: outcome.results.values, by: { r -> String in
        switch r.status {
        case .cached: return "cached"
        case .ran: return "ran"
        case .failed: return "failed"
        case .notRun: return "not run"
        case .skipped: return "not built"
        }
    }).mapValues(\.count)
    let summary = ["cached", "ran", "failed", "not run", "not built"].compactMap { k in counts[k].map { "\($0) \(k)" } }
    let relative = outcome.reportFile.path.replacingOccurrences(of: options.root.path + "/", with: "")
    print("weave: \(summary.joined(separator: ", ")); \(relative) in \(String(format: "%.1f", Date().timeIntervalSince(start)))s")
    if timings {
        print(outcome.timings.map { "\($0.phase) \(String(format: "%.2f", $0.seconds))s" }.joined(separator: ", "))
    }
    return outcome
}

func runBuild(_ options: BuildOptions, timings: Bool) throws {
    let interruption = Interruption.install()
    defer { withExtendedLifetime(interruption) {} }
    let outcome: BuildOutcome
    do { outcome = try buildOnce(options, timings: timings) } catch { printErrors(error) }
    if outcome.exitCode != 0 { throw ExitCode(outcome.exitCode) }
}

extension WeaveCommand {
    struct Build: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Run what is not cached and write the report.")
        @OptionGroup var location: Location
        @OptionGroup var runOptions: RunOptions
        @Option(name: .customLong("only"), help: "Build only this stage/figure/table and what it needs (repeatable).")
        var only: [String] = []

        func run() throws {
            try runBuild(runOptions.options(location, only: only), timings: runOptions.timings)
        }
    }

    struct Figure: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Re-make one figure (and only what it needs), then the report.")
        @Argument(help: "Figure (or table, or stage) name.")
        var name: String
        @OptionGroup var location: Location
        @OptionGroup var runOptions: RunOptions

        func run() throws {
            try runBuild(runOptions.options(location, only: [name]), timings: runOptions.timings)
        }
    }

    struct Preview: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Serve the report on 127.0.0.1, rebuild when chapters or library sources change, reload the page.",
            discussion: """
            Builds as `weave build` does (same options), serves the report at http://127.0.0.1:PORT/ with a small \
            script added to the served page only (the report on disk stays script-free), watches the chapters, \
            Sources/ and Package.swift (polling twice a second), rebuilds after an edit settles and reloads the \
            page. While a build runs the page shows its stages as they start and finish. Ctrl-C stops the server \
            and any build. Exit 2 when the port is in use.
            """)
        @OptionGroup var location: Location
        @OptionGroup var runOptions: RunOptions
        @Option(name: .customLong("only"), help: "Build only this stage/figure/table and what it needs (repeatable).")
        var only: [String] = []
        @Option(parsing: .unconditional, help: "Port on 127.0.0.1 (0: any free port, printed at start).")
        var port: Int = 8000

        func validate() throws {
            guard (0...65535).contains(port) else { throw ValidationError("--port must be between 0 and 65535, got \(port)") }
        }

        func run() throws {
            let options = try runOptions.options(location, only: only)
            let interruption = Interruption.install()
            let live = LiveReload()
            let server: PreviewServer
            do { server = try PreviewServer.start(port: UInt16(port), report: options.report, live: live) } catch {
                FileHandle.standardError.write(Data("\(error)\n".utf8))
                throw ExitCode(2)
            }
            print("weave preview: serving http://127.0.0.1:\(server.port)/ (Ctrl-C to stop)")
            fflush(nil)  // stdout may be a pipe (a script, a test) waiting for this line
            let watcher = SourceWatcher(paths: [options.chapters, options.root.appendingPathComponent("Sources"),
                                                options.root.appendingPathComponent("Package.swift")])
            let timings = runOptions.timings
            // The loop never returns, so a `defer` would never run: the signal sources and the
            // server are kept alive explicitly (a released signal source stops delivering).
            withExtendedLifetime((interruption, server)) {
                ReportPreview(watcher: watcher, live: live, root: options.root).run { display in
                    defer { fflush(nil) }
                    _ = try buildOnce(options, timings: timings, display: display)
                }
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show every stage as fresh, stale (and why) or missing.")
        @OptionGroup var location: Location

        func run() throws {
            let entries: [ListEntry]
            let defaults = location.options()
            let last = Weaver.lastBuildScale(cache: defaults.cache)
            if location.scale == nil, let last { print("weave: scale \(last) (the last build's; --scale to choose)") }
            do { entries = try Weaver(options: location.options(fallbackScale: last ?? "default")).list() } catch { printErrors(error) }
            let width = max(8, entries.map(\.name.count).max() ?? 0)
            for e in entries {
                let state: String
                switch e.state {
                case .fresh: state = "fresh"
                case .stale(let why): state = "stale (changed: \(why.joined(separator: "; ")))"
                case .missing: state = "missing"
                }
                let last = e.lastDuration.map { "last \(ProgressDisplay.duration($0))" } ?? ""
                let name = e.name.padding(toLength: width, withPad: " ", startingAt: 0)
                let kind = e.kind.rawValue.padding(toLength: 6, withPad: " ", startingAt: 0)
                // The state is last: it says exactly what changed, at whatever length.
                print("\(name)  \(kind)  \(last.padding(toLength: 12, withPad: " ", startingAt: 0))  \(e.location)  \(state)")
            }
        }
    }

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Parse the chapters and compile the stages without running them.")
        @OptionGroup var location: Location

        func run() throws {
            let errors: [WeaveError]
            do { errors = try Weaver(options: location.options()).check() } catch { printErrors(error) }
            for e in errors { FileHandle.standardError.write(Data("\(e)\n".utf8)) }
            if !errors.isEmpty { throw ExitCode(1) }
            print("weave: chapters parse and stages compile")
        }
    }

    struct Clean: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove cache entries nothing refers to (or everything with --all).")
        @OptionGroup var location: Location
        @Flag(help: "Remove the whole cache, including the compiled stage package.")
        var all = false

        func run() throws {
            let options = location.options()
            if all {
                try? FileManager.default.removeItem(at: options.cache)
                print("weave: removed \(options.cache.path)")
                return
            }
            let removed = try Weaver(options: options).clean()
            print("weave: removed \(removed) unreferenced entr\(removed == 1 ? "y" : "ies")")
        }
    }

    struct Diff: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "What changed between two builds' results.json (numbers, figures' data); exit 1 when anything did, 2 when it cannot compare.",
            discussion: "Default: the committed figures/results.json against the last build's report/results.json.")
        @Argument(help: "Old results.json (default: ROOT/figures/results.json).")
        var old: String?
        @Argument(help: "New results.json (default: ROOT/report/results.json).")
        var new: String?
        @Option(help: "Root folder for the defaults.")
        var root: String = FileManager.default.currentDirectoryPath
        @Option(help: "Numbers closer than this (absolute) count as unchanged.")
        var tolerance: Double = 0

        func validate() throws {
            guard tolerance >= 0, tolerance.isFinite else { throw ValidationError("--tolerance must be 0 or a positive number, got \(tolerance)") }
        }

        func run() throws {
            let base = URL(fileURLWithPath: root)
            let oldURL = old.map { URL(fileURLWithPath: $0) } ?? base.appendingPathComponent("figures/results.json")
            let newURL = new.map { URL(fileURLWithPath: $0) } ?? base.appendingPathComponent("report/results.json")
            let diff: ResultsDiff
            do { diff = try ResultsDiff(oldFile: oldURL, newFile: newURL, tolerance: tolerance) } catch {
                // Not 1: a script must tell "could not compare" from "changed".
                FileHandle.standardError.write(Data("\(error)\n".utf8))
                throw ExitCode(2)
            }
            for change in diff.changes { print(change) }
            for note in diff.notes { FileHandle.standardError.write(Data("weave: \(note)\n".utf8)) }
            print("weave: \(diff.changes.count) change\(diff.changes.count == 1 ? "" : "s") beyond \(tolerance) between \(oldURL.path) and \(newURL.path)")
            if !diff.changes.isEmpty { throw ExitCode(1) }
        }
    }
}
