import Foundation
import SystemSupport
import WeaveRuntime

/// Where things are and how to build: what the CLI's options turn into.
public struct BuildOptions: Sendable {
    /// The project folder: Package.swift, Sources and, by default, everything below.
    public var root: URL
    /// Folder of the Markdown chapters (default root/chapters).
    public var chapters: URL
    /// The content-addressed cache (default root/.weave-cache); one build at a time holds its lock.
    public var cache: URL
    /// Folder the HTML report is written to (default root/report).
    public var report: URL
    /// Folder figure stages' SVG and PNG files are copied to (default root/figures).
    public var figures: URL
    /// Experiment scale passed to every stage ("tiny", "default", "paper"); part of every cache key.
    public var scale: String
    /// Base random seed passed to every stage; part of every cache key.
    public var seed: UInt64
    /// Stages run at once (at least 1; default one per core).
    public var jobs: Int
    /// BLAS threads per stage process (at least 1; default cores / jobs).
    public var blasThreads: Int
    /// Build only these stages and what they need (`weave figure NAME`).
    public var only: [String]
    /// Leave `expensive` stages out unless cached.
    public var cheap: Bool
    /// External data (`--data`): files and folders whose contents are hashed into every stage's key.
    public var dataPaths: [String]
    /// Where the generated package is compiled (default: CACHE/build). Several caches may share
    /// one (`--scratch`: the project's libraries then compile once); builds on it take turns.
    public var scratch: URL
    /// Where stages run: local processes, or Slurm jobs (`--executor slurm`).
    public var executor: ExecutorChoice = .local
    /// Seconds any stage may run unless its block sets `timeout=` (nil: no limit).
    public var timeout: Double?

    /// Options with the defaults above; `jobs` and `blasThreads` below 1 become 1.
    public init(root: URL, chapters: URL? = nil, cache: URL? = nil, report: URL? = nil, figures: URL? = nil,
                scale: String = "default", seed: UInt64 = 0, jobs: Int? = nil, blasThreads: Int? = nil,
                only: [String] = [], cheap: Bool = false, dataPaths: [String] = [], scratch: URL? = nil,
                timeout: Double? = nil) {
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
        self.timeout = timeout
    }
}

/// What a build did.
public struct BuildOutcome: Sendable {
    /// Every stage's result by name: cached, ran, failed or not built.
    public var results: [String: StageResult]
    /// Everything the author should look at: failed stages, compile errors, bad references.
    public var errors: [WeaveError]
    /// Seconds per phase (parse, fingerprint, compile, run, render), for speed checks.
    public var timings: [(phase: String, seconds: Double)]
    /// The written report/index.html.
    public var reportFile: URL
    /// 0 when `errors` is empty, else 1: what the CLI exits with.
    public var exitCode: Int32 { errors.isEmpty ? 0 : 1 }
}

/// One row of `weave list`.
public struct ListEntry: Sendable, Equatable {
    /// Whether the stage's current key has a cache entry.
    public enum State: Sendable, Equatable {
        /// Its current key is cached.
        case fresh
        /// Built before under another key; the parts that changed ("code", "library (files)", ...).
        case stale([String])
        /// Never built at this scale.
        case missing
    }
    /// Stage name (a figure's or table's file name stem).
    public var name: String
    /// Compute, figure or table stage.
    public var kind: StageKind
    /// Where its block starts.
    public var location: SourceLocation
    /// Cached, stale or never built.
    public var state: State
    /// Seconds its last run took (the cached entry's, else the last record's); nil if never built.
    public var lastDuration: Double?
    /// Its current cache key (hex SHA-256 of its key parts).
    public var key: String
}

/// The weaver: chapters -> stage graph -> generated Swift -> run -> cache -> HTML.
public struct Weaver {
    /// Where things are and how to build.
    public var options: BuildOptions
    /// Where progress lines go (terminal, plain lines or nowhere).
    public var display: ProgressDisplay

    /// A weaver; nothing is read until a command runs.
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

