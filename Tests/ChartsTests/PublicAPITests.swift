import Foundation
import Testing
import Charts  // deliberately not @testable: this file compiles only against the public API

/// The API as a figure stage in a chapter would use it.
@Suite struct PublicAPITests {
    @Test func everyChartKindIsBuildableFromOutsideTheModule() throws {
        let iterations = ["teacher", "iter 1", "iter 2"]
        let accuracySeries = [Series("student", x: iterations, y: [91.2, 93.4, 94.3], error: [0.3, 0.2, 0.2])]
        let figures: [any ChartFigure] = [
            LineChart(series: accuracySeries, x: "iteration", y: "top-1 accuracy (%)"),
            LineChart(title: "FGSM", x: "ε", y: "accuracy (%)", yRange: 0...100, references: [ReferenceLine(y: 50, label: "chance × 5")]) {
                Series("teacher", x: [0.0, 0.01, 0.02], y: [91, 70, 50], band: [0, 1, 1.5], style: SeriesStyle(color: Palette.blue, marker: .diamond, dash: .dashed))
            },
            BarChart(title: "Ablations", categories: "variant", values: "accuracy (%)", orientation: .horizontal) {
                Bars("student", categories: ["full", "no noise"], values: [94.6, 92.0], errors: [0.2, 0.3], color: Palette.vermillion)
            },
            SmallMultiples(title: "Corruptions", columns: 2, x: "severity", y: "accuracy (%)") {
                Panel("fog") { Series("teacher", x: [1, 2, 3], y: [80, 70, 60]) }
                Panel("snow") { Series("teacher", x: [1, 2, 3], y: [85, 72, 61]) }
            },
            Histogram(title: "Confidence", x: "confidence", bins: 10, range: 0...1) { Distribution("all", values: [0.2, 0.9, 0.95]) },
            Heatmap(title: "mCE", rows: ["teacher", "student"], columns: ["fog", "snow"], values: [[100, 100], [80, 75]],
                    colorMap: .purpleOrange(center: 100), format: .fixed(0), colorBarLabel: "CE (%)"),
            Heatmap.confusionMatrix(classes: ["0", "1"], counts: [[9, 1], [2, 8]], normalized: true),
            TrainingCurves(title: "Teacher") { Curve("train", epochs: [1, 2, 3], loss: [2, 1, 0.5], accuracy: [40, 70, 85]) },
            ImageGrid(title: "Samples", columns: 2) {
                RGBImage(width: 2, height: 2, pixels: [UInt8](repeating: 128, count: 12), label: "7 · 0.93")
            },
        ]
        for f in figures {
            let svg = try f.svg()
            #expect(!svg.isEmpty)
            let layout = try f.layout()
            #expect(layout.canvas.width == f.size.width)
            #expect(try f.raster(scale: 1).width == Int(f.size.width.rounded()))
        }
        #expect(Gallery.entries().count == 11)
    }
}
