import Foundation

/// One series of a grouped bar chart: a value (and optional error) per category.
public struct Bars: Sendable, Equatable {
    /// Legend name.
    public var name: String
    /// The categories this series has a bar in; categories of all series are merged in first-seen order.
    public var categories: [String]
    /// One value per category; a non-finite value draws no bar.
    public var values: [Double]
    /// Error bar half-widths, one per value; nil draws none.
    public var errors: [Double]?
    /// nil: the next automatic palette colour.
    public var color: Color?

    /// A bar series; lengths are checked when the chart is drawn (`ChartError.mismatchedLengths`).
    public init(_ name: String, categories: [String], values: [Double], errors: [Double]? = nil, color: Color? = nil) {
        self.name = name; self.categories = categories; self.values = values; self.errors = errors; self.color = color
    }

    func validate() throws {
        guard categories.count == values.count else {
            throw ChartError.mismatchedLengths("bars \"\(name)\" have \(categories.count) categories and \(values.count) values")
        }
        if let errors, errors.count != values.count {
            throw ChartError.mismatchedLengths("bars \"\(name)\" have \(values.count) values and \(errors.count) errors")
        }
    }
}

/// Which way bars grow.
public enum BarOrientation: Sendable, Equatable {
    /// Categories along x, bars rising.
    case vertical
    /// Categories down the y axis, bars extending right: long labels (ablation names) stay horizontal.
    case horizontal
}

/// Where bars start on the value axis.
public enum BarBaseline: Sendable, Equatable {
    /// Bars grow from 0 and the axis includes 0: lengths compare as ratios.
    case zero
    /// The axis is fitted to the values (and error bars) on nice ticks, and bars grow from its
    /// low end: differences of a few points between accuracies near 90% become visible. Lengths
    /// then show differences, not ratios, which the tick labels make plain.
    case fitted
}

/// Grouped bars with error bars, e.g. one group per ablation, one bar per model.
///
///     BarChart(title: "Ablations", categories: "variant", values: "top-1 accuracy (%)", orientation: .horizontal) {
///         Bars("student", categories: ["full recipe", "no noise", "hard labels"], values: [93.8, 92.1, 93.0], errors: [0.2, 0.3, 0.2])
///     }
public struct BarChart: ChartFigure, Drawable, Equatable {
    /// Title above the plot; nil draws none.
    public var title: String?
    /// Label of the category axis; nil draws none.
    public var categoryLabel: String?
    /// Label of the value axis, with units; nil draws none.
    public var valueLabel: String?
    /// Vertical or horizontal bars.
    public var orientation: BarOrientation
    /// The series; each takes one bar in every group, in order.
    public var bars: [Bars]
    /// Fixes the value axis; nil fits it to the data (and to 0 with a `.zero` baseline).
    public var valueRange: ClosedRange<Double>?
    /// Where bars start.
    public var baseline: BarBaseline
    /// How value tick labels print.
    public var valueFormat: NumberFormat
    /// Reference lines on the value axis.
    public var references: [ReferenceLine]
    /// Size in points; by default standard, or growing with the bar count when horizontal.
    public var size: FigureSize

    /// Grouped bars of the listed series. Drawing throws `ChartError.emptyData` for no series and
    /// `.mismatchedLengths` for a series whose lengths disagree.
    public init(title: String? = nil, categories: String? = nil, values: String? = nil, orientation: BarOrientation = .vertical,
                valueRange: ClosedRange<Double>? = nil, baseline: BarBaseline = .zero, valueFormat: NumberFormat = .automatic,
                references: [ReferenceLine] = [], size: FigureSize? = nil, @BarsBuilder _ content: () -> [Bars]) {
        self.init(title: title, categories: categories, values: values, orientation: orientation, valueRange: valueRange,
                  baseline: baseline, valueFormat: valueFormat, references: references, size: size, bars: content())
    }

    /// The same chart from an array of series.
    public init(title: String? = nil, categories: String? = nil, values: String? = nil, orientation: BarOrientation = .vertical,
                valueRange: ClosedRange<Double>? = nil, baseline: BarBaseline = .zero, valueFormat: NumberFormat = .automatic,
                references: [ReferenceLine] = [], size: FigureSize? = nil, bars: [Bars]) {
        self.title = title; self.categoryLabel = categories; self.valueLabel = values; self.orientation = orientation
        self.valueRange = valueRange; self.baseline = baseline; self.valueFormat = valueFormat; self.references = references; self.bars = bars
        if let size {
            self.size = size
        } else if orientation == .horizontal {
            // Horizontal bars grow downwards with the number of bars, about 16 pt each.
            let n = Set(bars.flatMap(\.categories)).count * max(1, bars.count)
            self.size = FigureSize(width: 640, height: min(900, max(260, 120 + Double(n) * 16 + Double(Set(bars.flatMap(\.categories)).count) * 8)))
        } else {
            self.size = .standard
        }
    }

