import Foundation

/// Lines over a categorical x (teacher, iter 1, iter 2, ...) or a numeric one (epochs, epsilon,
/// corruption severity), with markers, error bars or mean +- std bands.
///
///     LineChart(title: "Accuracy by iteration", x: "iteration", y: "top-1 accuracy (%)") {
///         Series("student", x: ["teacher", "iter 1", "iter 2"], y: [91.2, 93.0, 93.8], error: [0.3, 0.2, 0.2])
///         Series("supervised", x: ["teacher", "iter 1", "iter 2"], y: [91.2, 91.2, 91.2])
///     }
public struct LineChart: ChartFigure, Drawable, Equatable {
    /// Title above the plot; nil draws none.
    public var title: String?
    /// x axis label, with units if any; nil draws none.
    public var xLabel: String?
    /// y axis label, with units if any; nil draws none.
    public var yLabel: String?
    /// The lines, styled in order by the palette unless a series sets its own style.
    public var series: [Series]
    /// Labelled reference lines (e.g. the paper's number); the axes widen to show them unless fixed.
    public var references: [ReferenceLine]
    /// Fixes the y range (e.g. 0...100 for accuracy); nil chooses nice bounds around the data.
    public var yRange: ClosedRange<Double>?
    /// How y tick labels print.
    public var yFormat: NumberFormat
    /// Size in points.
    public var size: FigureSize

    /// A line chart of the listed series; see the type's example. Drawing throws
    /// `ChartError.emptyData` for no series, `.mismatchedLengths` when a series' x, y and
    /// uncertainty lengths differ.
    public init(title: String? = nil, x: String? = nil, y: String? = nil, yRange: ClosedRange<Double>? = nil,
                yFormat: NumberFormat = .automatic, references: [ReferenceLine] = [], size: FigureSize = .standard,
                @SeriesBuilder _ content: () -> [Series]) {
        self.init(title: title, series: content(), x: x, y: y, yRange: yRange, yFormat: yFormat, references: references, size: size)
    }

    /// The same chart from an array of series.
    public init(title: String? = nil, series: [Series], x: String? = nil, y: String? = nil, yRange: ClosedRange<Double>? = nil,
                yFormat: NumberFormat = .automatic, references: [ReferenceLine] = [], size: FigureSize = .standard) {
        self.title = title; self.series = series; self.xLabel = x; self.yLabel = y
        self.yRange = yRange; self.yFormat = yFormat; self.references = references; self.size = size
    }

    func draw(on canvas: Canvas) throws -> FigureLayout {
        guard !series.isEmpty else { throw ChartError.emptyData("line chart \"\(title ?? "")\" has no series") }
        let m = try LineMarks(series, xLabel: xLabel, references: references)
        let panel = CartesianPanel(title: nil, x: m.xModel,
                                   y: .numeric(yLabel, low: m.yLow, high: m.yHigh, fixed: yRange, format: yFormat),
                                   marks: m.marks)
        return PanelFigure(size: size, title: title, panels: [panel],
                           legend: series.count > 1 ? m.entries : []).draw(on: canvas)
    }
}

extension FigureSize {
    /// 640 x 400 pt: shown 700 px wide, 11 pt text stays at 12 px.
    public static let standard = FigureSize(width: 640, height: 400)
}
