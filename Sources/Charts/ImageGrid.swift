import Foundation

/// An 8-bit RGB image, row-major, channels interleaved (HWC), as datasets store samples.
public struct RGBImage: Sendable, Equatable {
    /// Width in pixels.
    public var width: Int
    /// Height in pixels.
    public var height: Int
    /// width x height x 3 bytes, RGB per pixel, rows from the top.
    public var pixels: [UInt8]
    /// Shown under the image: the class, a pseudo label and its confidence, a corruption.
    public var label: String

    /// An image from HWC bytes; the size is checked when the grid is drawn
    /// (`ChartError.invalidSize` for an empty image, `.mismatchedLengths` for a wrong byte count).
    public init(width: Int, height: Int, pixels: [UInt8], label: String = "") {
        self.width = width; self.height = height; self.pixels = pixels; self.label = label
    }

    func validate() throws {
        guard width > 0, height > 0 else { throw ChartError.invalidSize("image \"\(label)\" is \(width)x\(height)") }
        guard pixels.count == width * height * 3 else {
            throw ChartError.mismatchedLengths("image \"\(label)\" is \(width)x\(height)x3 = \(width * height * 3) bytes but has \(pixels.count)")
        }
    }
}

/// Images in a grid with a label under each (samples, augmentations, corruptions, pseudo-labelled
/// examples with their confidence), optionally with a header per row and per column. Pixels are
/// shown as pixels (nearest-neighbour), so a 32x32 sample at 64 pt is sharp.
public struct ImageGrid: ChartFigure, Drawable, Equatable {
    /// Title above the grid; nil draws none.
    public var title: String?
    /// Images per row (at least 1); images fill rows left to right.
    public var columns: Int
    /// Displayed edge of each image in points.
    public var cellSize: Double
    /// The cells in reading order.
    public var images: [RGBImage]
    /// A header left of each row, e.g. a corruption name; extra names are ignored.
    public var rowLabels: [String]?
    /// A header above each column, e.g. a severity; extra names are ignored.
    public var columnLabels: [String]?

    static let gap = (x: 12.0, y: 8.0)
    static let labelGap = 3.0

    /// A grid of the listed images; `columns` below 1 becomes 1 and `cellSize` below 8 pt becomes 8.
    /// Drawing throws `ChartError.emptyData` for no images and the image's own errors.
    public init(title: String? = nil, columns: Int = 8, cellSize: Double = 64, rowLabels: [String]? = nil,
                columnLabels: [String]? = nil, @ImageBuilder _ content: () -> [RGBImage]) {
        self.init(title: title, columns: columns, cellSize: cellSize, rowLabels: rowLabels, columnLabels: columnLabels, images: content())
    }

    /// The same grid from an array of images.
    public init(title: String? = nil, columns: Int = 8, cellSize: Double = 64, rowLabels: [String]? = nil,
                columnLabels: [String]? = nil, images: [RGBImage]) {
        self.title = title; self.columns = max(1, columns); self.cellSize = max(8, cellSize)
        self.images = images; self.rowLabels = rowLabels; self.columnLabels = columnLabels
    }

    private var rows: Int { max(1, (images.count + columns - 1) / columns) }
    private var usedColumns: Int { max(1, min(columns, images.count)) }
    private var hasLabels: Bool { images.contains { !$0.label.isEmpty } }

    /// Metrics that decide the size; measured on a private scratch surface.
    private struct Metrics { var titleH: Double; var labelH: Double; var rowLabelW: Double; var columnLabelH: Double }

    private func metrics(_ canvas: Canvas) -> Metrics {
        let titleH = title == nil ? 0 : canvas.measure("Ag", .title).height + 10
        let labelH = hasLabels ? canvas.measure("Ag", .caption).height + ImageGrid.labelGap : 0
        let rowLabelW = rowLabels.map { labels in min(160, labels.map { canvas.measure($0, .axisLabel).width }.max() ?? 0) + 10 } ?? 0
        let columnLabelH = columnLabels == nil ? 0 : canvas.measure("Ag", .axisLabel).height + 4
        return Metrics(titleH: titleH, labelH: labelH, rowLabelW: rowLabelW, columnLabelH: columnLabelH)
    }

