import Foundation
import Synchronization
import Testing
import Weave
import WeavePreview

/// `weave preview` run as the real program on the mini project: serving, live reload, progress,
/// errors in the page, the port check, Ctrl-C, and a headless Chromium following an edit.
/// Nested in `SafetyTests` so it shares that suite's serialisation (one mini project and cache).
extension SafetyTests {
    @Suite struct PreviewTests {
        /// A running `weave preview --port 0` and everything it printed.
        final class PreviewProcess {
            let process: Process
            let port: UInt16
            let report: URL
            private let output: OutputLog

            var printed: String { output.text }

            private init(process: Process, port: UInt16, report: URL, output: OutputLog) {
                self.process = process
                self.port = port
                self.report = report
                self.output = output
            }

            static func start(_ mini: MiniProject, chapters: URL, port: UInt16 = 0, environment: [String: String] = [:]) throws -> PreviewProcess {
                let weave = try #require(SafetyTests.weaveExecutable(), "the weave executable is not built next to the tests")
                let report = MiniProject.folder.appendingPathComponent("report-\(chapters.lastPathComponent)")
                let process = Process()
                process.executableURL = weave
                process.arguments = ["preview", "--port", "\(port)", "--root", mini.root.path, "--chapters", chapters.path,
                                     "--cache", mini.cache.path, "--report", report.path,
                                     "--figures", MiniProject.folder.appendingPathComponent("figures-\(chapters.lastPathComponent)").path,
                                     "--scale", "tiny", "--jobs", "1"]
                process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
                let output = OutputLog()
                output.capture(process)
                try process.run()
                var port: UInt16?
                _ = eventually(seconds: 60) {
                    let text = output.text
                    if let range = text.range(of: "serving http://127.0.0.1:") {
                        port = UInt16(text[range.upperBound...].prefix { $0.isNumber })
                    }
                    return port != nil || !process.isRunning
                }
                guard let port else {
                    if process.isRunning { kill(process.processIdentifier, SIGKILL) }
                    throw LoopbackError("weave preview did not start serving: \(output.text)")
                }
                return PreviewProcess(process: process, port: port, report: report, output: output)
            }

            /// Sends `signal` and waits (bounded) for the exit status.
            func stop(_ signal: Int32 = SIGINT) -> Int32? {
                kill(process.processIdentifier, signal)
                guard eventually(seconds: 15, { !process.isRunning }) else { return nil }
                return process.terminationStatus
            }

            deinit { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        }

        static func chapter(_ prose: String, stage: String? = nil) -> String {
            var text = "# Preview\n\n\(prose)\n"
            if let stage { text += "\n\(fence)swift stage=answer\n\(stage)\n\(fence)\n" }
            return text
        }

        /// The page's text without tags (values are wrapped in spans).
        static func text(_ html: String) -> String {
            html.replacingOccurrences(of: "<[^>]+>", with: "", options: .regularExpression)
        }

        /// Reads messages until one of `type` arrives (bounded); returns the ones before it and it.
        static func messages(until type: String, from socket: WebSocketClient, within seconds: Double) throws -> [[String: Any]] {
            let deadline = Date().addingTimeInterval(seconds)
            var seen: [[String: Any]] = []
            while true {
                let text = try socket.receive(within: max(0.1, deadline.timeIntervalSinceNow))
                let message = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "not JSON: \(text)")
                seen.append(message)
                if message["type"] as? String == type { return seen }
            }
        }

        /// Waits until the preview serves a finished build (the first one included).
        static func waitForBuild(_ socket: WebSocketClient, within seconds: Double) throws {
            let hello = try messages(until: "hello", from: socket, within: 10)
            if (hello.last?["generation"] as? Int ?? 0) == 0 { _ = try messages(until: "reload", from: socket, within: seconds) }
        }