    /// Every stage's key parts under the current options. Throws, naming the block, when a
    /// `files=` path or a `--data` path does not exist.
    public func keys(chapters: [Chapter], graph: StageGraph) throws -> (keys: [String: KeyParts], manifest: PackageManifest) {
        let manifest = try PackageManifest.load(root: options.root, cacheFolder: options.cache)
        let digests = try LibraryFingerprint(manifest: manifest).digests(root: options.root, contents: libraryContents)
        let contents = ContentFingerprint(cache: options.cache)
        defer { contents.save() }
        let calculator = KeyCalculator(scale: options.scale, seed: options.seed, computeLibrary: digests.compute,
                                       presentationLibrary: digests.presentation, data: try dataFingerprint(contents),
                                       extras: try declaredInputs(graph, contents))
        return (calculator.keys(for: graph, definitions: Self.definitions(chapters)), manifest)
    }

    /// The code of every `swift define` block, in order.
    public static func definitions(_ chapters: [Chapter]) -> String {
        chapters.flatMap(\.blocks).compactMap { block -> String? in
            if case .definitions(let code, _, _, _) = block { return code } else { return nil }
        }.joined(separator: "\n")
    }

    /// External data by content: every file under each `--data` path is hashed (the digest is
    /// remembered while the file's inode, size, mtime and ctime stay the same, so a restored
    /// mtime cannot hide new content).
    func dataFingerprint(_ contents: ContentFingerprint) throws -> String {
        guard !options.dataPaths.isEmpty else { return "" }
        var lines: [String] = []
        for path in options.dataPaths.sorted() {
            do { lines.append("\(path) \(try contents.digest(of: path))") } catch let e as WeaveError {
                throw WeaveErrors([WeaveError("--data \(e.message)")])
            }
        }
        return Digest.hex(lines.joined(separator: "\n"))
    }

    /// Stage -> digest of what its `files=` and `env=` declare (contents and values), for stages
    /// that declare anything. Paths are relative to the project root.
    func declaredInputs(_ graph: StageGraph, _ contents: ContentFingerprint) throws -> [String: String] {
        var extras: [String: String] = [:]
        var errors: [WeaveError] = []
        let environment = ProcessInfo.processInfo.environment
        for name in graph.order {
            guard let stage = graph[name], !stage.files.isEmpty || !stage.environment.isEmpty else { continue }
            var lines: [String] = []
            for file in stage.files {
                let path = file.hasPrefix("/") ? file : options.root.appendingPathComponent(file).path
                do { lines.append("file \(file) \(try contents.digest(of: path))") } catch {
                    errors.append(WeaveError("files=: \(path) does not exist or cannot be read", at: stage.location))
                }
            }
            for variable in stage.environment {
                lines.append(environment[variable].map { "env \(variable)=\($0)" } ?? "env \(variable) unset")
            }
            extras[name] = Digest.hex(lines.joined(separator: "\n"))
        }
        if !errors.isEmpty { throw WeaveErrors(errors) }
        return extras
    }

    // MARK: build

