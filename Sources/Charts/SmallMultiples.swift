import Foundation

/// One panel of a small-multiples grid: a title and its series.
public struct Panel: Sendable, Equatable {
    /// Shown above the panel.
    public var title: String
    /// The panel's lines; one with the same name as in another panel gets the same style.
    public var series: [Series]
    /// Reference lines drawn in this panel only.
    public var references: [ReferenceLine]

    /// A panel of the listed series.
    public init(_ title: String, references: [ReferenceLine] = [], @SeriesBuilder _ content: () -> [Series]) {
        self.init(title, series: content(), references: references)
    }

    /// A panel from an array of series.
    public init(_ title: String, series: [Series], references: [ReferenceLine] = []) {
        self.title = title; self.series = series; self.references = references
    }
}

/// A grid of small line charts with shared axes and one legend, e.g. accuracy against severity,
/// one panel per corruption, one line per model. A series keeps its style in every panel.
///
///     SmallMultiples(title: "Accuracy under corruption", columns: 4, x: "severity", y: "accuracy (%)") {
///         for c in corruptions { Panel(c.name) { Series("teacher", x: [1, 2, 3, 4, 5], y: c.teacher) } }
///     }
public struct SmallMultiples: ChartFigure, Drawable, Equatable {
    /// Title above the grid; nil draws none.
    public var title: String?
    /// x axis label shared by all panels; nil draws none.
    public var xLabel: String?
    /// y axis label shared by all panels; nil draws none.
    public var yLabel: String?
    /// Panels per row (at least 1); panels fill rows left to right.
    public var columns: Int
    /// The panels in reading order.
    public var panels: [Panel]
    /// Shared y scale (the default): panels compare by position. Off for quantities of different size.
    public var sharedY: Bool
    /// Fixes every panel's y range; nil chooses nice bounds around the data.
    public var yRange: ClosedRange<Double>?
    /// Size in points; by default 640 wide and 170 per row plus 100.
    public var size: FigureSize

    /// A grid of the listed panels. Drawing throws `ChartError.emptyData` for no panels and the
    /// line chart's errors for a bad series.
    public init(title: String? = nil, columns: Int = 3, x: String? = nil, y: String? = nil, sharedY: Bool = true,
                yRange: ClosedRange<Double>? = nil, size: FigureSize? = nil, @PanelBuilder _ content: () -> [Panel]) {
        self.init(title: title, columns: columns, x: x, y: y, sharedY: sharedY, yRange: yRange, size: size, panels: content())
    }

    /// The same grid from an array of panels.
    public init(title: String? = nil, columns: Int = 3, x: String? = nil, y: String? = nil, sharedY: Bool = true,
                yRange: ClosedRange<Double>? = nil, size: FigureSize? = nil, panels: [Panel]) {
        self.title = title; self.columns = max(1, columns); self.xLabel = x; self.yLabel = y
        self.sharedY = sharedY; self.yRange = yRange; self.panels = panels
        // Rows of about 170 pt keep each panel legible at 700 px wide.
        let rows = max(1, (panels.count + self.columns - 1) / self.columns)
        self.size = size ?? FigureSize(width: 640, height: Double(100 + rows * 170))
    }

    func draw(on canvas: Canvas) throws -> FigureLayout {
        guard !panels.isEmpty else { throw ChartError.emptyData("small multiples \"\(title ?? "")\" have no panels") }
        // Styles by series name across the whole grid.
        var styleIndex: [String: Int] = [:]
        for p in panels { for s in p.series where styleIndex[s.name] == nil { styleIndex[s.name] = styleIndex.count } }
        let allSeries = panels.flatMap(\.series)
        let categories = LineMarks.categories(of: allSeries)
        let built = try panels.map { try LineMarks($0.series, xLabel: nil, categories: categories.isEmpty ? nil : categories,
                                                    styleIndex: styleIndex, references: $0.references) }
        let yLow = built.map(\.yLow).min() ?? 0, yHigh = built.map(\.yHigh).max() ?? 1
        // Shared x: numeric panels span the union of their ranges.
        var xModels = built.map(\.xModel)
        if case .numeric = xModels.first?.kind {
            let lo = xModels.map(\.dataLow).min() ?? 0, hi = xModels.map(\.dataHigh).max() ?? 1
            let integers = xModels.allSatisfy(\.integerValues)
            for i in xModels.indices { xModels[i].dataLow = lo; xModels[i].dataHigh = hi; xModels[i].integerValues = integers }
        }
        let cartesian = zip(panels, zip(built, xModels)).map { p, bx in
            CartesianPanel(title: p.title, x: bx.1,
                           y: sharedY ? .numeric(nil, low: yLow, high: yHigh, fixed: yRange)
                                      : .numeric(nil, low: bx.0.yLow, high: bx.0.yHigh, fixed: yRange),
                           marks: bx.0.marks)
        }
        // One legend entry per distinct series name, in first-seen order.
        var seen = Set<String>()
        let entries = built.flatMap(\.entries).filter { seen.insert($0.name).inserted }
        return PanelFigure(size: size, title: title, panels: cartesian, columns: columns, sharedXLabel: xLabel,
                           sharedYLabel: yLabel, legend: entries.count > 1 ? entries : [], legendMode: .top, sharedX: true).draw(on: canvas)
    }
}
