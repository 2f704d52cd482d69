import Foundation
import WeaveRuntime

/// Where things are and how to build: what the CLI's options turn into.
public struct BuildOptions: Sendable {
    public var root: URL
    public var chapters: URL
    public var cache: URL
    public var report: URL
    public var figures: URL
    public var scale: String
    public var seed: UInt64
    public var jobs: Int
    public var blasThreads: Int
    /// Build only these stages and what they need (`weave figure NAME`).
    public var only: [String]
    /// Leave `expensive` stages out unless cached.
    public var cheap: Bool
    public var dataPaths: [String]
    /// Where the generated package is compiled (shared between builds; tests share one too).
    public var scratch: URL
    /// Where stages run: local processes, or Slurm jobs (`--executor slurm`).
    public var executor: ExecutorChoice = .local

    public init(root: URL, chapters: URL? = nil, cache: URL? = nil, report: URL? = nil, figures: URL? = nil,
                scale: String = "default", seed: UInt64 = 0, jobs: Int? = nil, blasThreads: Int? = nil,
                only: [String] = [], cheap: Bool = false, dataPaths: [String] = [], scratch: URL? = nil) {
        let cores = ProcessInfo.processInfo.activeProcessorCount
        self.root = root
        self.chapters = chapters ?? root.appendingPathComponent("chapters")
        self.cache = cache ?? root.appendingPathComponent(".weave-cache")
        self.report = report ?? root.appendingPathComponent("report")
        self.figures = figures ?? root.appendingPathComponent("figures")
        self.scale = scale
        self.seed = seed
        self.jobs = max(1, jobs ?? cores)
        self.blasThreads = max(1, blasThreads ?? max(1, cores / max(1, jobs ?? cores)))
        self.only = only
        self.cheap = cheap
        self.dataPaths = dataPaths
        self.scratch = scratch ?? self.cache.appendingPathComponent("build")
    }
}

/// What a build did.
public struct BuildOutcome: Sendable {
    public var results: [String: StageResult]
    /// Everything the author should look at: failed stages, compile errors, bad references.
    public var errors: [WeaveError]
    /// Seconds per phase (parse, fingerprint, compile, run, render), for speed checks.
    public var timings: [(phase: String, seconds: Double)]
    public var reportFile: URL
    public var exitCode: Int32 { errors.isEmpty ? 0 : 1 }
}

/// One row of `weave list`.
public struct ListEntry: Sendable, Equatable {
    public enum State: Sendable, Equatable {
        case fresh
        case stale([String])
        case missing
    }
    public var name: String
    public var kind: StageKind
    public var location: SourceLocation
    public var state: State
    public var lastDuration: Double?
    public var key: String
}

/// The weaver: chapters -> stage graph -> generated Swift -> run -> cache -> HTML.
public struct Weaver {
    public var options: BuildOptions
    public var display: ProgressDisplay

    public init(options: BuildOptions, display: ProgressDisplay = .automatic()) {
        self.options = options
        self.display = display
    }

    var cache: Cache { Cache(folder: options.cache) }

    /// Parses and checks everything that can be checked without compiling.
    public func load() throws -> (chapters: [Chapter], graph: StageGraph, plan: DocumentPlan) {
        let chapters = try ChapterParser().parseFolder(options.chapters, relativeTo: options.root)
        let graph = try StageGraph(chapters: chapters)
        let plan = try DocumentPlan(chapters: chapters, graph: graph)
        for name in options.only where graph[name] == nil {
            throw WeaveErrors([WeaveError("no stage, figure or table named '\(name)'")])
        }
        return (chapters, graph, plan)
    }

    /// Every stage's key parts under the current options.
    public func keys(chapters: [Chapter], graph: StageGraph) throws -> (keys: [String: KeyParts], manifest: PackageManifest) {
        let manifest = try PackageManifest.load(root: options.root, cacheFolder: options.cache)
        let digests = try LibraryFingerprint(manifest: manifest).digests(root: options.root)
        let calculator = KeyCalculator(scale: options.scale, seed: options.seed, computeLibrary: digests.compute,
                                       presentationLibrary: digests.presentation, data: try dataFingerprint())
        return (calculator.keys(for: graph, definitions: Self.definitions(chapters)), manifest)
    }

    /// The code of every `swift define` block, in order.
    public static func definitions(_ chapters: [Chapter]) -> String {
        chapters.flatMap(\.blocks).compactMap { block -> String? in
            if case .definitions(let code, _, _, _) = block { return code } else { return nil }
        }.joined(separator: "\n")
    }