        @Test func servesRebuildsOnSaveAndReloadsThePage() throws {
            let mini = try MiniProject.make()
            let chapters = try mini.chapters("preview", ["01.md": Self.chapter("The answer is {{ answer }}; first draft.",
                                                                               stage: "try publish(\"answer\", libraryAnswer())")])
            let file = chapters.appendingPathComponent("01.md")
            let preview = try PreviewProcess.start(mini, chapters: chapters)
            let socket = try WebSocketClient(port: preview.port, path: PreviewPage.socketPath)
            try Self.waitForBuild(socket, within: 600)
            // A page from another site may not listen in; one served from this machine may.
            #expect(throws: LoopbackError.self) {
                _ = try WebSocketClient(port: preview.port, path: PreviewPage.socketPath, origin: "https://example.com")
            }
            _ = try WebSocketClient(port: preview.port, path: PreviewPage.socketPath, origin: "http://localhost:\(preview.port)")

            let first = try httpGet(port: preview.port, path: "/")
            #expect(first.status == 200)
            #expect(Self.text(first.body).contains("The answer is 42; first draft."), "\(first.body.suffix(3000))")
            #expect(first.body.contains("<script id=\"\(PreviewPage.marker)\">"))
            let onDisk = try String(contentsOf: preview.report.appendingPathComponent("index.html"), encoding: .utf8)
            #expect(onDisk.contains("first draft") && !onDisk.contains("<script"), "the built report must stay script-free")

            // A prose edit: the page is told why, told to reload, and the new page holds the edit.
            try Self.chapter("The answer is {{ answer }}; second draft.", stage: "try publish(\"answer\", libraryAnswer())")
                .write(to: file, atomically: true, encoding: .utf8)
            let prose = try Self.messages(until: "reload", from: socket, within: 120)
            #expect(prose.contains { $0["type"] as? String == "start" && ($0["text"] as? String ?? "").contains("01.md changed") }, "\(prose)")
            #expect(Self.text(try httpGet(port: preview.port, path: "/").body).contains("The answer is 42; second draft."))

            // A stage edit: the page hears the stage start and finish before the reload.
            try Self.chapter("The answer is {{ answer }}; second draft.", stage: "try publish(\"answer\", libraryAnswer() + 1)")
                .write(to: file, atomically: true, encoding: .utf8)
            let stage = try Self.messages(until: "reload", from: socket, within: 600)
            let lines = stage.compactMap { $0["type"] as? String == "message" ? $0["text"] as? String : nil }
            #expect(lines.contains { $0.hasPrefix("▸ answer") } && lines.contains { $0.hasPrefix("✓ answer") }, "\(stage)")
            #expect(Self.text(try httpGet(port: preview.port, path: "/").body).contains("The answer is 43; second draft."))

            // A library edit (Sources/) rebuilds too.
            try mini.setLibrary(answer: 7)
            _ = try Self.messages(until: "reload", from: socket, within: 600)
            #expect(Self.text(try httpGet(port: preview.port, path: "/").body).contains("The answer is 8; second draft."))

            // A failing stage: its error card and the failure banner are on the page.
            try Self.chapter("The answer is {{ answer }}.", stage: "struct Refused: Error {}\nthrow Refused()")
                .write(to: file, atomically: true, encoding: .utf8)
            _ = try Self.messages(until: "reload", from: socket, within: 600)
            let failed = try httpGet(port: preview.port, path: "/").body
            #expect(failed.contains("id=\"failures\"") && failed.contains("Refused"), "\(failed.suffix(3000))")

            // Chapters that do not parse: the error is shown above the last report that built.
            try Self.chapter("The answer is {{ nothing }}.").write(to: file, atomically: true, encoding: .utf8)
            _ = try Self.messages(until: "reload", from: socket, within: 120)
            let broken = try httpGet(port: preview.port, path: "/").body
            #expect(broken.contains("id=\"\(PreviewPage.marker)-error\"") && broken.contains("nothing"), "\(broken.prefix(3000))")
            let stillOnDisk = try String(contentsOf: preview.report.appendingPathComponent("index.html"), encoding: .utf8)
            #expect(!stillOnDisk.contains("<script") && !stillOnDisk.contains(PreviewPage.marker))

            #expect(preview.stop(SIGINT) == 130, "\(preview.printed)")
            #expect(throws: (any Error).self) { _ = try LoopbackConnection(port: preview.port) }
        }