    /// Size in points, computed from the cells, labels and title (which may widen it).
    public var size: FigureSize {
        let m = Canvas.measuring { metrics($0) } ?? Metrics(titleH: 0, labelH: 0, rowLabelW: 0, columnLabelH: 0)
        let pad = PanelFigure.padding
        let w = 2 * pad + m.rowLabelW + Double(usedColumns) * cellSize + Double(usedColumns - 1) * ImageGrid.gap.x
        let h = 2 * pad + m.titleH + m.columnLabelH + Double(rows) * (cellSize + m.labelH) + Double(rows - 1) * ImageGrid.gap.y
        // A title wider than the grid widens the figure rather than being cut.
        let titleW = title.flatMap { t in Canvas.measuring { $0.measure(t, .title).width } }.map { $0 + 2 * pad } ?? 0
        return FigureSize(width: max(w, titleW).rounded(.up), height: h.rounded(.up))
    }

    func draw(on canvas: Canvas) throws -> FigureLayout {
        guard !images.isEmpty else { throw ChartError.emptyData("image grid \"\(title ?? "")\" has no images") }
        for img in images { try img.validate() }
        let size = self.size
        let m = metrics(canvas)
        let pad = PanelFigure.padding
        var layout = FigureLayout(canvas: Rect(x: 0, y: 0, width: size.width, height: size.height))
        if let title {
            let box = canvas.text(title, .title, color: Palette.ink, at: Point(x: pad, y: pad), anchor: .topLeading)
            layout.texts.append(TextBox(role: .title, text: title, box: box, panel: nil, font: .title))
        }
        let left = pad + m.rowLabelW
        let top = pad + m.titleH + m.columnLabelH
        let labelWidth = cellSize + ImageGrid.gap.x - 2
        if let columnLabels {
            for (c, name) in columnLabels.prefix(usedColumns).enumerated() {
                let text = canvas.fitting(name, .axisLabel, width: labelWidth)
                let x = left + Double(c) * (cellSize + ImageGrid.gap.x) + cellSize / 2
                let box = canvas.text(text, .axisLabel, color: Palette.ink, at: Point(x: x, y: top - 4), anchor: TextAnchor(horizontal: .center, vertical: .bottom))
                layout.texts.append(TextBox(role: .axisLabel, text: text, box: box, panel: nil, font: .axisLabel))
            }
        }
        for (i, img) in images.enumerated() {
            let r = i / columns, c = i % columns
            let x = left + Double(c) * (cellSize + ImageGrid.gap.x)
            let y = top + Double(r) * (cellSize + m.labelH + ImageGrid.gap.y)
            // Keep the aspect ratio inside the square cell.
            let aspect = Double(img.width) / Double(img.height)
            let w = aspect >= 1 ? cellSize : cellSize * aspect
            let h = aspect >= 1 ? cellSize / aspect : cellSize
            let rect = Rect(x: x + (cellSize - w) / 2, y: y + (cellSize - h) / 2, width: w, height: h)
            canvas.image(img, in: rect)
            layout.images.append(rect)
            if !img.label.isEmpty {
                let text = canvas.fitting(img.label, .caption, width: labelWidth)
                let box = canvas.text(text, .caption, color: Palette.ink, at: Point(x: x + cellSize / 2, y: y + cellSize + ImageGrid.labelGap), anchor: .topCenter)
                layout.texts.append(TextBox(role: .imageLabel, text: text, box: box, panel: nil, font: .caption))
            }
        }
        if let rowLabels {
            for (r, name) in rowLabels.prefix(rows).enumerated() {
                let text = canvas.fitting(name, .axisLabel, width: m.rowLabelW - 10)
                let y = top + Double(r) * (cellSize + m.labelH + ImageGrid.gap.y) + cellSize / 2
                let box = canvas.text(text, .axisLabel, color: Palette.ink, at: Point(x: left - 10, y: y), anchor: .middleTrailing)
                layout.texts.append(TextBox(role: .axisLabel, text: text, box: box, panel: nil, font: .axisLabel))
            }
        }
        return layout
    }
}
