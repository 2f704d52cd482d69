import Foundation
import Testing
import Weave
@testable import WeavePreview

/// The preview's parts in-process: the served page, the file watcher, the message hub.
@Suite struct PreviewPartsTests {
    static let report = "<!DOCTYPE html>\n<html><head><title>R</title></head>\n<body class=\"x\">\n<p>text &lt;/body&gt;</p>\n</body>\n</html>\n"

    @Test func theScriptGoesIntoTheServedPageOnly() {
        let page = PreviewPage.render(report: Self.report, generation: 3, error: nil)
        // Before the real </body>, not the escaped one in the text; nothing else changes.
        #expect(page.contains("<p>text &lt;/body&gt;</p>\n<script id=\"\(PreviewPage.marker)\">"))
        #expect(page.contains("var served = 3,"))
        #expect(page.contains("\"\(PreviewPage.socketPath)\""))
        #expect(page.replacingOccurrences(of: PreviewPage.script(generation: 3), with: "") == Self.report)
        #expect(!page.contains("\(PreviewPage.marker)-error"))
    }

    @Test func aBuildErrorIsShownAboveTheLastReportEscaped() throws {
        let page = PreviewPage.render(report: Self.report, generation: 1, error: "chapters/01.md:3: unknown result <b>x</b>")
        let body = try #require(page.range(of: "<body class=\"x\">\n"))
        #expect(page[body.upperBound...].hasPrefix("<div class=\"failure-banner \(PreviewPage.marker)\" id=\"\(PreviewPage.marker)-error\""))
        #expect(page.contains("chapters/01.md:3: unknown result &lt;b&gt;x&lt;/b&gt;"))
        #expect(page.contains("the report from the build before it"))
        let first = PreviewPage.render(report: nil, generation: 1, error: "broken")
        #expect(first.contains("No report has been built yet") && first.contains("broken") && first.contains("<script id="))
        #expect(!first.contains("the report from the build before it"))
    }

    @Test func theWatcherSeesEditsThatKeepSizeAndMtime() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("01.md")
        try "aaaa".write(to: file, atomically: false, encoding: .utf8)
        let watcher = SourceWatcher(paths: [folder, folder.appendingPathComponent("missing.swift")], interval: 0.02, settle: 0.05)
        let start = watcher.snapshot()
        #expect(watcher.snapshot() == start)

        // Same size, mtime put back (what `cp -p` does): the ctime still moves.
        let mtime = try FileManager.default.attributesOfItem(atPath: file.path)[.modificationDate] as? Date
        Thread.sleep(forTimeInterval: 0.02)
        let handle = try FileHandle(forWritingTo: file)
        try handle.write(contentsOf: Data("bbbb".utf8))
        try handle.close()
        try FileManager.default.setAttributes([.modificationDate: try #require(mtime)], ofItemAtPath: file.path)
        let edited = watcher.snapshot()
        #expect(edited.changes(since: start) == [file.path])

        // Hidden files and editor backups are not watched; new and removed files are.
        try "x".write(to: folder.appendingPathComponent(".01.md.swp"), atomically: false, encoding: .utf8)
        try "x".write(to: folder.appendingPathComponent("01.md~"), atomically: false, encoding: .utf8)
        #expect(watcher.snapshot() == edited)
        let added = folder.appendingPathComponent("sub/02.md")
        try FileManager.default.createDirectory(at: added.deletingLastPathComponent(), withIntermediateDirectories: true)
        try "y".write(to: added, atomically: false, encoding: .utf8)
        let grown = watcher.waitForChange(from: edited)
        #expect(grown.changes(since: edited) == [added.path])
        try FileManager.default.removeItem(at: file)
        #expect(watcher.snapshot().changes(since: grown) == [file.path])
    }

    /// Pages hear a build in order; a page opening mid-build gets the lines so far; the
    /// terminal's frequent redraws reach pages at most every half second.
    @Test func liveReloadSendsEachPageTheBuildInOrder() async throws {
        let live = LiveReload()
        var early = live.connect().makeAsyncIterator()
        live.buildStarted(reason: "first build")
        live.observe(.message("▸ teacher"))
        live.observe(.running([RunningStage(name: "teacher", elapsed: 1, progress: nil, lastDuration: nil)]))
        live.observe(.running([RunningStage(name: "teacher", elapsed: 1.1, progress: nil, lastDuration: nil)]))
        var late = live.connect().makeAsyncIterator()
        live.observe(.message("✓ teacher  2.0s"))
        live.buildFinished(error: nil)
        #expect(live.pageCount == 2)

        func next(_ iterator: inout AsyncStream<String>.Iterator) async throws -> LiveMessage {
            guard let text = await iterator.next() else { throw LoopbackError("the stream ended") }
            return try JSONDecoder().decode(LiveMessage.self, from: Data(text.utf8))
        }
        #expect(try await next(&early) == LiveMessage(type: "hello", lines: [], generation: 0, building: false))
        #expect(try await next(&early) == LiveMessage(type: "start", text: "first build"))
        #expect(try await next(&early) == LiveMessage(type: "message", text: "▸ teacher"))
        #expect(try await next(&early).type == "running")
        #expect(try await next(&early) == LiveMessage(type: "message", text: "✓ teacher  2.0s"))
        #expect(try await next(&early) == LiveMessage(type: "reload", generation: 1))
        #expect(try await next(&late) == LiveMessage(type: "hello", lines: ["▸ teacher"], generation: 0, building: true))
        #expect(try await next(&late) == LiveMessage(type: "message", text: "✓ teacher  2.0s"))
        #expect(try await next(&late) == LiveMessage(type: "reload", generation: 1))

        live.buildStarted(reason: "01.md changed")
        live.buildFinished(error: "chapters/01.md:1: unknown result 'x'")
        #expect(live.served.generation == 2 && live.served.error == "chapters/01.md:1: unknown result 'x'")
    }
}
