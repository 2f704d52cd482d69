import Foundation
import Testing
import WeaveRuntime
import Weave

/// Issue 18's failures, each reproduced on the mini project (real compile, real processes):
/// concurrent builds, library reach, content-keyed inputs, timeouts and signals. Serialized:
/// the scenarios share one cache and compiled program, as builds of one project do.
@Suite(.serialized) struct SafetyTests {
    /// `first` keeps build A busy; `value` starts after it. A run-unique comment makes every
    /// key new, so nothing comes from an earlier run's cache.
    static func slowValue(_ value: Int, nonce: String) -> String {
        """
        \(fence)swift stage=first
        // \(nonce)
        Thread.sleep(forTimeInterval: 4)
        try publish("first", 0)
        \(fence)

        \(fence)swift stage=value
        // \(nonce)
        try publish("value", \(value))
        \(fence)
        """
    }

    /// Build A (one job) runs `first`; meanwhile `value` is edited and built with --only (B),
    /// which without the lock recompiles the program A starts `value` from next. B must wait for
    /// A; A's result stays under A's key; reverting the edit serves A's value.
    @Test func twoBuildsAtOnceCannotPoisonTheCache() throws {
        let mini = try MiniProject.make()
        let nonce = UUID().uuidString
        let chapters = try mini.chapters("lock", ["01.md": Self.slowValue(1, nonce: nonce)])
        let aLog = Transcript(), bLog = Transcript()
        let optionsA = mini.options(chapters, jobs: 1)
        let a = Background { var w = Weaver(options: optionsA, display: aLog.display); return try w.build() }
        #expect(eventually(seconds: 600) { aLog.text.contains("▸ first") }, "build A never started its stage: \(aLog.text)")
        try Self.slowValue(2, nonce: nonce).write(to: chapters.appendingPathComponent("01.md"), atomically: true, encoding: .utf8)
        let optionsB = mini.options(chapters, only: ["value"])
        let b = Background { var w = Weaver(options: optionsB, display: bLog.display); return try w.build() }
        #expect(eventually(seconds: 30) { bLog.text.contains("another build") }, "B did not report waiting: \(bLog.text)")
        let outcomeA = try #require(try a.wait(seconds: 120))
        let outcomeB = try #require(try b.wait(seconds: 300))
        #expect(outcomeA.results["value"]?.status == .ran)
        #expect(MiniProject.published(outcomeA, "value", "value") == "1")
        #expect(MiniProject.published(outcomeB, "value", "value") == "2")

        try Self.slowValue(1, nonce: nonce).write(to: chapters.appendingPathComponent("01.md"), atomically: true, encoding: .utf8)
        var reverted = Weaver(options: optionsA, display: ProgressDisplay(mode: .quiet))
        let outcomeC = try reverted.build()
        #expect(outcomeC.results["value"]?.status == .cached)
        #expect(MiniProject.published(outcomeC, "value", "value") == "1")
        #expect(try reverted.list().map(\.state) == [.fresh, .fresh])

        // The program now holds B's code; a process started for A's key refuses to run.
        let (keysA, _) = try reverted.keys(chapters: try reverted.load().chapters, graph: try reverted.load().graph)
        let program = Process()
        program.executableURL = mini.cache.appendingPathComponent("build/release/\(CodeGenerator.targetName)")
        let out = MiniProject.folder.appendingPathComponent("wrong-program-out")
        try? FileManager.default.removeItem(at: out)
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        program.environment = [StageProtocol.stageVariable: "value", StageProtocol.scaleVariable: "tiny",
                               StageProtocol.seedVariable: "0", StageProtocol.outputVariable: out.path,
                               StageProtocol.progressVariable: out.appendingPathComponent("p.json").path,
                               StageProtocol.inputsVariable: "{}",
                               StageProtocol.codeKeyVariable: try #require(keysA["value"]).code]
        program.standardError = FileHandle.nullDevice
        try program.run()
        program.waitUntilExit()
        #expect(program.terminationStatus == StageProtocol.wrongProgramExitCode)
        #expect(!FileManager.default.fileExists(atPath: out.appendingPathComponent("artifacts/value.json").path))
    }

    /// A table and a compute stage calling the library with no compute stage between: a changed
    /// library function re-makes them; a comment or re-indentation in the library does not.
    @Test func blocksAreKeyedOnTheLibraryTheyReach() throws {
        let mini = try MiniProject.make()
        defer { try? mini.setLibrary(answer: 42) }
        let chapters = try mini.chapters("library", ["01.md": """
        \(fence)swift table=answer
        Table(columns: ["answer"], rows: [["\\(libraryAnswer())"]])
        \(fence)

        \(fence)swift stage=computed
        try publish("computed", libraryAnswer())
        \(fence)
        """])
        var weaver = Weaver(options: mini.options(chapters), display: ProgressDisplay(mode: .quiet))
        let first = try weaver.build()
        #expect(first.exitCode == 0, "\(first.errors)")
        #expect(MiniProject.published(first, "computed", "computed") == "42")
        #expect(Weaver.lastBuildScale(cache: mini.cache) == "tiny")

        try mini.setLibrary(answer: 42, comment: "// a new comment\n/* and a block\n   comment */   ")
        #expect(try weaver.list().map(\.state) == [.fresh, .fresh])

        try mini.setLibrary(answer: 43)
        let states = try weaver.list().map(\.state)
        #expect(states == [.stale(["library (Sources/Lib/Lib.swift)"]), .stale(["library (Sources/Lib/Lib.swift)"])], "\(states)")
        let second = try weaver.build()
        #expect(second.results["answer"]?.status == .ran)
        #expect(MiniProject.published(second, "computed", "computed") == "43")
        let html = try String(contentsOf: second.reportFile, encoding: .utf8)
        #expect(html.contains("<td>43</td>"))
    }

    /// `--data` and `files=` are keyed on content: new bytes of the same size with the old
    /// modification time put back (`cp -p`, `rsync -a`) change the key. `env=` values too.
    @Test func dataFilesAndEnvironmentAreKeyedOnContent() throws {
        let mini = try MiniProject.make()
        let data = MiniProject.folder.appendingPathComponent("data-\(UUID().uuidString.prefix(6))")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: data) }
        let file = data.appendingPathComponent("labels.bin")
        try Data("aaaa".utf8).write(to: file)
        let variable = "WEAVE_TEST_SETTING_\(UUID().uuidString.prefix(6).filter(\.isLetter))"
        let chapters = try mini.chapters("declared", ["01.md": """
        \(fence)swift stage=reader files=\(file.path) env=\(variable)
        try publish("size", 4)
        \(fence)

        \(fence)swift stage=plain
        try publish("plain", 1)
        \(fence)
        """])
        let weaver = Weaver(options: mini.options(chapters, dataPaths: [data.path]), display: ProgressDisplay(mode: .quiet))
        func keys() throws -> [String: KeyParts] {
            let loaded = try weaver.load()
            return try weaver.keys(chapters: loaded.chapters, graph: loaded.graph).keys
        }
        let before = try keys()
        let stamp = try FileManager.default.attributesOfItem(atPath: file.path)[.modificationDate] as? Date
        try Data("bbbb".utf8).write(to: file)
        try FileManager.default.setAttributes([.modificationDate: try #require(stamp)], ofItemAtPath: file.path)
        let after = try keys()
        #expect(after["plain"]?.data != before["plain"]?.data)
        #expect(after["reader"]?.extra != before["reader"]?.extra)
        #expect(after["plain"]?.extra == nil)
        #expect(try keys()["reader"] == after["reader"])

        setenv(variable, "on", 1)
        defer { unsetenv(variable) }
        let withVariable = try keys()
        #expect(withVariable["reader"]?.extra != after["reader"]?.extra)
        #expect(withVariable["reader"]?.changes(since: try #require(after["reader"])) == ["files=/env="])
        #expect(withVariable["plain"] == after["plain"])

        try FileManager.default.removeItem(at: file)
        let missing = allErrors { _ = try keys() }
        #expect(missing.contains { $0.message.contains(file.path) && $0.location?.line == 1 }, "\(missing)")
    }

    /// `timeout=` on a block and `--timeout` for the rest: the stage is stopped, its card says so.
    @Test func stagesThatRunTooLongAreStopped() throws {
        let mini = try MiniProject.make()
        let chapters = try mini.chapters("timeout", ["01.md": """
        \(fence)swift stage=forever timeout=1
        while true { Thread.sleep(forTimeInterval: 0.01) }
        \(fence)

        \(fence)swift stage=slow
        Thread.sleep(forTimeInterval: 60)
        try publish("slow", 1)
        \(fence)
        """])
        var weaver = Weaver(options: mini.options(chapters, timeout: 2), display: ProgressDisplay(mode: .quiet))
        let start = Date()
        let outcome = try weaver.build()
        #expect(Date().timeIntervalSince(start) < 60)
        guard case .failed(let forever) = outcome.results["forever"]?.status,
              case .failed(let slow) = outcome.results["slow"]?.status else {
            Issue.record("expected both to fail: \(outcome.results.mapValues(\.status))")
            return
        }
        #expect(forever.contains("timed out") && forever.contains("timeout="))
        #expect(slow.contains("timed out") && slow.contains("--timeout"))
        let html = try String(contentsOf: outcome.reportFile, encoding: .utf8)
        #expect(html.contains("timed out"))
    }

    /// A stage that writes its pid to `$WEAVE_TEST_PIDFILE`, then runs until killed.
    static let spinningStage = """
        \(fence)swift stage=spin env=WEAVE_TEST_PIDFILE
        let pidFile = ProcessInfo.processInfo.environment["WEAVE_TEST_PIDFILE"] ?? ""
        try "\\(getpid())".write(toFile: pidFile, atomically: true, encoding: .utf8)
        while true { Thread.sleep(forTimeInterval: 0.05) }
        \(fence)
        """

    /// Ctrl-C, SIGTERM and `kill -9` of `weave` end its stage processes too.
    @Test(arguments: [SIGINT, SIGTERM, SIGKILL])
    func stagesDieWithTheWeaver(signal: Int32) throws {
        let mini = try MiniProject.make()
        let weave = try #require(Self.weaveExecutable(), "the weave executable is not built next to the tests")
        let chapters = try mini.chapters("signals", ["01.md": Self.spinningStage])
        let pidFile = MiniProject.folder.appendingPathComponent("spin-\(signal).pid")
        try? FileManager.default.removeItem(at: pidFile)
        let process = Process()
        process.executableURL = weave
        process.arguments = ["build", "--root", mini.root.path, "--chapters", chapters.path, "--cache", mini.cache.path,
                             "--report", MiniProject.folder.appendingPathComponent("report-signals").path,
                             "--figures", MiniProject.folder.appendingPathComponent("figures-signals").path,
                             "--scale", "tiny", "--jobs", "1"]
        var environment = ProcessInfo.processInfo.environment
        environment["WEAVE_TEST_PIDFILE"] = pidFile.path
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        let started = eventually(seconds: 600) { FileManager.default.fileExists(atPath: pidFile.path) || !process.isRunning }
        let pidText = try? String(contentsOf: pidFile, encoding: .utf8)
        let stagePid = try #require(started ? pidText.flatMap { Int32($0) } : nil, "the stage never started")
        #expect(isAlive(stagePid))
        kill(process.processIdentifier, signal)
        #expect(eventually(seconds: 10) { !process.isRunning }, "weave did not exit on signal \(signal)")
        if signal == SIGKILL {
            #expect(process.terminationReason == .uncaughtSignal)
        } else {
            #expect(process.terminationStatus == 128 + signal)
        }
        #expect(eventually(seconds: 10) { !isAlive(stagePid) }, "stage \(stagePid) outlived weave (signal \(signal))")
        if isAlive(stagePid) { kill(stagePid, SIGKILL) }
    }

    /// A compile error takes down only its stage; output before a crash, invalid UTF-8 and the
    /// renderer's placeholder words survive; failures are listed at the top; a failed figure's
    /// old files go; a seeds=N stage's duration covers all its replicas.
    @Test func errorsDoNotHide() throws {
        let mini = try MiniProject.make()
        let variable = "WEAVE_TEST_BREAK_FIGURE"
        unsetenv(variable)
        let chapters = try mini.chapters("errors", ["01.md": """
        # Errors

        \(fence)swift define hide
        struct Box: Figure {
            var size: FigureSize { FigureSize(width: 10, height: 10) }
            func svg() throws -> Data { Data("<svg xmlns=\\"http://www.w3.org/2000/svg\\" width=\\"10\\" height=\\"10\\"/>".utf8) }
            func png(scale: Double) throws -> Data { Data([0x89, 0x50, 0x4E, 0x47]) }
        }
        struct Broke: Error {}
        \(fence)

        \(fence)swift stage=good
        try publish("good", 1)
        \(fence)

        \(fence)swift stage=broken
        let x: Int = "not a number"
        \(fence)

        \(fence)swift stage=chatty
        print("before the crash")
        FileHandle.standardOutput.write(Data([0x61, 0xFF, 0x62, 0x0A]))
        print("WEAVETOKEN0X and WEAVEBLOCK0X")
        let empty: [Int] = []
        print(empty[1])
        \(fence)

        \(fence)swift figure=shape env=\(variable)
        if ProcessInfo.processInfo.environment["\(variable)"] != nil { throw Broke() }
        return Box()
        \(fence)

        \(fence)swift stage=seeded seeds=2
        Thread.sleep(forTimeInterval: 1 + Double(seed))
        try publish("seeded", seed)
        \(fence)
        """])
        var weaver = Weaver(options: mini.options(chapters, jobs: 1), display: ProgressDisplay(mode: .quiet))
        let first = try weaver.build()
        #expect(first.results["good"]?.status == .ran, "\(first.errors)")
        #expect(first.results["shape"]?.status == .ran)
        guard case .failed(let broken) = first.results["broken"]?.status else {
            Issue.record("broken: \(String(describing: first.results["broken"]?.status))")
            return
        }
        #expect(broken.contains("compile error") && broken.contains("01.md:17"))
        let seeded = try #require(first.results["seeded"]?.duration)
        #expect(seeded >= 3, "two replicas one after the other (1 s + 2 s) took \(seeded) s")
        let html = try String(contentsOf: first.reportFile, encoding: .utf8)
        #expect(html.contains("before the crash"))
        #expect(html.contains("a\u{FFFD}b"))
        #expect(html.contains("<td>1 thread, 1 at a time, kernels \(RunSettings.engineKernelPath())</td><td>fresh run</td>"))
        #expect(html.contains("&#87;EAVETOKEN0X and &#87;EAVEBLOCK0X"))
        #expect(html.contains("id=\"failures\"") && html.contains("href=\"#stage-broken\"") && html.contains("href=\"#stage-chatty\""))
        let png = MiniProject.folder.appendingPathComponent("figures-chapters-errors/shape.png")
        #expect(FileManager.default.fileExists(atPath: png.path))

        setenv(variable, "1", 1)
        defer { unsetenv(variable) }
        let second = try weaver.build()
        guard case .failed = second.results["shape"]?.status else {
            Issue.record("shape should fail: \(String(describing: second.results["shape"]?.status))")
            return
        }
        #expect(!FileManager.default.fileExists(atPath: png.path))

        // An error in a define block shows its text in the report.
        let text = try String(contentsOf: chapters.appendingPathComponent("01.md"), encoding: .utf8)
        try text.replacingOccurrences(of: "struct Broke: Error {}", with: "struct Broke: Error { let y: Int = \"text\" }")
            .write(to: chapters.appendingPathComponent("01.md"), atomically: true, encoding: .utf8)
        let third = try weaver.build()
        let brokenHTML = try String(contentsOf: third.reportFile, encoding: .utf8)
        #expect(brokenHTML.contains("definitions did not compile"))
        #expect(brokenHTML.contains("cannot convert value of type"))
    }

    /// Issue 18 item 10 on a real build: a new helper in a define block re-runs nothing; a
    /// changed one re-runs its users only; a stage whose code changes but whose output does not
    /// leaves what follows it cached (early cutoff); `weave list` says which part changed; the
    /// figure's data digest in results.json moves only when its data does (`weave diff`).
    @Test func keysFollowWhatEachStageUses() throws {
        let mini = try MiniProject.make()
        let nonce = UUID().uuidString
        func chapter(helper: String = "", scaled: String = "x * 10", source: String = "1") -> String {
            """
            \(fence)swift define
            // \(nonce)
            func scaled(_ x: Int) -> Int { \(scaled) }
            struct Bar: Figure {
                var width: Double
                var size: FigureSize { FigureSize(width: width, height: 10) }
                func svg() throws -> Data { Data("<svg xmlns=\\"http://www.w3.org/2000/svg\\" width=\\"\\(width)\\" height=\\"10\\"/>".utf8) }
                func png(scale: Double) throws -> Data { Data([0x89, 0x50, 0x4E, 0x47]) }
            }
            \(helper)
            \(fence)

            \(fence)swift stage=source
            try publish("source", \(source))
            \(fence)

            \(fence)swift stage=user needs=source
            let s: Int = try input("source")
            try publish("user", scaled(s))
            \(fence)

            \(fence)swift stage=other
            try publish("other", 2)
            \(fence)

            \(fence)swift figure=plot needs=source
            let s: Int = try input("source")
            return Bar(width: Double(s))
            \(fence)
            """
        }
        let chapters = try mini.chapters("keys", ["01.md": chapter()])
        var weaver = Weaver(options: mini.options(chapters), display: ProgressDisplay(mode: .quiet))
        func edit(_ text: String) throws { try text.write(to: chapters.appendingPathComponent("01.md"), atomically: true, encoding: .utf8) }
        func statuses(_ outcome: BuildOutcome) -> [StageStatus?] { ["source", "user", "other", "plot"].map { outcome.results[$0]?.status } }
        func states() throws -> [ListEntry.State] { try weaver.list().map(\.state) }
        let resultsFile = MiniProject.folder.appendingPathComponent("report-chapters-keys/results.json")
        func snapshot(_ name: String) throws -> URL {
            let copy = MiniProject.folder.appendingPathComponent("results-\(name).json")
            try? FileManager.default.removeItem(at: copy)
            try FileManager.default.copyItem(at: resultsFile, to: copy)
            return copy
        }

        let first = try weaver.build()
        #expect(first.exitCode == 0, "\(first.errors)")
        #expect(MiniProject.published(first, "user", "user") == "10")
        let built = try snapshot("built")

        // A new helper nothing uses: everything stays fresh and cached.
        try edit(chapter(helper: "func newHelper() -> Int { 7 }"))
        #expect(try states() == [.fresh, .fresh, .fresh, .fresh])
        let helper = try weaver.build()
        #expect(statuses(helper) == [.cached, .cached, .cached, .cached], "\(helper.errors)")
        #expect(helper.exitCode == 0)

        // A changed helper: its user only.
        try edit(chapter(helper: "func newHelper() -> Int { 7 }", scaled: "x * 100"))
        #expect(try states() == [.fresh, .stale(["define block (scaled)"]), .fresh, .fresh])
        let changed = try weaver.build()
        #expect(statuses(changed) == [.cached, .ran, .cached, .cached])
        #expect(MiniProject.published(changed, "user", "user") == "100")

        // New code, same output: source re-runs, what needs it does not.
        try edit(chapter(helper: "func newHelper() -> Int { 7 }", scaled: "x * 100", source: "2 - 1"))
        let pending = ListEntry.State.stale(["inputs (source) if their output changes"])
        #expect(try states() == [.stale(["own code"]), pending, .fresh, pending])
        let cutoff = try weaver.build()
        #expect(statuses(cutoff) == [.ran, .cached, .cached, .cached])
        #expect(try states() == [.fresh, .fresh, .fresh, .fresh])
        #expect(try ResultsDiff(oldFile: built, newFile: resultsFile).changes == [.moved("user", 10, 100)])

        // New output: the figure's data changed, and diff says so.
        try edit(chapter(helper: "func newHelper() -> Int { 7 }", scaled: "x * 100", source: "3"))
        let moved = try weaver.build()
        #expect(statuses(moved) == [.ran, .ran, .cached, .ran])
        let diff = try ResultsDiff(oldFile: built, newFile: resultsFile)
        #expect(diff.changes == [.moved("source", 1, 3), .moved("user", 10, 300), .figure("plot", "data changed")], "\(diff.changes)")

        // A broken helper nothing uses re-runs nothing, but is still compiled and reported.
        try edit(chapter(helper: "func newHelper() -> Int { \"seven\" }", scaled: "x * 100", source: "3"))
        let broken = try weaver.build()
        #expect(statuses(broken) == [.cached, .cached, .cached, .cached])
        #expect(broken.exitCode == 1)
        #expect(broken.errors.contains { $0.message.contains("cannot convert") }, "\(broken.errors)")
    }

    /// The `weave` binary built beside the test bundle.
    static func weaveExecutable() -> URL? {
        let candidates = [Bundle.main.executableURL, URL(fileURLWithPath: CommandLine.arguments[0])]
            .compactMap { $0?.deletingLastPathComponent() } + [Bundle.main.bundleURL.deletingLastPathComponent()]
        for folder in candidates {
            let url = folder.appendingPathComponent("weave")
            if FileManager.default.isExecutableFile(atPath: url.path) { return url }
        }
        return nil
    }
}

/// Runs the `weave` built beside the tests with `arguments`: its exit status and stderr.
func runWeave(_ arguments: [String]) throws -> (status: Int32, stderr: String) {
    let exe = try #require(SafetyTests.weaveExecutable(), "weave binary not built")
    let p = Process()
    p.executableURL = exe
    p.arguments = arguments
    let err = Pipe()
    p.standardError = err; p.standardOutput = Pipe()
    try p.run()
    let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    p.waitUntilExit()
    return (p.terminationStatus, text)
}

/// `weave` run outside a project says what is missing (it printed Foundation's raw
/// NSCocoaErrorDomain error about a folder it did not name as the chapters folder).
@Suite struct OutsideAProjectTests {
    @Test func weaveOutsideAProjectNamesTheChaptersFolder() throws {
        let empty = FileManager.default.temporaryDirectory.appendingPathComponent("no-project-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        for command in ["list", "build", "check"] {
            let (status, text) = try runWeave([command, "--root", empty.path])
            #expect(status == 64, "\(command): \(text)")
            #expect(text.contains("no chapters folder at \(empty.path)/chapters"), "\(command): \(text)")
            #expect(!text.contains("NSCocoaErrorDomain"))
        }
    }
}

/// More stages or BLAS threads per local stage than the machine has cores are refused before
/// any work (--threads 1000 was accepted on 2 cores), and negative values by name.
@Suite struct ThreadLimitTests {
    @Test func weaveRefusesMoreThreadsThanCores() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("threads-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root.appendingPathComponent("chapters"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        let cores = ProcessInfo.processInfo.activeProcessorCount
        // ArgumentParser took "-1" for an option and said "Missing value".
        for (args, message) in [(["--threads", "\(cores + 1)"], "--threads \(cores + 1) is more than this machine's \(cores) cores"),
                                (["--jobs", "\(cores + 1)"], "--jobs \(cores + 1) is more than this machine's \(cores) cores"),
                                (["--threads", "-1"], "--threads must be 1 or more, got -1"),
                                (["--jobs", "-3"], "--jobs must be 1 or more, got -3"),
                                (["--timeout", "-5"], "--timeout must be a positive number of seconds")] {
            let (status, said) = try runWeave(["build", "--root", root.path] + args)
            #expect(status == 64 && said.contains(message), "\(args): \(said)")
        }
        #expect(!FileManager.default.fileExists(atPath: root.appendingPathComponent(".weave-cache").path), "nothing was started")
    }
}
