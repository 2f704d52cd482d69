import Foundation
import Testing
import WeaveRuntime
import Weave

/// Rendering from hand-made cache entries: checks cross-references, values, figures, error
/// cards and provenance without running anything.
@Suite struct RendererTests {
    let chapterText = """
    # The report

    ## Teacher at {{ teacher.accuracy | percent }}

    The teacher reaches {{ teacher.accuracy | percent }} ({{ teacher.count | thousands }} images), see @fig:curve
    and @tbl:scores. The student's {{ student.accuracy | percent }} is missing; {{ teacher.nope }} is a typo.

    \(fence)swift stage=teacher
    try publish(["accuracy": 0.9731])
    \(fence)

    \(fence)swift stage=student needs=teacher
    throw Oops()
    \(fence)

    \(fence)swift stage=after needs=student
    print(1)
    \(fence)

    \(fence)swift figure=curve needs=teacher caption="Accuracy, *by epoch*."
    Box()
    \(fence)

    \(fence)swift table=scores needs=teacher caption="Scores."
    Table()
    \(fence)
    """

    func entry(_ cache: Cache, _ name: String, files: [String: String]) throws -> CacheEntry {
        let work = try cache.makeWorkFolder(for: name)
        for (path, content) in files {
            let url = work.appendingPathComponent("out").appendingPathComponent(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(content.utf8).write(to: url)
        }
        let parts = KeyParts(kind: "stage", code: name, inputs: [:], library: "", scale: "tiny", seed: 0)
        return try cache.commit(work: work, stage: name, parts: parts, duration: 2)
    }

    @Test func rendersResultsFiguresCardsAndProvenance() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let cache = Cache(folder: folder)
        let chapter = try parse(chapterText, file: "chapters/01-report.md")
        let graph = try StageGraph(chapters: [chapter])
        let plan = try DocumentPlan(chapters: [chapter], graph: graph)
        let table = String(decoding: try JSONEncoder().encode(Table(columns: ["model", "top-1"], rows: [["teacher", "97.3"]])), as: UTF8.self)
        let results: [String: StageResult] = [
            "teacher": StageResult(status: .cached, key: "k1", entry: try entry(cache, "teacher", files: [
                "artifacts/teacher.json": "{\"accuracy\": 0.9731, \"count\": 69257}", "stdout.txt": "trained <fast>\n"]), duration: 2),
            "student": StageResult(status: .failed("loss became NaN at epoch 3"), key: "k2", duration: 1),
            "after": StageResult(status: .notRun("needs student, which failed"), key: "k3"),
            "curve": StageResult(status: .ran, key: "k4", entry: try entry(cache, "curve", files: [
                "figure.svg": "<svg><clipPath id=\"c\"/></svg>", "figure.png": "png"]), duration: 0.5),
            "scores": StageResult(status: .ran, key: "k5", entry: try entry(cache, "scores", files: ["table.json": table]), duration: 0.1),
        ]
        let provenance = Provenance(commit: "abc123", toolchain: "Swift 6.3.1", blasKernel: "SkylakeX", blasThreads: 1, jobs: 2,
                                    scale: "tiny", seed: 0, date: Date(timeIntervalSince1970: 0), host: "test")
        let report = HTMLRenderer(plan: plan, graph: graph, results: results, provenance: provenance, math: nil).render()
        let html = report.html

        #expect(html.contains("<title>The report</title>"))
        #expect(html.contains(">97.3%</span> (<span class=\"value\" title=\"teacher.count\">69,257</span> images)"))
        #expect(html.contains("<a class=\"xref\" href=\"#fig-curve\">Figure 1</a>"))
        #expect(html.contains("<a class=\"xref\" href=\"#tbl-scores\">Table 1</a>"))
        #expect(html.contains("[student.accuracy: not available in this build]"))
        #expect(html.contains("<figcaption><a href=\"#fig-curve\">Figure 1</a>. Accuracy, <em>by epoch</em>.</figcaption>"))
        #expect(html.contains("<svg><clipPath id=\"f1-c\"/></svg>"))
        #expect(html.contains("<td>teacher</td><td>97.3</td>"))
        #expect(html.contains("<pre class=\"output\">trained &lt;fast&gt;\n</pre>"))
        #expect(html.contains("stage student failed</strong> <span class=\"where\">chapters/01-report.md:12</span>"))
        #expect(html.contains("loss became NaN at epoch 3"))
        #expect(html.contains("stage after not run</strong>"))
        #expect(html.contains("<li class=\"toc2\"><a href=\"#teacher-at-97-3\">Teacher at 97.3%</a></li>"))
        #expect(!html.contains("<a href=\"#the-report\">"))  // the title is not its own contents entry
        #expect(html.contains("<td>abc123</td>") && html.contains("OpenBLAS kernel SkylakeX"))
        #expect(html.contains("<td>cache hit</td>") && html.contains("<td>fresh run</td>") && html.contains("<td>failed</td>"))
        #expect(!html.contains("WEAVETOKEN") && !html.contains("WEAVEBLOCK"))
        #expect(!html.contains("http://") || !html.contains("src=\"http"))

        // Only the typo is an error; the failed stage's value is reported at the stage.
        #expect(report.errors.map(\.description) == ["chapters/01-report.md:6: error: result 'teacher.nope': 'teacher' has no field nope"])
        #expect(report.results["teacher"] == .object(["accuracy": .number(0.9731), "count": .number(69257)]))
        #expect(report.figures.map(\.name) == ["curve"])
    }

