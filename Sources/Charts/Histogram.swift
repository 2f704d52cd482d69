import Foundation

/// Values to bin, e.g. teacher confidence on the unlabeled pool, split by whether the pseudo label was right.
public struct Distribution: Sendable, Equatable {
    /// Legend name (panel title with `.panels`).
    public var name: String
    /// The samples; non-finite values are ignored.
    public var values: [Double]
    /// nil: the next automatic palette colour.
    public var color: Color?
    /// A named sample.
    public init(_ name: String, values: [Double], color: Color? = nil) { self.name = name; self.values = values; self.color = color }
}

/// How several distributions share a histogram.
public enum HistogramLayout: Sendable, Equatable {
    /// One plot: translucent fills with solid outlines, so each stays visible where they overlap.
    case overlay
    /// One panel per distribution, stacked, on the same bins and x axis, each with its own count
    /// axis: a small group (the wrong pseudo labels beside many right ones) keeps its shape
    /// instead of becoming a line along the bottom.
    case panels
}

/// Histograms of one or more distributions on shared bins. Several distributions overlay with
/// translucent fills and solid outlines, so each stays visible where they overlap, or are
/// stacked in panels of their own (`layout: .panels`).
///
///     Histogram(title: "Teacher confidence", x: "confidence", bins: 20, range: 0...1,
///               references: [ReferenceLine(x: 0.3, label: "threshold")]) {
///         Distribution("correct", values: correct)
///         Distribution("wrong", values: wrong)
///     }
public struct Histogram: ChartFigure, Drawable, Equatable {
    /// Title above the plot; nil draws none.
    public var title: String?
    /// Label of the value axis; nil draws none.
    public var xLabel: String?
    /// Label of the count axis: "count", or "fraction" when normalised, unless given.
    public var yLabel: String?
    /// Number of equal-width bins (at least 1).
    public var bins: Int
    /// The binned range (and x axis); nil spans the finite data.
    public var range: ClosedRange<Double>?
    /// Show each distribution as a fraction of its own count (compare shapes of unequal groups).
    public var normalized: Bool
    /// Reference lines, e.g. the filter's confidence threshold; drawn in every panel.
    public var references: [ReferenceLine]
    /// Overlay or one panel per distribution (only matters for more than one).
    public var layout: HistogramLayout
    /// The samples, one style each.
    public var distributions: [Distribution]
    /// Size in points.
    public var size: FigureSize

    /// A histogram of the listed distributions. Drawing throws `ChartError.emptyData` for no
    /// distributions or no finite value.
    public init(title: String? = nil, x: String? = nil, y: String? = nil, bins: Int = 20, range: ClosedRange<Double>? = nil,
                normalized: Bool = false, references: [ReferenceLine] = [], layout: HistogramLayout = .overlay,
                size: FigureSize = .standard, @DistributionBuilder _ content: () -> [Distribution]) {
        self.init(title: title, x: x, y: y, bins: bins, range: range, normalized: normalized, references: references,
                  layout: layout, size: size, distributions: content())
    }

    /// The same histogram from an array of distributions.
    public init(title: String? = nil, x: String? = nil, y: String? = nil, bins: Int = 20, range: ClosedRange<Double>? = nil,
                normalized: Bool = false, references: [ReferenceLine] = [], layout: HistogramLayout = .overlay,
                size: FigureSize = .standard, distributions: [Distribution]) {
        self.title = title; self.xLabel = x; self.yLabel = y ?? (normalized ? "fraction" : "count")
        self.bins = max(1, bins); self.range = range; self.normalized = normalized; self.references = references
        self.layout = layout
        self.distributions = distributions; self.size = size
    }

    /// Counts per bin; values outside the range are dropped, the top edge belongs to the last bin.
    public static func counts(_ values: [Double], bins: Int, range: ClosedRange<Double>) -> [Int] {
        var counts = [Int](repeating: 0, count: bins)
        let width = (range.upperBound - range.lowerBound) / Double(bins)
        guard width > 0 else { counts[0] = values.filter(\.isFinite).count; return counts }
        for v in values where v.isFinite && v >= range.lowerBound && v <= range.upperBound {
            counts[min(bins - 1, Int((v - range.lowerBound) / width))] += 1
        }
        return counts
    }

    func draw(on canvas: Canvas) throws -> FigureLayout {
        guard !distributions.isEmpty else { throw ChartError.emptyData("histogram \"\(title ?? "")\" has no distributions") }
        let all = distributions.flatMap(\.values).filter(\.isFinite)
        guard let dataLo = all.min(), let dataHi = all.max() else {
            throw ChartError.emptyData("histogram \"\(title ?? "")\" has no finite values")
        }
        let r = range ?? (dataLo...(dataHi > dataLo ? dataHi : dataLo + 1))
        let width = (r.upperBound - r.lowerBound) / Double(bins)
        let overlay = distributions.count > 1 && layout == .overlay
        let stacked = distributions.count > 1 && layout == .panels
        var panels: [CartesianPanel] = []
        var marks: [Mark] = []
        var entries: [LegendEntry] = []
        var top = 0.0
        for (s, d) in distributions.enumerated() {
            let color = d.color ?? SeriesStyle.automatic(s).color
            let counts = Histogram.counts(d.values, bins: bins, range: r)
            let total = Double(max(1, counts.reduce(0, +)))
            var own: [Mark] = [], ownTop = 0.0
            for (b, n) in counts.enumerated() where n > 0 {
                let h = normalized ? Double(n) / total : Double(n)
                ownTop = max(ownTop, h)
                let x0 = r.lowerBound + Double(b) * width
                own.append(.bar(series: s, x0: x0, x1: x0 + width, y0: 0, y1: h,
                                fill: overlay ? color.withAlpha(0.35) : color, outline: overlay ? color : .white))
            }
            top = max(top, ownTop)
            marks += own
            entries.append(LegendEntry(name: d.name, swatch: .box(overlay ? color.withAlpha(0.6) : color)))
            if stacked {
                // Each panel names its group and its size; its count axis fits its own data.
                let count = d.values.filter(\.isFinite).count
                panels.append(CartesianPanel(title: "\(d.name): \(count)",
                                             x: .numeric(nil, low: r.lowerBound, high: r.upperBound, fixed: range),
                                             y: .numeric(nil, low: 0, high: ownTop, includeZero: true),
                                             marks: own + references.map { .reference($0) }))
            }
        }
        if stacked {
            return PanelFigure(size: size, title: title, panels: panels, columns: 1, sharedXLabel: xLabel, sharedYLabel: yLabel,
                               legend: [], legendMode: .none, sharedX: true).draw(on: canvas)
        }
        marks += references.map { .reference($0) }
        let panel = CartesianPanel(title: nil, x: .numeric(xLabel, low: r.lowerBound, high: r.upperBound, fixed: range),
                                   y: .numeric(yLabel, low: 0, high: top, includeZero: true), marks: marks)
        return PanelFigure(size: size, title: title, panels: [panel], legend: overlay ? entries : []).draw(on: canvas)
    }
}
