/// Something drawn in a panel, in data coordinates. Categorical axes place category i at i.
enum Mark: Sendable {
    /// A polyline; NaN y values break it (a missing evaluation shows as a gap, not a lie).
    case line(series: Int, points: [Point], style: SeriesStyle, markers: Bool)
    case band(series: Int, x: [Double], lower: [Double], upper: [Double], color: Color)
    /// An error bar from one data point to another, with caps across it.
    case errorBar(series: Int, from: Point, to: Point, color: Color)
    case bar(series: Int, x0: Double, x1: Double, y0: Double, y1: Double, fill: Color, outline: Color?)
    case reference(ReferenceLine)

    /// Data extent along each axis, for fitting the axes.
    var xs: [Double] {
        switch self {
        case .line(_, let p, _, _): return p.map(\.x)
        case .band(_, let x, _, _, _): return x
        case .errorBar(_, let a, let b, _): return [a.x, b.x]
        case .bar(_, let x0, let x1, _, _, _, _): return [x0, x1]
        case .reference(let r): return r.axis == .x ? [r.value] : []
        }
    }

    var ys: [Double] {
        switch self {
        case .line(_, let p, _, _): return p.map(\.y)
        case .band(_, _, let lo, let hi, _): return lo + hi
        case .errorBar(_, let a, let b, _): return [a.y, b.y]
        case .bar(_, _, _, let y0, let y1, _, _): return [y0, y1]
        case .reference(let r): return r.axis == .y ? [r.value] : []
        }
    }
}

/// A legend line: what the swatch looks like and what it says.
struct LegendEntry: Sendable, Equatable {
    enum Swatch: Sendable, Equatable {
        case line(SeriesStyle, markers: Bool, band: Bool)
        case box(Color)
    }
    var name: String
    var swatch: Swatch
}

extension Array where Element == Double {
    /// Finite extent, or nil if there is no finite value.
    var finiteExtent: (Double, Double)? {
        let f = filter(\.isFinite)
        guard let lo = f.min(), let hi = f.max() else { return nil }
        return (lo, hi)
    }
}
