import Foundation

/// A matrix of values as coloured cells with the value written in each, plus a colour bar:
/// confusion matrices, mCE tables (model x corruption).
///
///     Heatmap(title: "Confusion matrix", x: "predicted", y: "true", rows: digits, columns: digits, values: counts)
public struct Heatmap: ChartFigure, Drawable, Equatable {
    /// Title above the grid; nil draws none.
    public var title: String?
    /// Label of the column axis, below the column names; nil draws none.
    public var xLabel: String?
    /// Label of the row axis; nil draws none.
    public var yLabel: String?
    /// Row names, top to bottom; one per row of `values`.
    public var rows: [String]
    /// Column names, left to right; one per value in each row.
    public var columns: [String]
    /// values[row][column]; NaN leaves a cell blank.
    public var values: [[Double]]
    /// Colours for values; a diverging map centres on its `center`.
    public var colorMap: ColorMap
    /// Values mapped to the ends of the colour map; nil spans the finite values.
    public var range: ClosedRange<Double>?
    /// How values print in cells and on the colour bar.
    public var format: NumberFormat
    /// Write each value in its cell (only where it fits at full size, in black or white by contrast).
    public var showsValues: Bool
    /// Label along the colour bar, e.g. the unit; nil draws none.
    public var colorBarLabel: String?
    /// Size in points; by default about square for square matrices.
    public var size: FigureSize

    /// A heatmap of `values[row][column]`. Drawing throws `ChartError.emptyData` for no rows or
    /// columns, `.mismatchedLengths` when `values` does not match the names.
    public init(title: String? = nil, x: String? = nil, y: String? = nil, rows: [String], columns: [String], values: [[Double]],
                colorMap: ColorMap = .viridis, range: ClosedRange<Double>? = nil, format: NumberFormat = .automatic,
                showsValues: Bool = true, colorBarLabel: String? = nil, size: FigureSize? = nil) {
        self.title = title; self.xLabel = x; self.yLabel = y; self.rows = rows; self.columns = columns; self.values = values
        self.colorMap = colorMap; self.range = range; self.format = format; self.showsValues = showsValues
        self.colorBarLabel = colorBarLabel
        // Roughly square cells for square matrices; wide tables get the standard width.
        self.size = size ?? (rows.count == columns.count ? FigureSize(width: 560, height: 500) : FigureSize(width: 640, height: max(220, min(640, 140 + Double(rows.count) * 34))))
    }

    /// A confusion matrix (rows: true class, columns: predicted). `normalized` shows each row as
    /// percentages of that class, which reads the same whatever the class imbalance.
    public static func confusionMatrix(title: String? = nil, classes: [String], counts: [[Int]], normalized: Bool = false) -> Heatmap {
        let values: [[Double]] = counts.map { row in
            let total = Double(max(1, row.reduce(0, +)))
            return row.map { normalized ? 100 * Double($0) / total : Double($0) }
        }
        return Heatmap(title: title, x: "predicted class", y: "true class", rows: classes, columns: classes, values: values,
                       colorMap: .blues, range: normalized ? 0...100 : nil, format: normalized ? .fixed(1) : .automatic,
                       colorBarLabel: normalized ? "% of true class" : "count")
    }