        /// A taken port is a clear error and exit 2, before anything builds.
        @Test func portInUseExitsWithTwo() throws {
            let mini = try MiniProject.make()
            let chapters = try mini.chapters("preview-port", ["01.md": Self.chapter("Nothing to run.")])
            let holder = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            defer { close(holder) }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            var size = socklen_t(MemoryLayout<sockaddr_in>.size)
            let bound = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(holder, $0, size) == 0 && listen(holder, 1) == 0 && getsockname(holder, $0, &size) == 0 }
            }
            try #require(bound)
            let port = UInt16(bigEndian: address.sin_port)
            let weave = try #require(SafetyTests.weaveExecutable())
            let process = Process()
            process.executableURL = weave
            process.arguments = ["preview", "--port", "\(port)", "--root", mini.root.path, "--chapters", chapters.path, "--cache", mini.cache.path]
            let errors = Pipe()
            process.standardOutput = FileHandle.nullDevice
            process.standardError = errors
            try process.run()
            let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            #expect(process.terminationStatus == 2)
            #expect(stderr.contains("port \(port) on 127.0.0.1 is in use"), "\(stderr)")
        }

        /// Ctrl-C during a build stops the server and the stage that was running.
        @Test func ctrlCStopsTheServerAndTheBuild() throws {
            let mini = try MiniProject.make()
            let chapters = try mini.chapters("preview-spin", ["01.md": SafetyTests.spinningStage])
            let pidFile = MiniProject.folder.appendingPathComponent("preview-spin.pid")
            try? FileManager.default.removeItem(at: pidFile)
            let preview = try PreviewProcess.start(mini, chapters: chapters, environment: ["WEAVE_TEST_PIDFILE": pidFile.path])
            #expect(eventually(seconds: 600) { FileManager.default.fileExists(atPath: pidFile.path) }, "the stage never started: \(preview.printed)")
            let stagePid = try #require(Int32((try? String(contentsOf: pidFile, encoding: .utf8)) ?? ""))
            let page = try httpGet(port: preview.port, path: "/")
            #expect(page.status == 200 && page.body.contains(PreviewPage.marker))
            #expect(preview.stop(SIGINT) == 130, "\(preview.printed)")
            #expect(eventually(seconds: 10) { !isAlive(stagePid) }, "stage \(stagePid) outlived weave preview")
            if isAlive(stagePid) { kill(stagePid, SIGKILL) }
            #expect(throws: (any Error).self) { _ = try LoopbackConnection(port: preview.port) }
        }

        static let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first { FileManager.default.isExecutableFile(atPath: $0) }

        /// A real browser: headless Chromium opens the page, the chapter is edited, and the
        /// page reloads itself (a mark set on the old page is gone) and shows the edit; then a
        /// broken chapter shows its error on the page. Driven over the DevTools protocol.
        @Test(.enabled(if: chromium != nil, "headless Chromium is not installed (Debian package chromium): browser test skipped"))
        func chromiumFollowsTheEdits() throws {
            let mini = try MiniProject.make()
            let chapters = try mini.chapters("preview-browser", ["01.md": Self.chapter("Browser sees the first draft.")])
            let file = chapters.appendingPathComponent("01.md")
            let preview = try PreviewProcess.start(mini, chapters: chapters)
            let socket = try WebSocketClient(port: preview.port, path: PreviewPage.socketPath)
            try Self.waitForBuild(socket, within: 120)

            let browser = try Browser(chromium: try #require(Self.chromium), url: "http://127.0.0.1:\(preview.port)/")
            defer { browser.quit() }
            #expect(browser.waitFor("document.body.innerText.includes('first draft')", seconds: 60), "\(browser.log)")
            _ = try browser.evaluate("window.weaveTestMark = 1")

            try Self.chapter("Browser sees the second draft.").write(to: file, atomically: true, encoding: .utf8)
            #expect(browser.waitFor("document.body.innerText.includes('second draft') && window.weaveTestMark === undefined", seconds: 60),
                    "the page did not reload with the edit")

            try Self.chapter("A {{ nothing }} reference.").write(to: file, atomically: true, encoding: .utf8)
            #expect(browser.waitFor("document.getElementById('\(PreviewPage.marker)-error') !== null && document.body.innerText.includes('second draft')",
                                    seconds: 60), "the build error did not appear above the last report")
            #expect(preview.stop(SIGINT) == 130)
        }
    }
}

