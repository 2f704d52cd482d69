import Foundation
import Testing
import Charts

@Suite struct BarChartTests {
    static let variants = ["full recipe", "no input noise", "no model noise", "hard labels"]

    static func chart(_ orientation: BarOrientation) -> BarChart {
        BarChart(title: "Ablations", categories: "variant", values: "accuracy (%)", orientation: orientation) {
            Bars("student", categories: variants, values: [94.6, 92.4, 93.1, 94.1], errors: [0.2, 0.3, 0.3, 0.2])
            Bars("wider student", categories: variants, values: [95.2, 92.6, 93.5, 94.8], errors: [0.2, 0.3, 0.2, 0.2])
        }
    }

    @Test(arguments: [BarOrientation.vertical, .horizontal])
    func barsStartAtZeroAndReachTheirValue(orientation: BarOrientation) throws {
        let layout = try Self.chart(orientation).layout()
        let panel = try #require(layout.panels.first)
        #expect(panel.bars.count == 8)
        let plot = panel.plot
        for bar in panel.bars {
            #expect(plot.contains(bar, tolerance: 0.01))
            // Zero is the axis the bars grow from.
            if orientation == .vertical { #expect(abs(bar.maxY - plot.maxY) < 0.01) } else { #expect(abs(bar.minX - plot.minX) < 0.01) }
        }
        // Bars of one group never overlap.
        #expect(overlappingPairs(panel.bars.map { $0.insetBy(dx: 0.01, dy: 0.01) }).isEmpty)
    }

    @Test(arguments: [BarOrientation.vertical, .horizontal])
    func bothSeriesColoursArePresent(orientation: BarOrientation) throws {
        let chart = Self.chart(orientation)
        let raster = try chart.raster(scale: 2)
        let plot = pixels(try #require(try chart.layout().panels.first).plot, scale: 2)
        for i in 0..<2 { #expect(raster.count(of: SeriesStyle.automatic(i).color, in: plot) > 500) }
    }

    @Test func horizontalBarsKeepLongLabelsHorizontal() throws {
        let layout = try Self.chart(.horizontal).layout()
        let labels = layout.texts(.yTick)
        #expect(labels.map(\.text) == Self.variants)
        #expect(labels.allSatisfy { $0.box.width > $0.box.height })
        // First category at the top, as in a table.
        #expect(labels.map(\.box.minY) == labels.map(\.box.minY).sorted())
    }

    @Test func negativeValuesHangBelowZero() throws {
        let chart = BarChart(values: "change (points)") {
            Bars("delta", categories: ["a", "b", "c"], values: [2.5, -1.5, 0.5])
        }
        let layout = try chart.layout()
        let panel = try #require(layout.panels.first)
        // All bars share the zero baseline: tops of negative bars, bottoms of positive ones.
        let zero = panel.bars[0].maxY
        #expect(abs(panel.bars[1].minY - zero) < 0.01 && abs(panel.bars[2].maxY - zero) < 0.01)
        #expect(panel.bars[1].maxY > zero)
        #expect(layout.texts(.yTick).contains { $0.text.hasPrefix("−") })
    }

    @Test(arguments: [BarOrientation.vertical, .horizontal])
    func fittedBarsShowDifferencesOfAFewPoints(orientation: BarOrientation) throws {
        var chart = Self.chart(orientation)
        chart.baseline = .fitted
        let layout = try chart.layout()
        let panel = try #require(layout.panels.first)
        let ticks = layout.texts(orientation == .vertical ? .yTick : .xTick).compactMap { Double($0.text) }
        // The axis starts near the data (92.3 - 95.4 with error bars), below every bar, not at 0.
        let low = try #require(ticks.min())
        #expect(low > 80 && low < 92.1)
        let lengths = panel.bars.map { orientation == .vertical ? $0.height : $0.width }
        // 92.4 against 95.2: at zero baseline the bars differ by 3%; here by far more.
        #expect((lengths.max() ?? 0) > 1.5 * (lengths.min() ?? 1))
        for bar in panel.bars {
            #expect(panel.plot.contains(bar, tolerance: 0.01))
            if orientation == .vertical { #expect(abs(bar.maxY - panel.plot.maxY) < 0.01) } else { #expect(abs(bar.minX - panel.plot.minX) < 0.01) }
        }
    }

    @Test func mismatchedErrorsAreReported() {
        let chart = BarChart { Bars("x", categories: ["a", "b"], values: [1, 2], errors: [0.1]) }
        #expect(throws: ChartError.self) { try chart.svg() }
    }
}

@Suite struct HistogramTests {
    @Test func binsCountEveryValueInRangeOnce() {
        let counts = Histogram.counts([0, 0.05, 0.1, 0.5, 0.99, 1.0, 1.5, -1, .nan], bins: 10, range: 0...1)
        #expect(counts.reduce(0, +) == 6)
        #expect(counts[0] == 2 && counts[1] == 1 && counts[5] == 1 && counts[9] == 2)
    }

    @Test func normalizedHeightsAreFractionsOfEachGroup() throws {
        let chart = Histogram(bins: 4, range: 0...1, normalized: true) {
            Distribution("a", values: [0.1, 0.1, 0.9, 0.9])
            Distribution("b", values: [0.6])
        }
        let layout = try chart.layout()
        let ticks = layout.texts(.yTick).compactMap { Double($0.text) }
        #expect((ticks.max() ?? 0) >= 1 - 1e-9 && (ticks.max() ?? 0) <= 1.2)
        #expect(try #require(layout.panels.first).bars.count == 3)
    }

    @Test func emptyDataIsAnError() {
        #expect(throws: ChartError.self) { try Histogram { Distribution("none", values: []) }.png() }
    }

    /// A small group beside a large one keeps its shape in a panel of its own.
    @Test func panelsGiveTheSmallGroupItsOwnCountAxis() throws {
        let right = [Double](repeating: 0.98, count: 5000) + [Double](repeating: 0.7, count: 300)
        let wrong = [0.35, 0.45, 0.45, 0.55, 0.55, 0.55, 0.65, 0.65, 0.75, 0.95]
        let chart = Histogram(title: "Confidence", x: "confidence", y: "images", bins: 10, range: 0...1,
                              references: [ReferenceLine(x: 0.3, label: "threshold")], layout: .panels) {
            Distribution("right", values: right)
            Distribution("wrong", values: wrong)
        }
        let layout = try chart.layout()
        #expect(layout.panels.count == 2)
        #expect(layout.texts(.panelTitle).map(\.text) == ["right: 5300", "wrong: 10"])
        // The wrong group's tallest bin (3 images) fills most of its panel's height.
        let bottom = layout.panels[1]
        #expect((bottom.bars.map(\.height).max() ?? 0) > 0.6 * bottom.plot.height)
        // Its count axis is its own: it stops near 3, not near 5000.
        let counts = layout.texts(.yTick).filter { $0.panel == 1 }.compactMap { Double($0.text) }
        #expect((counts.max() ?? 0) < 10)
        #expect(layout.legend == nil)
    }
}

@Suite struct HeatmapTests {
    static func matrix() -> Heatmap {
        Heatmap.confusionMatrix(title: "Confusion", classes: ["0", "1", "2"], counts: [[50, 2, 0], [3, 40, 7], [0, 5, 45]], normalized: true)
    }

    @Test func everyCellIsDrawnAndLabelled() throws {
        let layout = try Self.matrix().layout()
        let panel = try #require(layout.panels.first)
        #expect(panel.cells.count == 9)
        #expect(layout.texts(.cell).map(\.text).prefix(3) == ["96.2", "3.8", "0.0"])
        for (cell, label) in zip(panel.cells, layout.texts(.cell)) { #expect(cell.contains(label.box)) }
        // Square cells for a square matrix.
        for c in panel.cells { #expect(abs(c.width - c.height) < 0.01) }
    }

    @Test func colourBarSpansTheGridWithTicksBeside() throws {
        let layout = try Self.matrix().layout()
        let bar = try #require(layout.colorBar)
        let grid = try #require(layout.panels.first).plot
        #expect(abs(bar.minY - grid.minY) < 0.01 && abs(bar.maxY - grid.maxY) < 0.01)
        #expect(bar.minX > grid.maxX)
        let ticks = layout.texts(.colorBarTick)
        #expect(ticks.first?.text == "0" && ticks.last?.text == "100")
        #expect(ticks.allSatisfy { $0.box.minX > bar.maxX })
    }

    @Test func cellTextContrastsWithItsCell() throws {
        // Darkest cell (96.2 %) gets white text, palest gets dark text.
        let chart = Self.matrix()
        let layout = try chart.layout()
        let raster = try chart.raster(scale: 2)
        let panel = try #require(layout.panels.first)
        let dark = pixels(panel.cells[0], scale: 2), pale = pixels(panel.cells[2], scale: 2)
        #expect(raster.count(of: .white, in: dark, tolerance: 10) > 10)
        #expect(raster.count(of: Color(hex: 0x222222), in: pale, tolerance: 30) > 10)
    }

    @Test func raggedRowsAreAnError() {
        let chart = Heatmap(rows: ["a", "b"], columns: ["x", "y"], values: [[1, 2], [3]])
        #expect(throws: ChartError.self) { try chart.layout() }
    }
}

@Suite struct ImageGridTests {
    @Test func imagesLandInTheirCellsWithLabelsUnderneath() throws {
        let grid = ImageGrid(title: "Samples", columns: 2, cellSize: 40) {
            solidImage(255, 0, 0, label: "red")
            solidImage(0, 0, 255, label: "blue")
            solidImage(0, 160, 0, label: "green")
        }
        let layout = try grid.layout()
        #expect(layout.images.count == 3)
        let raster = try grid.raster(scale: 2)
        let colors: [Color] = [Color(hex: 0xFF0000), Color(hex: 0x0000FF), Color(hex: 0x00A000)]
        for (rect, color) in zip(layout.images, colors) {
            let px = pixels(rect.insetBy(dx: 2, dy: 2), scale: 2)
            #expect(raster.count(of: color, in: px) == px.width * px.height, "image cell not filled with \(color)")
        }
        let labels = layout.texts(.imageLabel)
        #expect(labels.map(\.text) == ["red", "blue", "green"])
        for (rect, label) in zip(layout.images, labels) {
            #expect(label.box.minY >= rect.maxY)
            #expect(abs(label.box.midX - rect.midX) < 0.5)
        }
        #expect(overlappingPairs(layout.texts.map(\.box)).isEmpty)
        // Two columns, two rows.
        #expect(layout.images[2].minY > layout.images[0].maxY)
    }

    @Test func sizeFollowsTheGrid() {
        let grid = ImageGrid(columns: 4, cellSize: 50, images: (0..<8).map { _ in solidImage(1, 2, 3) })
        let expected: Double = 2 * 10 + 4 * 50 + 3 * 12  // padding, cells, gaps
        #expect(grid.size.width == expected)
    }

    @Test func wrongPixelCountIsAnError() {
        let grid = ImageGrid(images: [RGBImage(width: 4, height: 4, pixels: [0, 0, 0], label: "short")])
        #expect(throws: ChartError.self) { try grid.png() }
    }
}

@Suite struct PanelGridTests {
    static func multiples() -> SmallMultiples {
        SmallMultiples(title: "By corruption", columns: 3, x: "severity", y: "accuracy (%)") {
            for (k, name) in ["noise", "blur", "fog", "contrast", "jpeg"].enumerated() {
                Panel(name) {
                    Series("teacher", x: [1, 2, 3, 4, 5], y: [1, 2, 3, 4, 5].map { 90 - Double($0 * (k + 2)) })
                    Series("student", x: [1, 2, 3, 4, 5], y: [1, 2, 3, 4, 5].map { 94 - Double($0 * (k + 1)) })
                }
            }
        }
    }

    @Test func panelsAlignAndShareOneScale() throws {
        let layout = try Self.multiples().layout()
        #expect(layout.panels.count == 5)
        let plots = layout.panels.map(\.plot)
        #expect(Set(plots.map(\.width)).count == 1 && Set(plots.map(\.height)).count == 1)
        #expect(plots[0].minY == plots[1].minY && plots[0].minX == plots[3].minX)
        // Same y tick labels in every panel (shared scale).
        let perPanel = Dictionary(grouping: layout.texts(.yTick), by: { $0.panel ?? -1 }).mapValues { $0.map(\.text) }
        #expect(Set(perPanel.values).count == 1)
        #expect(layout.legend?.placement == .outsideTop)
        #expect(layout.texts(.panelTitle).map(\.text) == ["noise", "blur", "fog", "contrast", "jpeg"])
    }

    /// Long panel titles stay inside the figure and never run into the next panel.
    @Test func longPanelTitlesFitTheirPanels() throws {
        let names = ["elastic transform", "jpeg compression", "gaussian noise", "impulse noise", "defocus blur", "motion blur"]
        let chart = SmallMultiples(title: "Accuracy under corruption", columns: 4, x: "severity", y: "top-1 (%)") {
            for name in names { Panel(name) { Series("teacher", x: [1, 2, 3, 4, 5], y: [90, 88, 85, 80, 70]) } }
        }
        let layout = try chart.layout()
        let titles = layout.texts(.panelTitle)
        #expect(titles.map(\.text) == names)
        for t in titles { #expect(t.box.maxX <= layout.canvas.maxX + 0.01 && t.box.minX >= layout.canvas.minX - 0.01) }
        #expect(overlappingPairs(titles.map(\.box)).isEmpty)
        // Each title stays within its own column: left of the next panel's plot.
        for (i, t) in titles.enumerated() where i % 4 != 3 && i + 1 < layout.panels.count {
            #expect(t.box.maxX <= layout.panels[i + 1].plot.minX)
        }
    }

    @Test func onlyTheBottomPanelOfEachColumnLabelsX() throws {
        let layout = try Self.multiples().layout()
        let labelled = Set(layout.texts(.xTick).compactMap(\.panel))
        // Panels 3 and 4 are the bottom row; panel 2 has nothing below it.
        #expect(labelled == [2, 3, 4])
    }

    @Test func seriesKeepTheirStyleAcrossPanels() throws {
        let chart = SmallMultiples(columns: 2) {
            Panel("a") { Series("student", x: [1.0, 2], y: [1, 2]) }
            Panel("b") { Series("teacher", x: [1.0, 2], y: [2, 1]); Series("student", x: [1.0, 2], y: [1, 2]) }
        }
        let raster = try chart.raster(scale: 2)
        let layout = try chart.layout()
        // "student" is series 0 everywhere, so its colour is in both panels.
        for p in layout.panels { #expect(raster.count(of: SeriesStyle.automatic(0).color, in: pixels(p.plot, scale: 2)) > 50) }
    }

    @Test func trainingCurvesStackLossAboveAccuracyWithOneScaleEach() throws {
        let epochs = Array(0..<20)
        let chart = TrainingCurves(title: "Teacher") {
            Curve("train", epochs: epochs, loss: epochs.map { 2 / Double($0 + 1) }, accuracy: epochs.map { 50 + Double($0) * 2 })
            Curve("validation", epochs: epochs, accuracy: epochs.map { 45 + Double($0) * 2 })
        }
        let layout = try chart.layout()
        #expect(layout.panels.count == 2)
        #expect(layout.panels[0].plot.maxY < layout.panels[1].plot.minY)
        #expect(layout.panels[0].plot.minX == layout.panels[1].plot.minX)
        #expect(layout.panels[0].plot.width == layout.panels[1].plot.width)
        let axisLabels = layout.texts(.axisLabel).map(\.text)
        #expect(axisLabels.contains("loss") && axisLabels.contains("accuracy (%)") && axisLabels.contains("epoch"))
        // Each panel has exactly one y axis: its tick labels all sit left of its plot.
        for (i, p) in layout.panels.enumerated() {
            #expect(layout.texts(.yTick).filter { $0.panel == i }.allSatisfy { $0.box.maxX <= p.plot.minX })
        }
        #expect(layout.legend?.entries == ["train", "validation"])
    }
}
