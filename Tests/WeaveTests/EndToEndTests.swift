import Foundation
import Testing
import WeaveRuntime
import Weave

/// Builds the fixture report for real: generated package, release compile against this
/// project's libraries, one process per stage, cache, HTML. Compiling is slow, so this is one
/// test walking through the scenarios in order, and its build folder (`.build/weave-e2e/build`)
/// is kept between runs so that only the stage code recompiles.
@Suite(.serialized) struct EndToEndTests {
    @Test func fixtureReportBuildsCachesAndRebuildsOnlyWhatChanged() throws {
        let fm = FileManager.default
        let work = packageRoot.appendingPathComponent(".build/weave-e2e")
        let chapters = work.appendingPathComponent("chapters")
        let cacheFolder = work.appendingPathComponent("cache")
        // Fresh chapters, report and cache entries; keep the compiled package and typeset math.
        for stale in [chapters, work.appendingPathComponent("report"), work.appendingPathComponent("figures"),
                      cacheFolder.appendingPathComponent("entries"), cacheFolder.appendingPathComponent("records"),
                      cacheFolder.appendingPathComponent("work")] {
            try? fm.removeItem(at: stale)
        }
        try fm.createDirectory(at: work, withIntermediateDirectories: true)
        try fm.copyItem(at: packageRoot.appendingPathComponent("Tests/WeaveTests/Fixtures/report"), to: chapters)
        let options = BuildOptions(root: packageRoot, chapters: chapters, cache: cacheFolder,
                                   report: work.appendingPathComponent("report"), figures: work.appendingPathComponent("figures"),
                                   scale: "tiny", seed: 0, jobs: 2, scratch: work.appendingPathComponent("build"))
        var weaver = Weaver(options: options, display: ProgressDisplay(mode: .quiet))

        // 1. Cold build: everything runs; failures are contained.
        let first = try weaver.build()
        if first.results.values.contains(where: { $0.status == .notRun("the stages did not compile") }) {
            Issue.record("stage package did not compile: \(first.errors.map(\.description).joined(separator: "\n"))")
            return
        }
        func status(_ outcome: BuildOutcome, _ name: String) -> StageStatus? { outcome.results[name]?.status }
        for name in ["numbers", "scale-echo", "box", "line", "summary", "seeded"] {
            #expect(status(first, name) == .ran, "\(name): \(String(describing: status(first, name)))")
        }
        #expect(status(first, "after-broken") == .notRun("needs broken, which failed"))
        guard case .failed(let broken) = status(first, "broken"), case .failed(let sneaky) = status(first, "sneaky"),
              case .failed(let crash) = status(first, "crash"), case .failed(let nan) = status(first, "nan") else {
            Issue.record("expected failures, got \(first.results.mapValues(\.status))")
            return
        }
        #expect(broken == "deliberate failure")
        #expect(sneaky.contains("input 'numbers' is not an artifact of this stage's needs="))
        #expect(crash.contains("crashed") && crash.contains("Index out of range"))
        #expect(nan.contains("not finite"))
        #expect(first.exitCode == 1)
        let brokenError = first.errors.first { $0.message.contains("broken failed") }
        #expect(brokenError?.location?.description == ".build/weave-e2e/chapters/02-results.md:30")

        let html = try String(contentsOf: first.reportFile, encoding: .utf8)
        #expect(html.contains(">97.3%</span> over <span class=\"value\" title=\"stats.count\">69,257</span>"))
        #expect(html.contains(">tiny</span>; see <a class=\"xref\" href=\"#fig-box\">Figure 1</a>"))
        #expect(html.contains("Still rendered after the failures: <span class=\"value\" title=\"draw.1\">1</span>"))
        #expect(html.contains("<figcaption><a href=\"#fig-box\">Figure 1</a>. A box as wide as the <em>mean</em> value times ten.</figcaption>"))
        #expect(html.contains("width=\"25.0\""))
        #expect(html.contains("<td>3</td><td>4.0</td>"))
        #expect(html.contains("sum of values: 10.0"))
        #expect(html.contains("class=\"katex\""))
        #expect(html.contains("stage broken failed</strong>"))
        #expect(html.contains("stage after-broken not run</strong>"))
        #expect(html.contains("id=\"provenance\"") && html.contains("<td>fresh run</td>") && html.contains("Swift version"))
        #expect(!html.contains("<script") && !html.contains("src=\"http"))
        let svg = try String(contentsOf: work.appendingPathComponent("figures/box.svg"), encoding: .utf8)
        #expect(svg.contains("#1e5ac8"))
        #expect(fm.fileExists(atPath: work.appendingPathComponent("figures/box.png").path))
        // The real chart library's figure: its own files, numbered second, ids namespaced when inlined.
        let png = try Data(contentsOf: work.appendingPathComponent("figures/line.png"))
        #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]))
        #expect(try String(contentsOf: work.appendingPathComponent("figures/line.svg"), encoding: .utf8).contains("<svg"))
        #expect(html.contains("<a href=\"#fig-line\">Figure 2</a>. The values as a line chart."))
        #expect(!html.contains("id=\"clip") && !html.contains("id=\"glyph"))
        let results = try JSONDecoder().decode([String: JSONValue].self,
                                               from: Data(contentsOf: work.appendingPathComponent("report/results.json")))
        #expect(results["stats"]?.value(at: ["count"]) == .number(69257))
        #expect(results["draw"] == .array([.number(0), .number(1)]))

        // 2. Warm build: every successful stage comes from the cache.
        let start = Date()
        let second = try weaver.build()
        let warmSeconds = Date().timeIntervalSince(start)
        for name in ["numbers", "scale-echo", "box", "line", "summary", "seeded"] {
            #expect(status(second, name) == .cached, "\(name)")
        }
        let secondHTML = try String(contentsOf: second.reportFile, encoding: .utf8)
        #expect(secondHTML.contains("<td>cache hit</td>"))
        print("weave e2e: warm rebuild (failing stages rerun) \(String(format: "%.1f", warmSeconds))s; phases \(second.timings)")

        // 3. Restyle the figure: only the figure is stale, and `--only box` re-makes only it.
        let results02 = chapters.appendingPathComponent("02-results.md")
        let text = try String(contentsOf: results02, encoding: .utf8)
        try text.replacingOccurrences(of: "return Box(width: values.reduce(0, +) / Double(values.count) * 10)",
                                      with: "return Box(width: values.reduce(0, +) / Double(values.count) * 10, color: \"#c81e1e\")")
            .write(to: results02, atomically: true, encoding: .utf8)
        let listed = try weaver.list()
        let states = Dictionary(uniqueKeysWithValues: listed.map { ($0.name, $0.state) })
        #expect(states["box"] == .stale(["own code"]))
        #expect(states["numbers"] == .fresh && states["summary"] == .fresh && states["line"] == .fresh)
        #expect(states["broken"] == .missing)
        var figureOnly = weaver
        figureOnly.options.only = ["box"]
        let figureStart = Date()
        let third = try figureOnly.build()
        let figureSeconds = Date().timeIntervalSince(figureStart)
        #expect(status(third, "box") == .ran)
        #expect(status(third, "numbers") == .cached)
        #expect(status(third, "line") == .cached)
        #expect(status(third, "broken") == .skipped)
        #expect(third.exitCode == 0)
        let restyled = try String(contentsOf: work.appendingPathComponent("figures/box.svg"), encoding: .utf8)
        #expect(restyled.contains("#c81e1e"))
        print("weave e2e: one-figure rebuild \(String(format: "%.1f", figureSeconds))s; phases \(third.timings)")

        // 4. A compile error points at the chapter line.
        let intro = chapters.appendingPathComponent("01-intro.md")
        let introText = try String(contentsOf: intro, encoding: .utf8)
        try introText.replacingOccurrences(of: "print(\"sum of values:\", values.reduce(0, +))", with: "print(\"sum of values:\", undefinedName)")
            .write(to: intro, atomically: true, encoding: .utf8)
        let errors = try weaver.check()
        #expect(errors.contains { $0.location?.description == ".build/weave-e2e/chapters/01-intro.md:24" && $0.message.contains("undefinedName") },
                "\(errors)")
        try introText.write(to: intro, atomically: true, encoding: .utf8)
    }
}
