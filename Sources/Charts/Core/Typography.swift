/// Fonts are DejaVu Sans through fontconfig; only size and weight vary. Sizes are chosen so a
/// 640 pt wide figure shown 700 px wide keeps every text at 11 px or more.
struct Font: Sendable, Equatable, Hashable {
    var size: Double
    var bold: Bool
    init(size: Double, bold: Bool = false) { self.size = size; self.bold = bold }

    static let family = "DejaVu Sans"

    static let title = Font(size: 15, bold: true)
    static let panelTitle = Font(size: 12, bold: true)
    static let axisLabel = Font(size: 12)
    static let tick = Font(size: 11)
    static let legend = Font(size: 11)
    static let cell = Font(size: 11)
    static let caption = Font(size: 11)
}

/// Where a text's reference point sits relative to the text.
struct TextAnchor: Sendable, Equatable {
    enum Horizontal: Sendable { case leading, center, trailing }
    enum Vertical: Sendable { case top, middle, baseline, bottom }
    var horizontal: Horizontal
    var vertical: Vertical

    static let topLeading = TextAnchor(horizontal: .leading, vertical: .top)
    static let topCenter = TextAnchor(horizontal: .center, vertical: .top)
    static let middleLeading = TextAnchor(horizontal: .leading, vertical: .middle)
    static let middleTrailing = TextAnchor(horizontal: .trailing, vertical: .middle)
    static let center = TextAnchor(horizontal: .center, vertical: .middle)
    static let bottomCenter = TextAnchor(horizontal: .center, vertical: .bottom)
}

/// Text rotation: tick labels that do not fit horizontally are turned a quarter turn
/// (reading bottom to top), never to an angle whose bounding boxes would overlap.
enum TextRotation: Sendable { case none, quarterTurnLeft }