    /// External data by file name, size and modification time (hashing gigabytes of .mat files
    /// on every build would cost more than it protects against).
    func dataFingerprint() throws -> String {
        guard !options.dataPaths.isEmpty else { return "" }
        var lines: [String] = []
        for path in options.dataPaths.sorted() {
            let url = URL(fileURLWithPath: path)
            var files = [url]
            if let walker = FileManager.default.enumerator(at: url, includingPropertiesForKeys: nil) {
                files += walker.compactMap { $0 as? URL }
            }
            for f in files.map(\.path).sorted() {
                let attrs = try? FileManager.default.attributesOfItem(atPath: f)
                let size = attrs?[.size] as? Int ?? -1
                let mtime = (attrs?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
                lines.append("\(f) \(size) \(mtime)")
            }
        }
        return Digest.hex(lines.joined(separator: "\n"))
    }

    // MARK: build

    public mutating func build() throws -> BuildOutcome {
        var timings: [(String, Double)] = []
        var clock = Date()
        func lap(_ phase: String) { timings.append((phase, Date().timeIntervalSince(clock))); clock = Date() }

        let (chapters, graph, plan) = try load()
        lap("parse")
        let (keys, manifest) = try self.keys(chapters: chapters, graph: graph)
        lap("fingerprint")
        let cache = self.cache
        cache.removeAbandonedWork()

        let selected = options.only.isEmpty ? Set(graph.order) : graph.closure(of: options.only)
        var (known, toRun) = Self.plan(graph: graph, keys: keys, cache: cache, selected: selected, cheap: options.cheap)

        var errors: [WeaveError] = []
        var executable: URL?
        if !toRun.isEmpty {
            display.message("weave: compiling stages (\(toRun.count) to run)")
            let compiled = try compile(chapters, manifest: manifest)
            lap("compile")
            if compiled.succeeded {
                executable = compiled.executable
            } else {
                errors += compileErrors(compiled, graph: graph, toRun: toRun, keys: keys, results: &known)
                toRun = []
            }
        }
        var results = known
        if let executable, !toRun.isEmpty {
            let settings = RunSettings(executable: executable, scale: options.scale, seed: options.seed,
                                       blasThreads: options.blasThreads, dataPaths: options.dataPaths, root: options.root)
            var scheduler = Scheduler(graph: graph, cache: cache, keys: keys, settings: settings, jobs: options.jobs, display: display)
            scheduler.executor = options.executor.make()
            results = scheduler.run(toRun, known: known)
            lap("run")
        }
        for name in graph.order {
            guard let stage = graph[name], let result = results[name] else { continue }
            if case .failed(let message) = result.status, !errors.contains(where: { $0.location == stage.location }) {
                errors.append(WeaveError("\(stage.kind.rawValue) \(name) failed: \(message)", at: stage.location))
            }
        }

        let provenance = Provenance.collect(root: options.root, blasThreads: options.blasThreads, jobs: options.jobs,
                                            scale: options.scale, seed: options.seed)
        let renderer = HTMLRenderer(plan: plan, graph: graph, results: results, provenance: provenance,
                                    math: MathRenderer(cacheFolder: options.cache.appendingPathComponent("math")))
        let report = renderer.render()
        errors += report.errors
        let reportFile = try write(report)
        lap("render")
        return BuildOutcome(results: results, errors: errors, timings: timings, reportFile: reportFile)
    }

    /// Decides, per stage, cached / not built / to run. A stage about to run reads its needs'
    /// large files, so those are verified in full here: a need whose files turn out damaged is
    /// recomputed rather than failing the stage that reads it.
    public static func plan(graph: StageGraph, keys: [String: KeyParts], cache: Cache, selected: Set<String>,
                            cheap: Bool) -> (known: [String: StageResult], toRun: [String]) {
        var known: [String: StageResult] = [:]
        var toRun: [String] = []
        for name in graph.order {
            guard let stage = graph[name], let parts = keys[name] else { continue }
            let key = parts.digest
            if let entry = cache.entry(for: key) {
                known[name] = StageResult(status: .cached, key: key, entry: entry, duration: entry.manifest.duration)
            } else if !selected.contains(name) || (cheap && stage.expensive) {
                known[name] = StageResult(status: .skipped, key: key)
            } else {
                toRun.append(name)
            }
        }
        var checked: Set<String> = []
        var changed = true
        while changed {
            changed = false
            for name in toRun {
                for need in graph[name]?.needs ?? [] where known[need]?.status == .cached && !checked.contains(need) {
                    checked.insert(need)
                    if let key = keys[need]?.digest, cache.entry(for: key, verifyBlobs: true) == nil {
                        known[need] = nil
                        toRun.append(need)
                        changed = true
                    }
                }
            }
        }
        return (known, graph.order.filter(Set(toRun).contains))
    }

    func compile(_ chapters: [Chapter], manifest: PackageManifest) throws -> StageCompiler.Outcome {
        let package = options.cache.appendingPathComponent("package")
        try CodeGenerator(root: options.root, manifest: manifest).write(chapters, to: package)
        var display = self.display
        defer { display.finish() }
        return try StageCompiler(packageFolder: package, scratchFolder: options.scratch).build { report, elapsed in
            display.update([RunningStage(name: "compiling", elapsed: elapsed, progress: report, lastDuration: nil)],
                           now: Date().timeIntervalSince1970)
        }
    }

    /// Compile errors land on the stages whose code they point into; the rest did not run.
    func compileErrors(_ compiled: StageCompiler.Outcome, graph: StageGraph, toRun: [String], keys: [String: KeyParts],
                       results: inout [String: StageResult]) -> [WeaveError] {
        var errors: [WeaveError] = []
        var blamed: Set<String> = []
        for d in compiled.diagnostics {
            errors.append(WeaveError(d.message, at: d.location))
            if let stage = graph.stages.first(where: { $0.location.file == d.location.file && $0.codeLines.contains(d.location.line) }) {
                blamed.insert(stage.name)
                let previous: String
                if case .failed(let m) = results[stage.name]?.status { previous = m + "\n" } else { previous = "" }
                results[stage.name] = StageResult(status: .failed(previous + "compile error at \(d.location):\(d.column): \(d.message)"),
                                                  key: keys[stage.name]?.digest ?? "")
            }
        }
        if compiled.diagnostics.isEmpty {
            let tail = compiled.log.split(separator: "\n").filter { $0.contains("error") }.prefix(20).joined(separator: "\n")
            errors.append(WeaveError("the generated stage package did not compile:\n\(tail.isEmpty ? String(compiled.log.suffix(2000)) : tail)"))
        }
        for name in toRun where !blamed.contains(name) {
            results[name] = StageResult(status: .notRun("the stages did not compile"), key: keys[name]?.digest ?? "")
        }
        return errors
    }

    /// report/index.html, report/results.json, figures/NAME.{svg,png}; unchanged files are not rewritten.
    func write(_ report: RenderedReport) throws -> URL {
        let index = options.report.appendingPathComponent("index.html")
        try AtomicFile.writeIfChanged(Data(report.html.utf8), to: index)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.writeIfChanged(try encoder.encode(report.results), to: options.report.appendingPathComponent("results.json"))
        for figure in report.figures {
            try AtomicFile.writeIfChanged(figure.svg, to: options.figures.appendingPathComponent(figure.name + ".svg"))
            try AtomicFile.writeIfChanged(figure.png, to: options.figures.appendingPathComponent(figure.name + ".png"))
        }
        return index
    }

    // MARK: list, check, clean

    public func list() throws -> [ListEntry] {
        let (chapters, graph, _) = try load()
        let (keys, _) = try self.keys(chapters: chapters, graph: graph)
        let cache = self.cache
        return graph.order.compactMap { name in
            guard let stage = graph[name], let parts = keys[name] else { return nil }
            let key = parts.digest
            let record = cache.lastRecord(stage: name, scale: options.scale)
            let state: ListEntry.State
            var duration = record?.duration
            if let m = cache.manifest(for: key) {
                state = .fresh
                duration = m.duration
            } else if let record {
                let reasons = parts.changes(since: record.parts)
                state = .stale(reasons.isEmpty ? ["cache entry missing or damaged"] : reasons)
            } else {
                state = .missing
            }
            return ListEntry(name: name, kind: stage.kind, location: stage.location, state: state, lastDuration: duration, key: key)
        }
    }

    /// Parses and compiles without running anything. Throws the parse errors; returns compile errors.
    public func check() throws -> [WeaveError] {
        let (chapters, graph, _) = try load()
        let (keys, manifest) = try self.keys(chapters: chapters, graph: graph)
        let compiled = try compile(chapters, manifest: manifest)
        if compiled.succeeded { return [] }
        var ignored: [String: StageResult] = [:]
        return compileErrors(compiled, graph: graph, toRun: [], keys: keys, results: &ignored)
    }

    /// Removes cache entries that neither the current chapters nor any stage's last build refer to.
    public func clean() throws -> Int {
        // Without readable chapters, nothing is known to be unused but superseded entries.
        guard let (chapters, graph, _) = try? load(), let (keys, _) = try? self.keys(chapters: chapters, graph: graph) else {
            return try cache.clean(keeping: [])
        }
        return try cache.clean(keeping: Set(keys.values.map(\.digest)), stages: Set(graph.order))
    }
}
