/// The x values of a series: category names ("teacher", "iter 1", ...) or numbers (epochs, epsilon).
public enum XValues: Sendable, Equatable {
    /// Category names, placed in order at evenly spaced positions.
    case categories([String])
    /// Numeric x positions on a linear axis.
    case numbers([Double])

    var count: Int {
        switch self {
        case .categories(let c): return c.count
        case .numbers(let n): return n.count
        }
    }
}

/// How a series' uncertainty is shown.
public enum Uncertainty: Sendable, Equatable {
    /// Symmetric error bars of +- the value at each point.
    case errorBars([Double])
    /// A shaded band of +- the value at each point (mean +- std over seeds).
    case band([Double])
}

/// One line of a line chart: a name for the legend, x and y values, optional error bars or band.
///
///     Series("student", x: ["teacher", "iter 1", "iter 2"], y: [91.2, 93.0, 93.8], error: [0.3, 0.2, 0.2])
///     Series("teacher", x: epsilons, y: accuracy, band: std)
public struct Series: Sendable, Equatable {
    /// Legend name; series with the same name share a style across panels.
    public var name: String
    /// One x value per y value.
    public var x: XValues
    /// The values; a non-finite value leaves a gap in the line.
    public var y: [Double]
    /// Error bars or a band, one half-width per y value; nil draws none.
    public var uncertainty: Uncertainty?
    /// nil: the next automatic style (colour, marker and dash from the palette).
    public var style: SeriesStyle?
    /// nil: markers while the series has at most 30 points; beyond that they merge into a
    /// thick line and hide its shape.
    public var markers: Bool?

    var showsMarkers: Bool { markers ?? (y.count <= 30) }

    /// A series over categories; `band` wins over `error` if both are given. Lengths are checked
    /// when the chart is drawn (`ChartError.mismatchedLengths`, `.invalidValue` for a negative
    /// uncertainty).
    public init(_ name: String, x: [String], y: [Double], error: [Double]? = nil, band: [Double]? = nil,
                style: SeriesStyle? = nil, markers: Bool? = nil) {
        self.init(name, x: .categories(x), y: y, error: error, band: band, style: style, markers: markers)
    }

    /// A series over numeric x; otherwise as the categorical initialiser.
    public init(_ name: String, x: [Double], y: [Double], error: [Double]? = nil, band: [Double]? = nil,
                style: SeriesStyle? = nil, markers: Bool? = nil) {
        self.init(name, x: .numbers(x), y: y, error: error, band: band, style: style, markers: markers)
    }

    /// Convenience for integer x such as epochs.
    public init(_ name: String, x: [Int], y: [Double], error: [Double]? = nil, band: [Double]? = nil,
                style: SeriesStyle? = nil, markers: Bool? = nil) {
        self.init(name, x: .numbers(x.map(Double.init)), y: y, error: error, band: band, style: style, markers: markers)
    }

    /// A series over either kind of x; otherwise as the categorical initialiser.
    public init(_ name: String, x: XValues, y: [Double], error: [Double]? = nil, band: [Double]? = nil,
                style: SeriesStyle? = nil, markers: Bool? = nil) {
        self.name = name
        self.x = x
        self.y = y
        if let band { uncertainty = .band(band) } else if let error { uncertainty = .errorBars(error) } else { uncertainty = nil }
        self.style = style
        self.markers = markers
    }

    /// Throws if lengths disagree, naming the series: a figure stage should fail with a reason.
    func validate() throws {
        guard x.count == y.count else {
            throw ChartError.mismatchedLengths("series \"\(name)\" has \(x.count) x values and \(y.count) y values")
        }
        switch uncertainty {
        case .errorBars(let e), .band(let e):
            guard e.count == y.count else {
                throw ChartError.mismatchedLengths("series \"\(name)\" has \(y.count) values and \(e.count) uncertainties")
            }
            if let bad = e.first(where: { $0 < 0 }) {
                throw ChartError.invalidValue("series \"\(name)\" has a negative uncertainty \(bad)")
            }
        case nil: break
        }
    }
}

/// A horizontal or vertical line across the plot at a fixed value, with a short label:
/// the paper's number beside ours, or the confidence threshold on a histogram.
public struct ReferenceLine: Sendable, Equatable {
    /// Which axis the value is on: `.x` draws a vertical line, `.y` a horizontal one.
    public enum Axis: Sendable, Equatable { case x, y }
    /// Which axis `value` is on.
    public var axis: Axis
    /// Where the line is, in data units.
    public var value: Double
    /// Short text drawn beside the line.
    public var label: String

    /// A vertical line at x = `value`.
    public init(x value: Double, label: String) { axis = .x; self.value = value; self.label = label }
    /// A horizontal line at y = `value`.
    public init(y value: Double, label: String) { axis = .y; self.value = value; self.label = label }
}