    func draw(on canvas: Canvas) throws -> FigureLayout {
        guard !bars.isEmpty else { throw ChartError.emptyData("bar chart \"\(title ?? "")\" has no bars") }
        for b in bars { try b.validate() }
        var seen = Set<String>(), categories: [String] = []
        for b in bars { for c in b.categories where seen.insert(c).inserted { categories.append(c) } }
        let index = Dictionary(categories.enumerated().map { ($0.element, Double($0.offset)) }, uniquingKeysWith: { a, _ in a })

        // A group fills 80% of its category; bars inside it touch, separated by a white rule.
        let groupWidth = 0.8
        let barWidth = groupWidth / Double(bars.count)
        var marks: [Mark] = []
        var errorMarks: [Mark] = []
        var entries: [LegendEntry] = []
        let horizontal = orientation == .horizontal
        let fittedRange = baseline == .fitted ? valueRange ?? fittedValueRange() : valueRange
        let base = fittedRange?.lowerBound ?? 0
        var lo = base, hi = base
        for (s, b) in bars.enumerated() {
            let color = b.color ?? SeriesStyle.automatic(s).color
            entries.append(LegendEntry(name: b.name, swatch: .box(color)))
            for (k, cat) in b.categories.enumerated() {
                guard let c = index[cat] else { continue }
                let v = b.values[k]
                guard v.isFinite else { continue }
                // Series 0 comes first in its group: leftmost, or topmost on the reversed
                // category axis of horizontal bars, matching the legend's order.
                let start = c - groupWidth / 2 + Double(s) * barWidth
                let end = start + barWidth
                let e = b.errors?[k] ?? 0
                lo = min(lo, v - e); hi = max(hi, v + e)
                if horizontal {
                    marks.append(.bar(series: s, x0: base, x1: v, y0: start, y1: end, fill: color, outline: .white))
                    if e > 0 { errorMarks.append(.errorBar(series: s, from: Point(x: v - e, y: (start + end) / 2), to: Point(x: v + e, y: (start + end) / 2), color: Palette.ink)) }
                } else {
                    marks.append(.bar(series: s, x0: start, x1: end, y0: base, y1: v, fill: color, outline: .white))
                    if e > 0 { errorMarks.append(.errorBar(series: s, from: Point(x: (start + end) / 2, y: v - e), to: Point(x: (start + end) / 2, y: v + e), color: Palette.ink)) }
                }
            }
        }
        for r in references {
            marks.append(.reference(r))
            lo = min(lo, r.value); hi = max(hi, r.value)
        }
        let valueAxis = AxisModel.numeric(valueLabel, low: lo, high: hi, includeZero: baseline == .zero, fixed: fittedRange,
                                          format: valueFormat)
        let categoryAxis = AxisModel.categorical(categoryLabel, categories)
        let panel = CartesianPanel(title: nil, x: horizontal ? valueAxis : categoryAxis, y: horizontal ? categoryAxis : valueAxis,
                                   marks: marks + errorMarks)
        return PanelFigure(size: size, title: title, panels: [panel], legend: bars.count > 1 ? entries : []).draw(on: canvas)
    }

    /// `.fitted`'s axis: nice ticks (about 5 intervals) around the values, error bars and
    /// reference lines, starting one step below the lowest (so the shortest bar still shows).
    func fittedValueRange() -> ClosedRange<Double> {
        var ends: [Double] = references.map(\.value)
        for b in bars {
            for (k, v) in b.values.enumerated() where v.isFinite {
                let e = b.errors?[k] ?? 0
                ends += [v - e, v + e]
            }
        }
        guard let lo = ends.min(), let hi = ends.max() else { return 0...1 }
        let nice = NiceTicks(covering: lo, hi, count: 5)
        return (nice.lower - (nice.lower >= lo ? nice.step : 0))...max(nice.upper, nice.lower + nice.step)
    }
}