    /// Builds the report: parses, keys every stage, compiles the generated package, runs what is
    /// not cached (`options.only`/`cheap` narrow that), renders report/index.html and copies figures.
    /// A failing stage is an entry in the outcome's `errors`, not a throw; throws `WeaveErrors` for
    /// chapters that do not parse or check, and `WeaveError` when the cache lock or a write fails.
    public mutating func build() throws -> BuildOutcome {
        var timings: [(String, Double)] = []
        var clock = Date()
        func lap(_ phase: String) { timings.append((phase, Date().timeIntervalSince(clock))); clock = Date() }

        let lock = try lockCache()
        defer { withExtendedLifetime(lock) {} }
        let (chapters, graph, plan) = try load()
        lap("parse")
        try? AtomicFile.write(Data("\(options.scale)\n".utf8), to: options.cache.appendingPathComponent("last-scale"))
        let (keys, manifest) = try self.keys(chapters: chapters, graph: graph)
        lap("fingerprint")
        let cache = self.cache
        cache.removeAbandonedWork()

        let selected = options.only.isEmpty ? Set(graph.order) : graph.closure(of: options.only)
        var (known, toRun, lookups) = Self.plan(graph: graph, keys: keys, cache: cache, selected: selected, cheap: options.cheap)

        var errors: [WeaveError] = []
        var executable: URL?
        // Stages are keyed only on the definitions they reach, so a new helper may leave nothing
        // to run: it is still compiled once, so that a broken one is reported, not hidden.
        let definitionsDigest = Digest.hex(Self.definitions(chapters))
        let definitionsStamp = options.cache.appendingPathComponent("definitions-compiled")
        if toRun.isEmpty, (try? String(contentsOf: definitionsStamp, encoding: .utf8)) != definitionsDigest {
            display.message("weave: compiling the changed define blocks (nothing to run)")
            let compiled = try compile(chapters, manifest: manifest, keys: keys)
            lap("compile")
            if compiled.succeeded {
                try? AtomicFile.write(Data(definitionsDigest.utf8), to: definitionsStamp)
            } else {
                errors += compileErrors(compiled.diagnostics, log: compiled.log, graph: graph, toRun: [], keys: keys, results: &known)
            }
        }
        if !toRun.isEmpty {
            display.message("weave: compiling stages (\(toRun.count) to run)")
            var (compiled, excluded) = try compileAround(chapters, manifest: manifest, keys: keys, graph: graph)
            lap("compile")
            if compiled.succeeded, !excluded.diagnostics.isEmpty {
                // Some stages did not compile; the rest were compiled without them and run.
                errors += compileErrors(excluded.diagnostics, log: "", graph: graph, toRun: [], keys: keys, results: &known)
                toRun.removeAll { excluded.stages.contains($0) }
                compiled.diagnostics = []
            }
            // The program must be what the keys describe: a library edited while it compiled
            // would run under the old key, so nothing runs and the author builds again.
            let after = try LibraryFingerprint(manifest: manifest).digests(root: options.root)
            let changedLibrary = toRun.contains { name in
                guard let stage = graph[name], let parts = keys[name] else { return false }
                return parts.library != (stage.kind.isPresentation ? after.presentation : after.compute)
            }
            if changedLibrary {
                for name in toRun {
                    known[name] = StageResult(status: .notRun("library sources changed while the stages compiled; build again"),
                                              key: keys[name]?.digest ?? "")
                }
                errors.append(WeaveError("library sources changed while the stages compiled, so nothing ran; build again"))
                toRun = []
            } else if compiled.succeeded {
                executable = compiled.executable
                if excluded.diagnostics.isEmpty { try? AtomicFile.write(Data(definitionsDigest.utf8), to: definitionsStamp) }
            } else {
                errors += compileErrors(excluded.diagnostics + compiled.diagnostics, log: compiled.log, graph: graph,
                                        toRun: toRun, keys: keys, results: &known)
                toRun = []
            }
        }
        var results = known
        if let executable, !toRun.isEmpty {
            let settings = RunSettings(executable: executable, scale: options.scale, seed: options.seed,
                                       blasThreads: options.blasThreads, dataPaths: options.dataPaths, root: options.root,
                                       timeout: options.timeout)
            var scheduler = Scheduler(graph: graph, cache: cache, keys: keys, settings: settings, jobs: options.jobs, display: display)
            scheduler.executor = options.executor.make()
            results = scheduler.run(toRun, known: known, lookups: lookups)
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
        var renderer = HTMLRenderer(plan: plan, graph: graph, results: results, provenance: provenance,
                                    math: MathRenderer(cacheFolder: options.cache.appendingPathComponent("math")))
        renderer.compileErrors = errors
        let report = renderer.render()
        errors += report.errors
        let reportFile = try write(report)
        // A figure that failed (or could not run) must not leave its last PNG looking current.
        for name in graph.order where graph[name]?.kind == .figure {
            switch results[name]?.status {
            case .failed, .notRun:
                for ext in ["svg", "png"] { try? FileManager.default.removeItem(at: options.figures.appendingPathComponent("\(name).\(ext)")) }
            default: break
            }
        }
        lap("render")
        return BuildOutcome(results: results, errors: errors, timings: timings, reportFile: reportFile)
    }

    /// Decides, per stage, cached / not built / to run. A stage whose needs are all cached has
    /// its full key now; one downstream of a stage that runs gets it when that need is done
    /// (`Scheduler`), and is then still served from the cache if the need published the same
    /// bytes. `lookups`: stages not to run (`--only`, `--cheap`) that wait for such a need and
    /// are cached if their key then is; `known` lists them as skipped until then.
    /// A stage about to run reads its needs' large files, so those are verified in full here: a
    /// need whose files turn out damaged is recomputed rather than failing the stage that reads it.
    public static func plan(graph: StageGraph, keys: [String: KeyParts], cache: Cache, selected: Set<String>,
                            cheap: Bool) -> (known: [String: StageResult], toRun: [String], lookups: [String]) {
        var known: [String: StageResult] = [:]
        var toRun: [String] = []
        var lookups: [String] = []
        for name in graph.order {
            guard let stage = graph[name], let base = keys[name] else { continue }
            let mayRun = selected.contains(name) && !(cheap && stage.expensive)
            var needKeys: [String: String] = [:]
            for need in stage.needs where known[need]?.status == .cached { needKeys[need] = known[need]?.key }
            if needKeys.count == Set(stage.needs).count, let parts = try? cache.resolve(base, needKeys: needKeys) {
                let key = parts.digest
                if let entry = cache.entry(for: key) {
                    known[name] = StageResult(status: .cached, key: key, entry: entry, duration: entry.manifest.duration)
                } else if mayRun {
                    toRun.append(name)
                } else {
                    known[name] = StageResult(status: .skipped, key: key)
                }
            } else if mayRun {
                toRun.append(name)  // its key is completed when its needs are done
            } else {
                known[name] = StageResult(status: .skipped, key: "")
                if stage.needs.contains(where: { toRun.contains($0) || lookups.contains($0) }) { lookups.append(name) }
            }
        }
        var checked: Set<String> = []
        var changed = true
        while changed {
            changed = false
            for name in toRun {
                for need in graph[name]?.needs ?? [] where known[need]?.status == .cached && !checked.contains(need) {
                    checked.insert(need)
                    if let key = known[need]?.key, cache.entry(for: key, verifyBlobs: true) == nil {
                        known[need] = nil
                        toRun.append(need)
                        changed = true
                    }
                }
            }
        }
        return (known, graph.order.filter(Set(toRun).contains), lookups)
    }

    /// Holds the cache for this build, and the compile folder too when it lies outside the cache
    /// (`--scratch`, shared by several caches: the stage program it holds is one build's until
    /// that build ends); a second build on either waits (saying so). Always cache first, then
    /// compile folder, so two builds cannot each hold one and wait for the other.
    public func lockCache() throws -> [CacheLock] {
        var display = self.display
        let cache = try CacheLock.acquire(cache: options.cache) { display.message($0) }
        // Resolved paths: the scratch may name the cache itself, or reach it through a link (a
        // second flock on the same lock file would wait for this build forever).
        let cachePath = Self.resolved(options.cache)
        let scratchPath = Self.resolved(options.scratch)
        guard scratchPath != cachePath, !scratchPath.hasPrefix(cachePath + "/") else { return [cache] }
        return [cache, try CacheLock.acquire(cache: options.scratch) { display.message($0) }]
    }

    /// `url`'s path with links resolved, for a folder that may not exist yet: its nearest
    /// existing ancestor resolved, then the rest as given (nothing is created, so `weave clean`
    /// leaves no empty compile folder behind).
    static func resolved(_ url: URL) -> String {
        var existing = url.standardizedFileURL
        var rest: [String] = []
        while !FileManager.default.fileExists(atPath: existing.path), existing.pathComponents.count > 1 {
            rest.insert(existing.lastPathComponent, at: 0)
            existing = existing.deletingLastPathComponent()
        }
        return rest.reduce(existing.resolvingSymlinksInPath()) { $0.appendingPathComponent($1) }.standardizedFileURL.path
    }

    /// Compiles; when errors lie only inside stage bodies, compiles again with those bodies left
    /// out (a few rounds), so one broken stage does not stop every other new stage. Returns the
    /// last outcome and the stages left out with their errors.
    func compileAround(_ chapters: [Chapter], manifest: PackageManifest, keys: [String: KeyParts], graph: StageGraph)
        throws -> (StageCompiler.Outcome, excluded: (stages: Set<String>, diagnostics: [CompileDiagnostic])) {
        var excluded: Set<String> = []
        var diagnostics: [CompileDiagnostic] = []
        var display = self.display
        var compiled = try compile(chapters, manifest: manifest, keys: keys)
        for _ in 0..<4 where !compiled.succeeded && !compiled.diagnostics.isEmpty {
            let blamed = compiled.diagnostics.map { d in
                graph.stages.first { $0.location.file == d.location.file && $0.codeLines.contains(d.location.line) }?.name
            }
            // An error outside stage bodies (a define block, a library) breaks everything.
            guard !blamed.contains(where: { $0 == nil }) else { break }
            let names = Set(blamed.compactMap { $0 })
            guard !names.isSubset(of: excluded) else { break }
            excluded.formUnion(names)
            diagnostics += compiled.diagnostics
            display.message("weave: compiling again without \(names.sorted().joined(separator: ", ")) (compile errors)")
            compiled = try compile(chapters, manifest: manifest, keys: keys, excluding: excluded)
        }
        return (compiled, (excluded, diagnostics))
    }

    func compile(_ chapters: [Chapter], manifest: PackageManifest, keys: [String: KeyParts],
                 excluding: Set<String> = []) throws -> StageCompiler.Outcome {
        let package = options.cache.appendingPathComponent("package")
        try CodeGenerator(root: options.root, manifest: manifest)
            .write(chapters, codeKeys: keys.mapValues(\.code), excluding: excluding, to: package)
        var display = self.display
        defer { display.finish() }
        return try StageCompiler(packageFolder: package, scratchFolder: options.scratch).build { report, elapsed in
            display.update([RunningStage(name: "compiling", elapsed: elapsed, progress: report, lastDuration: nil)],
                           now: Date().timeIntervalSince1970)
        }
    }

    /// Compile errors land on the stages whose code they point into; the rest did not run.
    func compileErrors(_ diagnostics: [CompileDiagnostic], log: String, graph: StageGraph, toRun: [String], keys: [String: KeyParts],
                       results: inout [String: StageResult]) -> [WeaveError] {
        var errors: [WeaveError] = []
        var blamed: Set<String> = []
        for d in diagnostics {
            errors.append(WeaveError(d.message, at: d.location))
            if let stage = graph.stages.first(where: { $0.location.file == d.location.file && $0.codeLines.contains(d.location.line) }) {
                blamed.insert(stage.name)
                let previous: String
                if case .failed(let m) = results[stage.name]?.status { previous = m + "\n" } else { previous = "" }
                results[stage.name] = StageResult(status: .failed(previous + "compile error at \(d.location):\(d.column): \(d.message)"),
                                                  key: keys[stage.name]?.digest ?? "")
            }
        }
        if diagnostics.isEmpty {
            let tail = log.split(separator: "\n").filter { $0.contains("error") }.prefix(20).joined(separator: "\n")
            errors.append(WeaveError("the generated stage package did not compile:\n\(tail.isEmpty ? String(log.suffix(2000)) : tail)"))
        }
        for name in toRun where !blamed.contains(name) {
            results[name] = StageResult(status: .notRun("the stages did not compile"), key: keys[name]?.digest ?? "")
        }
        return errors
    }

    /// report/index.html, report/results.json (published results, and each figure's data digest
    /// under `@figure-data`), figures/NAME.{svg,png}; unchanged files are not rewritten.
    func write(_ report: RenderedReport) throws -> URL {
        let index = options.report.appendingPathComponent("index.html")
        try AtomicFile.writeIfChanged(Data(report.html.utf8), to: index)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        var results = report.results
        // Not a valid artifact name, so it cannot clash with a published result.
        results[ResultsDiff.figureDataField] = .object(report.figureData.mapValues { .string($0) })
        try AtomicFile.writeIfChanged(try encoder.encode(results), to: options.report.appendingPathComponent("results.json"))
        for figure in report.figures {
            try AtomicFile.writeIfChanged(figure.svg, to: options.figures.appendingPathComponent(figure.name + ".svg"))
            try AtomicFile.writeIfChanged(figure.png, to: options.figures.appendingPathComponent(figure.name + ".png"))
        }
        return index
    }

    // MARK: list, check, clean

    /// Per-file lines of each library digest (for `weave list` to name changed files).
    var libraryContents: URL { options.cache.appendingPathComponent("libraries") }

    /// The scale of the last build on this cache (what `weave list` describes by default).
    public static func lastBuildScale(cache: URL) -> String? {
        (try? String(contentsOf: cache.appendingPathComponent("last-scale"), encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Every block's state under the current options. A block is fresh when its key, completed
    /// from its needs' fresh outputs, is cached; stale ones say what differs from their last
    /// build at this scale: `own code`, `define block (names)`, `library (files)`, `inputs
    /// (needs)`, ... and, for needs not fresh themselves, `inputs (needs) if their output changes`.
    public func list() throws -> [ListEntry] {
        let (chapters, graph, _) = try load()
        let (keys, _) = try self.keys(chapters: chapters, graph: graph)
        let cache = self.cache
        let (resolved, fresh) = Self.currentKeys(graph: graph, keys: keys, cache: cache)
        return graph.order.compactMap { name in
            guard let stage = graph[name], let base = keys[name] else { return nil }
            let record = cache.lastRecord(stage: name, scale: options.scale)
            let notFresh = stage.needs.filter { !fresh.contains($0) }
            let parts = resolved[name]
            let state: ListEntry.State
            var duration = record?.duration
            if let parts, fresh.contains(name), let m = cache.manifest(for: parts.digest) {
                state = .fresh
                duration = m.duration
            } else if let record {
                var reasons = (parts ?? base).changes(since: record.parts)
                if let i = reasons.firstIndex(of: "library"),
                   let files = LibraryFingerprint.changedFiles(from: record.parts.library, to: base.library, contents: libraryContents),
                   !files.isEmpty {
                    reasons[i] = "library (" + files.joined(separator: ", ") + ")"
                }
                if !notFresh.isEmpty { reasons.append("inputs (\(notFresh.joined(separator: ", "))) if their output changes") }
                state = .stale(reasons.isEmpty ? ["cache entry missing or damaged"] : reasons)
            } else {
                state = .missing
            }
            return ListEntry(name: name, kind: stage.kind, location: stage.location, state: state, lastDuration: duration,
                             key: parts?.digest ?? "")
        }
    }

    /// Each block's key completed from its needs' cached outputs where all its needs are fresh
    /// (`resolved`), and the blocks whose completed key is in the cache (`fresh`).
    static func currentKeys(graph: StageGraph, keys: [String: KeyParts], cache: Cache)
        -> (resolved: [String: KeyParts], fresh: Set<String>) {
        var resolved: [String: KeyParts] = [:]
        var fresh: Set<String> = []
        for name in graph.order {
            guard let stage = graph[name], let base = keys[name], stage.needs.allSatisfy(fresh.contains) else { continue }
            var needKeys: [String: String] = [:]
            for need in stage.needs { needKeys[need] = resolved[need]?.digest }
            guard let parts = try? cache.resolve(base, needKeys: needKeys) else { continue }
            resolved[name] = parts
            if cache.manifest(for: parts.digest) != nil { fresh.insert(name) }
        }
        return (resolved, fresh)
    }

    /// Parses and compiles without running anything. Throws the parse errors; returns compile errors.
    public func check() throws -> [WeaveError] {
        let lock = try lockCache()
        defer { withExtendedLifetime(lock) {} }
        let (chapters, graph, _) = try load()
        let (keys, manifest) = try self.keys(chapters: chapters, graph: graph)
        let compiled = try compile(chapters, manifest: manifest, keys: keys)
        if compiled.succeeded { return [] }
        var ignored: [String: StageResult] = [:]
        return compileErrors(compiled.diagnostics, log: compiled.log, graph: graph, toRun: [], keys: keys, results: &ignored)
    }

    /// Removes cache entries that neither the current chapters nor any stage's last build refer to.
    public func clean() throws -> Int {
        let lock = try lockCache()
        defer { withExtendedLifetime(lock) {} }
        // Without readable chapters, nothing is known to be unused but superseded entries.
        guard let (chapters, graph, _) = try? load(), let (keys, _) = try? self.keys(chapters: chapters, graph: graph) else {
            return try cache.clean(keeping: [])
        }
        let current = Self.currentKeys(graph: graph, keys: keys, cache: cache)
        return try cache.clean(keeping: Set(current.resolved.values.map(\.digest)), stages: Set(graph.order))
    }
}