/// Everything a child process prints (stdout and stderr together), collected from any thread.
final class OutputLog: Sendable {
    private let buffer = Mutex("")
    var text: String { buffer.withLock { $0 } }

    /// Sends `process`'s stdout and stderr here (call before `run()`).
    func capture(_ process: Process) {
        let pipe = Pipe()
        pipe.fileHandleForReading.readabilityHandler = { [self] handle in
            let data = handle.availableData
            buffer.withLock { $0 += String(decoding: data, as: UTF8.self) }
        }
        process.standardOutput = pipe
        process.standardError = pipe
    }
}

/// Headless Chromium with its DevTools protocol on a websocket: evaluates JavaScript in the page.
final class Browser {
    let process: Process
    let profile: URL
    let page: WebSocketClient
    let output = OutputLog()
    private var nextID = 0
    var log: String { output.text }

    init(chromium: String, url: String) throws {
        let profile = try temporaryFolder("chromium-profile")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: chromium)
        // --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start.
        process.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--remote-debugging-port=0",
                             "--user-data-dir=\(profile.path)", url]
        output.capture(process)
        try process.run()
        // Chromium writes its DevTools port to the profile folder once it listens.
        let portFile = profile.appendingPathComponent("DevToolsActivePort")
        var port: UInt16?
        _ = eventually(seconds: 60) {
            port = (try? String(contentsOf: portFile, encoding: .utf8))?.split(separator: "\n").first.flatMap { UInt16($0) }
            return port != nil || !process.isRunning
        }
        var target: String?
        if let port {
            _ = eventually(seconds: 30) {
                guard let list = try? httpGet(port: port, path: "/json/list").body,
                      let pages = try? JSONSerialization.jsonObject(with: Data(list.utf8)) as? [[String: Any]] else { return false }
                target = pages.first { $0["type"] as? String == "page" }.flatMap { $0["id"] as? String }
                return target != nil
            }
        }
        guard let port, let target, let page = try? WebSocketClient(port: port, path: "/devtools/page/\(target)") else {
            Self.stop(process)
            try? FileManager.default.removeItem(at: profile)
            throw LoopbackError("Chromium did not open a DevTools page: \(output.text)")
        }
        self.process = process
        self.profile = profile
        self.page = page
    }

    /// The value of `expression` in the page (JSON-compatible values only).
    func evaluate(_ expression: String, seconds: Double = 10) throws -> Any? {
        nextID += 1
        let request: [String: Any] = ["id": nextID, "method": "Runtime.evaluate",
                                      "params": ["expression": expression, "returnByValue": true]]
        try page.send(String(decoding: try JSONSerialization.data(withJSONObject: request), as: UTF8.self))
        let deadline = Date().addingTimeInterval(seconds)
        while true {
            let text = try page.receive(within: max(0.1, deadline.timeIntervalSinceNow))
            guard let reply = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any],
                  reply["id"] as? Int == nextID else { continue }
            let result = (reply["result"] as? [String: Any])?["result"] as? [String: Any]
            return result?["value"]
        }
    }

    /// Polls `condition` (JavaScript) until it is true; a reload in between just means retry.
    func waitFor(_ condition: String, seconds: Double) -> Bool {
        eventually(seconds: seconds) { (try? evaluate(condition, seconds: 5)) as? Bool == true }
    }

    func quit() {
        Self.stop(process)
        try? FileManager.default.removeItem(at: profile)
    }

    static func stop(_ process: Process) {
        guard process.isRunning else { return }
        process.terminate()
        if !eventually(seconds: 10, { !process.isRunning }) { kill(process.processIdentifier, SIGKILL) }
    }
}