    @Test func hiddenCodeAndDuplicatePublishers() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let cache = Cache(folder: folder)
        let chapter = try parse("""
        Value {{ x }}.

        \(fence)swift stage=a hide
        try publish("x", 1)
        \(fence)

        \(fence)swift stage=b
        try publish("x", 2)
        \(fence)
        """, file: "chapters/01.md")
        let graph = try StageGraph(chapters: [chapter])
        let plan = try DocumentPlan(chapters: [chapter], graph: graph)
        let results: [String: StageResult] = [
            "a": StageResult(status: .cached, key: "ka", entry: try entry(cache, "a", files: ["artifacts/x.json": "1"])),
            "b": StageResult(status: .cached, key: "kb", entry: try entry(cache, "b", files: ["artifacts/x.json": "2"])),
        ]
        let provenance = Provenance(commit: "", toolchain: "", blasKernel: "", blasThreads: 1, jobs: 1, scale: "tiny", seed: 0,
                                    date: Date(), host: "")
        let report = HTMLRenderer(plan: plan, graph: graph, results: results, provenance: provenance, math: nil).render()
        #expect(report.errors.map(\.description) == ["chapters/01.md:7: error: 'x' is published by both a and b"])
        #expect(!report.html.contains("stage <b>a</b>"))
        #expect(report.html.contains("stage <b>b</b>"))
        // The page says the build failed, and shows neither stage's value as if it were the one.
        #expect(report.html.contains("<div class=\"failure-banner\" id=\"failures\"><strong>This build is incomplete: 1 error in the report."))
        #expect(report.html.contains("&#39;x&#39; is published by both a and b") || report.html.contains("'x' is published by both a and b"))
        #expect(report.results["x"] == nil)
        #expect(!report.html.contains("title=\"x\">2<") && !report.html.contains("title=\"x\">1<"))
    }

    @Test func mathIsTypesetOfflineWithKaTeX() throws {
        guard FileManager.default.fileExists(atPath: "/usr/share/nodejs/katex") else { return }
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let renderer = MathRenderer(cacheFolder: folder.appendingPathComponent("math"))
        let out = renderer.render([("x^2", false), ("\\frac{a}{b}", true), ("\\badcommand{", false)])
        guard case .html(let inline) = out[0], case .html(let display) = out[1], case .error = out[2] else {
            Issue.record("unexpected \(out)"); return
        }
        #expect(inline.contains("katex"))
        #expect(display.contains("katex-display"))
        // Second time from the cache, without node.
        let again = MathRenderer(cacheFolder: folder.appendingPathComponent("math"), nodePath: "/nonexistent").render([("x^2", false)])
        #expect(again == [out[0]])
        // A damaged cache file is not served: it is dropped and (here, without node) reported.
        let file = renderer.cacheURL("x^2", false)
        var bytes = try Data(contentsOf: file)
        bytes[bytes.count - 2] ^= 0x20
        try bytes.write(to: file)
        let damaged = MathRenderer(cacheFolder: folder.appendingPathComponent("math"), nodePath: "/nonexistent").render([("x^2", false)])
        #expect(damaged != [out[0]])
        #expect(!FileManager.default.fileExists(atPath: file.path))
        let css = renderer.stylesheet()
        #expect(css.contains("data:font/woff2;base64,"))
        #expect(!css.contains("url(fonts/"))
    }
}
