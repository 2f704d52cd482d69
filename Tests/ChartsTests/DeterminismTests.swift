import Foundation
import Testing
import Charts

@Suite struct DeterminismTests {
    @Test func equalChartsGiveByteIdenticalSVGWhateverWasRenderedBetween() throws {
        let first = try LineChartTests.chart().svg()
        // Other charts advance cairo's process-wide counters (surface and font ids).
        _ = try BarChartTests.chart(.horizontal).svg()
        _ = try HeatmapTests.matrix().svg()
        _ = try ImageGrid(images: [solidImage(9, 9, 9, label: "x")]).svg()
        let second = try LineChartTests.chart().svg()
        #expect(first == second)
    }

    @Test func pngIsDeterministicToo() throws {
        let a = try HeatmapTests.matrix().png()
        _ = try LineChartTests.chart().png(scale: 1)
        let b = try HeatmapTests.matrix().png()
        #expect(a == b)
    }

    @Test func renumberingKeepsReferencesPointingAtTheirDefinitions() {
        let raw = """
        <symbol id="glyph3-7"/><symbol id="glyph3-12"/><clipPath id="clip9"/><g id="surface42">\
        <use xlink:href="#glyph3-12"/><use xlink:href="#glyph3-7"/><g clip-path="url(#clip9)"/></g>
        """
        let out = SVGNormalizer.normalize(raw)
        #expect(out == """
        <symbol id="glyph1"/><symbol id="glyph2"/><clipPath id="clip1"/><g id="surface1">\
        <use xlink:href="#glyph2"/><use xlink:href="#glyph1"/><g clip-path="url(#clip1)"/></g>
        """)
    }

    @Test func prefixedIdsKeepInlinedFiguresApart() throws {
        let chart = LineChartTests.chart()
        let plain = try #require(String(data: try chart.svg(), encoding: .utf8))
        let prefixed = try #require(String(data: try chart.svg(idPrefix: "fig2-"), encoding: .utf8))
        #expect(plain.contains("id=\"glyph1\"") && !plain.contains("fig2-"))
        #expect(prefixed.contains("id=\"fig2-glyph1\"") && prefixed.contains("xlink:href=\"#fig2-glyph2\""))
        #expect(!prefixed.contains("id=\"glyph") && !prefixed.contains("\"#glyph"))
        // Same document otherwise.
        #expect(prefixed.replacingOccurrences(of: "fig2-", with: "") == plain)
    }

    @Test func imagesStayPixelatedInSVG() throws {
        let svg = try #require(String(data: try ImageGrid(images: [solidImage(1, 2, 3)]).svg(), encoding: .utf8))
        #expect(svg.contains("image-rendering:pixelated"))
    }

    @Test func writeCreatesBothFiles() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("charts-write-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let chart = LineChartTests.chart()
        try chart.write(svgTo: dir.appendingPathComponent("a/fig.svg"), pngTo: dir.appendingPathComponent("b/fig.png"))
        #expect(try Data(contentsOf: dir.appendingPathComponent("a/fig.svg")) == chart.svg())
        #expect(pngDimensions(try Data(contentsOf: dir.appendingPathComponent("b/fig.png")))?.width == 1280)
    }
}

/// Exact SVG comparison against files in Golden/. They pin the whole rendering (layout, styles,
/// cairo's output): rerun with CHARTS_UPDATE_GOLDEN=1 after an intended change and review the diff
/// (the PNGs beside them are for eyes, not compared).
@Suite struct GoldenTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")

    static let figures: [String: any ChartFigure] = [
        "line-categorical": LineChart(title: "Accuracy", x: "iteration", y: "accuracy (%)", size: FigureSize(width: 360, height: 240)) {
            Series("student", x: ["teacher", "iter 1", "iter 2"], y: [91.2, 93.4, 94.3], error: [0.3, 0.2, 0.2])
            Series("baseline", x: ["teacher", "iter 1", "iter 2"], y: [91.2, 91.5, 91.6], band: [0.3, 0.3, 0.3])
        },
        "bars-horizontal": BarChart(title: "Ablation", values: "accuracy (%)", orientation: .horizontal, size: FigureSize(width: 360, height: 200)) {
            Bars("student", categories: ["full", "no noise"], values: [94.6, 92.1], errors: [0.2, 0.3])
        },
        "heatmap": Heatmap(rows: ["a", "b"], columns: ["x", "y", "z"], values: [[1, 2, 3], [4, 5, 6]], size: FigureSize(width: 300, height: 160)),
    ]

    @Test(arguments: figures.keys.sorted())
    func svgMatchesGolden(name: String) throws {
        let figure = try #require(Self.figures[name])
        let svg = try figure.svg()
        let url = Self.folder.appendingPathComponent(name + ".svg")
        if ProcessInfo.processInfo.environment["CHARTS_UPDATE_GOLDEN"] == "1" {
            try FileManager.default.createDirectory(at: Self.folder, withIntermediateDirectories: true)
            try svg.write(to: url, options: .atomic)
            try figure.png(scale: 2).write(to: Self.folder.appendingPathComponent(name + ".png"), options: .atomic)
            return
        }
        let golden = try Data(contentsOf: url)
        #expect(svg == golden, "\(name).svg differs from the golden file; if intended, rerun with CHARTS_UPDATE_GOLDEN=1")
    }
}