    func draw(on canvas: Canvas) throws -> FigureLayout {
        guard !rows.isEmpty, !columns.isEmpty else { throw ChartError.emptyData("heatmap \"\(title ?? "")\" has no rows or columns") }
        guard values.count == rows.count else {
            throw ChartError.mismatchedLengths("heatmap has \(rows.count) row names and \(values.count) rows of values")
        }
        for (i, row) in values.enumerated() where row.count != columns.count {
            throw ChartError.mismatchedLengths("heatmap row \"\(rows[i])\" has \(row.count) values for \(columns.count) columns")
        }
        let finite = values.flatMap { $0 }.filter(\.isFinite)
        let lo = range?.lowerBound ?? finite.min() ?? 0
        let hi = range?.upperBound ?? finite.max() ?? 1
        let valueRange = lo...(hi > lo ? hi : lo + 1)

        let pad = PanelFigure.padding
        var layout = FigureLayout(canvas: Rect(x: 0, y: 0, width: size.width, height: size.height))
        var top = pad
        if let title {
            let text = canvas.fitting(title, .title, width: size.width - 2 * pad)
            let box = canvas.text(text, .title, color: Palette.ink, at: Point(x: pad, y: top), anchor: .topLeading)
            layout.texts.append(TextBox(role: .title, text: text, box: box, panel: nil, font: .title))
            top += box.height + 10
        }
        let textH = canvas.measure("Ag", .tick).height
        let labelH = canvas.measure("Ag", .axisLabel).height

        // Right side: colour bar, its tick labels and its label.
        let barWidth = 14.0
        let barTicks = NiceTicks(covering: valueRange.lowerBound, valueRange.upperBound, count: 5)
        let barTickValues = barTicks.values.filter { $0 >= valueRange.lowerBound - 1e-9 && $0 <= valueRange.upperBound + 1e-9 }
        // Colour-bar ticks print to the precision of their step, whatever the cells use.
        let barLabels = barTickValues.map { v -> String in
            if case .percent = format { return NumberFormat.percent(max(0, barTicks.decimals - 2)).string(v) }
            return NumberFormat.automatic.string(v, stepDecimals: barTicks.decimals)
        }
        let barLabelW = barLabels.map { canvas.measure($0, .tick).width }.max() ?? 0
        let rightBlock = 14 + barWidth + 4 + barLabelW + (colorBarLabel == nil ? 0 : labelH + 8)

        // Left side: y label and row names; bottom: column names (turned if needed) and x label.
        let yLabelW = yLabel == nil ? 0 : labelH + 8
        let rowNameW = min(rows.map { canvas.measure($0, .tick).width }.max() ?? 0, size.width * 0.3)
        let left = pad + yLabelW + rowNameW + 6
        let right = size.width - pad - rightBlock
        let xLabelH = xLabel == nil ? 0 : labelH + 6
        var gridW = right - left
        var columnAxis = AxisFitter.fit(.categorical(nil, columns), length: gridW, orientation: .horizontal, canvas: canvas)
        var columnNameH = columnAxis.rotated ? (columnAxis.ticks.map { canvas.measure($0.label, .tick).width }.max() ?? textH) : textH
        var gridH = size.height - pad - xLabelH - columnNameH - 6 - top
        // Square cells when the matrix is square: a confusion matrix should look like one.
        if rows.count == columns.count {
            let cell = min(gridW / Double(columns.count), gridH / Double(rows.count))
            gridW = cell * Double(columns.count); gridH = cell * Double(rows.count)
            columnAxis = AxisFitter.fit(.categorical(nil, columns), length: gridW, orientation: .horizontal, canvas: canvas)
            columnNameH = columnAxis.rotated ? (columnAxis.ticks.map { canvas.measure($0.label, .tick).width }.max() ?? textH) : textH
        }
        let rowAxis = AxisFitter.fit(.categorical(nil, rows), length: gridH, orientation: .vertical, canvas: canvas)
        let grid = Rect(x: left, y: top, width: max(gridW, 10), height: max(gridH, 10))
        let cellW = grid.width / Double(columns.count), cellH = grid.height / Double(rows.count)
        var panel = PanelLayout(plot: grid)

        // Cells, then their values; a value is written only if it fits its cell at full size.
        for (r, row) in values.enumerated() {
            for (c, v) in row.enumerated() {
                let cell = Rect(x: grid.minX + Double(c) * cellW, y: grid.minY + Double(r) * cellH, width: cellW, height: cellH)
                panel.cells.append(cell)
                guard v.isFinite else { continue }
                let fill = colorMap.color(at: colorMap.position(v, in: valueRange))
                canvas.fill(cell, fill)
                guard showsValues else { continue }
                let text = format.string(v)
                let m = canvas.measure(text, .cell)
                guard m.width + 4 <= cellW, m.height + 2 <= cellH else { continue }
                let ink = fill.luminance > 0.35 ? Palette.ink : Color.white
                let box = canvas.text(text, .cell, color: ink, at: Point(x: cell.midX, y: cell.midY), anchor: .center)
                layout.texts.append(TextBox(role: .cell, text: text, box: box, panel: 0, font: .cell))
            }
        }
        // Thin white rules between cells keep neighbouring similar colours apart.
        for c in 1..<max(columns.count, 1) {
            let x = grid.minX + Double(c) * cellW
            canvas.line([Point(x: x, y: grid.minY), Point(x: x, y: grid.maxY)], .white, width: 1)
        }
        for r in 1..<max(rows.count, 1) {
            let y = grid.minY + Double(r) * cellH
            canvas.line([Point(x: grid.minX, y: y), Point(x: grid.maxX, y: y)], .white, width: 1)
        }

        for (c, t) in columnAxis.ticks.enumerated() where !t.label.isEmpty {
            let x = grid.minX + (Double(c) + 0.5) * cellW
            let box = columnAxis.rotated
                ? canvas.text(t.label, .tick, color: Palette.ink, at: Point(x: x, y: grid.maxY + 4), anchor: TextAnchor(horizontal: .trailing, vertical: .middle), rotation: .quarterTurnLeft)
                : canvas.text(t.label, .tick, color: Palette.ink, at: Point(x: x, y: grid.maxY + 4), anchor: .topCenter)
            panel.xTickLabels.append(box)
            layout.texts.append(TextBox(role: .xTick, text: t.label, box: box, panel: 0, font: .tick))
        }
        for (r, t) in rowAxis.ticks.enumerated() where !t.label.isEmpty {
            let label = canvas.fitting(t.label, .tick, width: rowNameW)
            let box = canvas.text(label, .tick, color: Palette.ink, at: Point(x: grid.minX - 6, y: grid.minY + (Double(r) + 0.5) * cellH), anchor: .middleTrailing)
            panel.yTickLabels.append(box)
            layout.texts.append(TextBox(role: .yTick, text: label, box: box, panel: 0, font: .tick))
        }
        if let xLabel {
            let box = canvas.text(xLabel, .axisLabel, color: Palette.ink, at: Point(x: grid.midX, y: grid.maxY + 4 + columnNameH + 6), anchor: .topCenter)
            layout.texts.append(TextBox(role: .axisLabel, text: xLabel, box: box, panel: 0, font: .axisLabel))
        }
        if let yLabel {
            let box = canvas.text(canvas.fitting(yLabel, .axisLabel, width: grid.height), .axisLabel, color: Palette.ink,
                                  at: Point(x: pad, y: grid.midY), anchor: TextAnchor(horizontal: .center, vertical: .top), rotation: .quarterTurnLeft)
            layout.texts.append(TextBox(role: .axisLabel, text: yLabel, box: box, panel: 0, font: .axisLabel))
        }

        // Colour bar: a stack of thin slices (gradients render differently across SVG viewers).
        let bar = Rect(x: grid.maxX + 14, y: grid.minY, width: barWidth, height: grid.height)
        let slices = 64
        for k in 0..<slices {
            let t0 = Double(k) / Double(slices)
            let v = valueRange.lowerBound + (t0 + 0.5 / Double(slices)) * (valueRange.upperBound - valueRange.lowerBound)
            let y1 = bar.maxY - t0 * bar.height
            let h = bar.height / Double(slices)
            // Slices overlap by a hair so no background shows between them when antialiased.
            canvas.fill(Rect(x: bar.minX, y: y1 - h - 0.3, width: bar.width, height: h + 0.3), colorMap.color(at: colorMap.position(v, in: valueRange)))
        }
        canvas.stroke(bar, Palette.axis, width: 0.8)
        layout.colorBar = bar
        for (v, label) in zip(barTickValues, barLabels) {
            let t = (v - valueRange.lowerBound) / (valueRange.upperBound - valueRange.lowerBound)
            let y = bar.maxY - t * bar.height
            canvas.line([Point(x: bar.maxX, y: y), Point(x: bar.maxX + 3, y: y)], Palette.axis, width: 1)
            let box = canvas.text(label, .tick, color: Palette.ink, at: Point(x: bar.maxX + 5, y: y), anchor: .middleLeading)
            layout.texts.append(TextBox(role: .colorBarTick, text: label, box: box, panel: nil, font: .tick))
        }
        if let colorBarLabel {
            let box = canvas.text(canvas.fitting(colorBarLabel, .axisLabel, width: bar.height), .axisLabel, color: Palette.ink,
                                  at: Point(x: bar.maxX + 5 + barLabelW + 6, y: bar.midY), anchor: TextAnchor(horizontal: .center, vertical: .top), rotation: .quarterTurnLeft)
            layout.texts.append(TextBox(role: .axisLabel, text: colorBarLabel, box: box, panel: nil, font: .axisLabel))
        }
        layout.panels = [panel]
        return layout
    }
}
