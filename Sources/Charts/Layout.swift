/// Where everything of a drawn figure went, in figure coordinates (points, y down). Returned by
/// `ChartFigure.layout()` so tests can check properties a reader cares about: labels that do not
/// collide, legends that do not hide data, nothing outside the canvas.
public struct FigureLayout: Sendable, Equatable {
    /// The whole figure: origin at 0, 0 and the figure's size.
    public var canvas: Rect
    /// Every text drawn, with its role and bounding box.
    public var texts: [TextBox] = []
    /// Plotting areas in drawing order (row by row for small multiples).
    public var panels: [PanelLayout] = []
    /// The legend, nil when the figure has none (a single series draws none).
    public var legend: LegendLayout?
    /// Heatmap colour bar, if any.
    public var colorBar: Rect?
    /// Image grid cells, if any.
    public var images: [Rect] = []

    /// An empty layout for a canvas; drawing code fills it in.
    public init(canvas: Rect) { self.canvas = canvas }

    /// The texts of one role, in drawing order.
    public func texts(_ role: TextBox.Role) -> [TextBox] { texts.filter { $0.role == role } }
}

/// One text drawn on the figure and the box its ink occupies.
public struct TextBox: Sendable, Equatable {
    /// What a text is for; tests check each role against its own rules (ticks must not collide, ...).
    public enum Role: Sendable, Equatable {
        case title, panelTitle, axisLabel, xTick, yTick, legend, cell, colorBarTick, imageLabel, annotation
    }
    /// What the text is for.
    public var role: Role
    /// The text (for labels shortened with … to fit a width, usually the shortened form).
    public var text: String
    /// Its bounding box in points.
    public var box: Rect
    /// Which panel the text belongs to, if any (tick labels of small multiples).
    public var panel: Int?
    /// Point size it was set in (tests check readability at 700 px wide).
    public var fontSize: Double

    init(role: Role, text: String, box: Rect, panel: Int?, font: Font) {
        self.role = role; self.text = text; self.box = box; self.panel = panel; self.fontSize = font.size
    }
}

/// One plotting area with its axes.
public struct PanelLayout: Sendable, Equatable {
    /// The area inside the axes that data is drawn in.
    public var plot: Rect
    /// Boxes of the x tick labels, left to right.
    public var xTickLabels: [Rect] = []
    /// Boxes of the y tick labels, in drawing order.
    public var yTickLabels: [Rect] = []
    /// Positions of markers and sampled points along lines, bands and error bars: what a legend
    /// must not cover.
    public var points: [DataPoint] = []
    /// Bars and histogram bins.
    public var bars: [Rect] = []
    /// Heatmap cells.
    public var cells: [Rect] = []
    /// Labels of reference lines.
    public var annotations: [Rect] = []

    /// An empty panel layout; drawing code fills it in.
    public init(plot: Rect) { self.plot = plot }
}

/// A drawn data position, in figure coordinates.
public struct DataPoint: Sendable, Equatable {
    /// Index of the series (or bar group) it belongs to.
    public var series: Int
    /// Where it was drawn, in points.
    public var position: Point
    /// True for the data values themselves (markers), false for points sampled along a line,
    /// a band edge or an error bar.
    public var isMarker: Bool
}

/// Where the legend went and what it lists.
public struct LegendLayout: Sendable, Equatable {
    /// `inside`: in a plot corner clear of the data; `outsideTop`: a row above the panels.
    public enum Placement: Sendable, Equatable { case inside, outsideTop }
    /// The legend's frame in points.
    public var box: Rect
    /// Inside the plot or above it.
    public var placement: Placement
    /// Entry names in legend order.
    public var entries: [String]
}
