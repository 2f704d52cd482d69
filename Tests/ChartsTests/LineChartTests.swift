import Foundation
import Testing
import Charts

@Suite struct LineChartTests {
    static let iterations = ["teacher", "iter 1", "iter 2", "iter 3"]

    static func chart() -> LineChart {
        LineChart(title: "Accuracy by iteration", x: "iteration", y: "top-1 accuracy (%)") {
            Series("student", x: iterations, y: [91.2, 93.4, 94.3, 94.6], error: [0.3, 0.2, 0.2, 0.2])
            Series("no noise", x: iterations, y: [91.2, 91.9, 92.1, 92.0], band: [0.3, 0.3, 0.3, 0.3])
            Series("supervised", x: iterations, y: [91.2, 91.6, 91.8, 91.9])
        }
    }

    @Test func everySeriesColourAppearsInsideThePlot() throws {
        let chart = Self.chart()
        let layout = try chart.layout()
        // The PNG file itself, decoded.
        let raster = try Raster(png: try chart.png(scale: 2))
        let plot = pixels(try #require(layout.panels.first).plot, scale: 2)
        for i in 0..<3 {
            let color = SeriesStyle.automatic(i).color
            #expect(raster.count(of: color, in: plot) > 50, "series \(i) colour \(color) not found in the plot")
        }
    }

    @Test func markersSitWhereTheDataSays() throws {
        let layout = try Self.chart().layout()
        let panel = try #require(layout.panels.first)
        let markers = panel.points.filter { $0.isMarker && $0.series == 0 }
        #expect(markers.count == 4)
        // Higher accuracy is higher on the page (smaller y); categories run left to right.
        #expect(markers.map(\.position.y) == markers.map(\.position.y).sorted(by: >))
        #expect(markers.map(\.position.x) == markers.map(\.position.x).sorted())
        for m in markers { #expect(panel.plot.contains(m.position)) }
    }

    @Test func categoryLabelsAreTheCategoriesInOrder() throws {
        let layout = try Self.chart().layout()
        #expect(layout.texts(.xTick).map(\.text) == Self.iterations)
    }

    @Test func legendGoesToAFreeCornerInsideThePlot() throws {
        let layout = try Self.chart().layout()
        let legend = try #require(layout.legend)
        #expect(legend.placement == .inside)
        #expect(legend.entries == ["student", "no noise", "supervised"])
        let panel = try #require(layout.panels.first)
        #expect(panel.plot.contains(legend.box))
        #expect(!panel.points.contains { legend.box.contains($0.position) })
    }

    @Test func legendMovesAboveThePlotWhenNoCornerIsFree() throws {
        // Zig-zags from bottom to top across the whole width reach every corner of the plot.
        let xs = (0..<80).map(Double.init)
        let chart = LineChart(x: "step", y: "value") {
            Series("a", x: xs, y: xs.map { Int($0) % 2 == 0 ? 0 : 10 })
            Series("b", x: xs, y: xs.map { Int($0) % 2 == 0 ? 10 : 0 })
        }
        let layout = try chart.layout()
        let legend = try #require(layout.legend)
        #expect(legend.placement == .outsideTop)
        let plot = try #require(layout.panels.first).plot
        #expect(!legend.box.intersects(plot))
    }

    @Test func numericXEndsNearTheData() throws {
        let chart = LineChart(x: "severity", y: "accuracy") {
            Series("teacher", x: [1, 2, 3, 4, 5], y: [90, 80, 70, 60, 50])
        }
        let layout = try chart.layout()
        // Severities 1...5 are labelled 1...5, not padded out to 0...6.
        #expect(layout.texts(.xTick).map(\.text) == ["1", "2", "3", "4", "5"])
    }

    @Test func manyLongCategoriesTurnOrThinTheirLabelsInsteadOfOverlapping() throws {
        let names = (0..<40).map { "corruption number \($0)" }
        let chart = LineChart(x: "corruption", y: "error") {
            Series("model", x: names, y: names.indices.map { Double($0) })
        }
        let layout = try chart.layout()
        let panel = try #require(layout.panels.first)
        #expect(overlappingPairs(panel.xTickLabels).isEmpty)
        // Turned a quarter: taller than wide.
        #expect(panel.xTickLabels.allSatisfy { $0.height > $0.width })
        #expect(try borderIsBackground(chart.raster(scale: 1)))
    }

    @Test func dataBeyondAFixedRangeIsClippedAtThePlot() throws {
        let chart = LineChart(x: "x", y: "accuracy (%)", yRange: 0...50) {
            Series("overshoot", x: [0.0, 1, 2], y: [10, 200, 10], markers: false)
        }
        let plot = try #require(try chart.layout().panels.first).plot
        let raster = try chart.raster(scale: 2)
        let markerSize = 7.0  // the clip margin keeps edge markers whole
        let above = (x: 0, y: 0, width: raster.width, height: Int((plot.minY - markerSize) * 2) - 1)
        #expect(raster.count(of: SeriesStyle.automatic(0).color, in: above) == 0)
        #expect(raster.count(of: SeriesStyle.automatic(0).color, in: pixels(plot, scale: 2)) > 50)
    }

    @Test(arguments: [FigureSize(width: 120, height: 90), FigureSize(width: 200, height: 140), FigureSize(width: 1400, height: 300)])
    func ticksNeverOverlapAtAnySize(size: FigureSize) throws {
        let chart = LineChart(x: "pixels", y: "count", size: size) {
            Series("big numbers", x: [0.00012, 0.00047, 0.00091], y: [123_456, 654_321, 987_654])
        }
        let panel = try #require(try chart.layout().panels.first)
        #expect(overlappingPairs(panel.xTickLabels).isEmpty)
        #expect(overlappingPairs(panel.yTickLabels).isEmpty)
        #expect(!panel.xTickLabels.isEmpty && !panel.yTickLabels.isEmpty)
    }

    @Test func mismatchedLengthsNameTheSeries() {
        let chart = LineChart { Series("broken", x: [1.0, 2, 3], y: [1, 2]) }
        #expect(throws: ChartError.self) { try chart.svg() }
        do { _ = try chart.png() } catch let e as ChartError {
            #expect(e.description.contains("broken"))
        } catch { Issue.record("unexpected error \(error)") }
    }

    @Test func mixingCategoricalAndNumericXIsAnError() {
        let chart = LineChart {
            Series("a", x: ["x", "y"], y: [1, 2])
            Series("b", x: [1.0, 2], y: [1, 2])
        }
        #expect(throws: ChartError.self) { try chart.layout() }
    }

    @Test func missingValuesBreakTheLineInsteadOfFailing() throws {
        let chart = LineChart { Series("gappy", x: [1.0, 2, 3, 4], y: [1, .nan, 3, 4]) }
        let layout = try chart.layout()
        #expect(try #require(layout.panels.first).points.filter(\.isMarker).count == 3)
    }

    @Test func resultBuilderSupportsLoopsAndConditionals() throws {
        let withBaseline = true
        let chart = LineChart {
            for k in 0..<3 { Series("seed \(k)", x: [0.0, 1], y: [Double(k), Double(k) + 1]) }
            if withBaseline { Series("baseline", x: [0.0, 1], y: [0, 0]) }
        }
        #expect(chart.series.map(\.name) == ["seed 0", "seed 1", "seed 2", "baseline"])
    }

    @Test func longSeriesDropTheirMarkersUnlessAsked() throws {
        let xs = (0..<100).map(Double.init)
        let auto = try LineChart { Series("long", x: xs, y: xs) }.layout()
        #expect(try #require(auto.panels.first).points.filter(\.isMarker).isEmpty)
        let forced = try LineChart { Series("long", x: xs, y: xs, markers: true) }.layout()
        #expect(try #require(forced.panels.first).points.filter(\.isMarker).count == 100)
    }

    @Test func greyscaleStillSeparatesSeries() {
        // Distinct markers and dashes for the first six series, whatever the colours.
        let styles = (0..<6).map(SeriesStyle.automatic)
        #expect(Set(styles.map(\.marker)).count == 6)
        #expect(Set(styles.map(\.dash)).count == 6)
        #expect(Set(styles.map(\.color)).count == 6)
    }
}
