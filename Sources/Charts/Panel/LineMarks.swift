import Foundation

/// Turns series into panel marks, legend entries and axis models. Shared by line charts,
/// small multiples and training curves so all three treat x values, styles and uncertainty alike.
struct LineMarks {
    var marks: [Mark] = []
    var entries: [LegendEntry] = []
    var xModel: AxisModel
    var yLow = Double.infinity
    var yHigh = -Double.infinity

    /// `categories` fixes the category order (shared across panels); otherwise it is the order of
    /// first appearance. `styleIndex` maps a series name to its style slot, so a model keeps its
    /// colour in every panel.
    init(_ series: [Series], xLabel: String?, categories: [String]? = nil, styleIndex: [String: Int]? = nil,
         references: [ReferenceLine] = []) throws {
        for s in series { try s.validate() }
        let categorical = series.contains { if case .categories = $0.x { return true } else { return false } }
        if categorical, series.contains(where: { if case .numbers = $0.x { return true } else { return false } }) {
            throw ChartError.invalidValue("series mix category and numeric x values; use one kind per chart")
        }
        let cats = categories ?? LineMarks.categories(of: series)
        let index = Dictionary(cats.enumerated().map { ($0.element, Double($0.offset)) }, uniquingKeysWith: { a, _ in a })

        // Error bars of several series at the same category would sit on top of each other:
        // nudge each series sideways by a fraction of the category width (a "dodge").
        let withBars = series.filter { if case .errorBars = $0.uncertainty { return true } else { return false } }.count
        let dodge = categorical && withBars > 1 ? min(0.3 / Double(series.count), 0.1) : 0

        var xLow = Double.infinity, xHigh = -Double.infinity
        for (i, s) in series.enumerated() {
            let style = s.style ?? SeriesStyle.automatic(styleIndex?[s.name] ?? i)
            let offset = dodge * (Double(i) - Double(series.count - 1) / 2)
            let xs: [Double]
            switch s.x {
            case .numbers(let n): xs = n
            case .categories(let c): xs = c.map { (index[$0] ?? .nan) + offset }
            }
            let pts = zip(xs, s.y).map { Point(x: $0, y: $1) }
            var lo = s.y, hi = s.y
            switch s.uncertainty {
            case .band(let e):
                lo = zip(s.y, e).map { $0 - $1 }; hi = zip(s.y, e).map { $0 + $1 }
                marks.append(.band(series: i, x: xs, lower: lo, upper: hi, color: style.color))
            case .errorBars(let e):
                lo = zip(s.y, e).map { $0 - $1 }; hi = zip(s.y, e).map { $0 + $1 }
                for k in xs.indices where e[k] > 0 {
                    marks.append(.errorBar(series: i, from: Point(x: xs[k], y: lo[k]), to: Point(x: xs[k], y: hi[k]), color: style.color))
                }
            case nil: break
            }
            marks.append(.line(series: i, points: pts, style: style, markers: s.showsMarkers))
            if let (a, b) = (lo + hi).finiteExtent { yLow = min(yLow, a); yHigh = max(yHigh, b) }
            if let (a, b) = xs.finiteExtent { xLow = min(xLow, a); xHigh = max(xHigh, b) }
            var band = false
            if case .band = s.uncertainty { band = true }
            entries.append(LegendEntry(name: s.name, swatch: .line(style, markers: s.showsMarkers, band: band)))
        }
        for r in references {
            marks.append(.reference(r))
            if r.axis == .y { yLow = min(yLow, r.value); yHigh = max(yHigh, r.value) }
            if r.axis == .x, !categorical { xLow = min(xLow, r.value); xHigh = max(xHigh, r.value) }
        }
        if !yLow.isFinite { yLow = 0; yHigh = 1 }
        if categorical {
            xModel = .categorical(xLabel, cats)
        } else {
            if !xLow.isFinite { xLow = 0; xHigh = 1 }
            xModel = .numeric(xLabel, low: xLow, high: xHigh, niceBounds: false)
            xModel.integerValues = series.allSatisfy { s in
                if case .numbers(let n) = s.x { return n.allSatisfy { !$0.isFinite || $0 == $0.rounded() } } else { return false }
            }
        }
    }

    static func categories(of series: [Series]) -> [String] {
        var seen = Set<String>(), cats: [String] = []
        for s in series { if case .categories(let c) = s.x { for n in c where seen.insert(n).inserted { cats.append(n) } } }
        return cats
    }
}
