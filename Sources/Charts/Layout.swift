/// Where everything of a drawn figure went, in figure coordinates (points, y down). Returned by
/// `ChartFigure.layout()` so tests can check properties a reader cares about: labels that do not
/// collide, legends that do not hide data, nothing outside the canvas.
public struct FigureLayout: Sendable, Equatable {
    public var canvas: Rect
    /// Every text drawn, with its role and bounding box.
    public var texts: [TextBox] = []
    public var panels: [PanelLayout] = []
    public var legend: LegendLayout?
    /// Heatmap colour bar, if any.
    public var colorBar: Rect?
    /// Image grid cells, if any.
    public var images: [Rect] = []

    public init(canvas: Rect) { self.canvas = canvas }

    public func texts(_ role: TextBox.Role) -> [TextBox] { texts.filter { $0.role == role } }
}

public struct TextBox: Sendable, Equatable {
    public enum Role: Sendable, Equatable {
        case title, panelTitle, axisLabel, xTick, yTick, legend, cell, colorBarTick, imageLabel, annotation
    }
    public var role: Role
    public var text: String
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
    public var plot: Rect
    public var xTickLabels: [Rect] = []
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

    public init(plot: Rect) { self.plot = plot }
}

public struct DataPoint: Sendable, Equatable {
    public var series: Int
    public var position: Point
    /// True for the data values themselves (markers), false for points sampled along a line,
    /// a band edge or an error bar.
    public var isMarker: Bool
}

public struct LegendLayout: Sendable, Equatable {
    public enum Placement: Sendable, Equatable { case inside, outsideTop }
    public var box: Rect
    public var placement: Placement
    public var entries: [String]
}
