import Foundation

/// Composes a figure from panels: a title, a legend, a grid of panels with aligned plot areas,
/// and axis labels shared by the grid. Every Cartesian chart type draws through this.
struct PanelFigure {
    enum LegendMode { case auto, top, none }

    var size: FigureSize
    var title: String?
    var panels: [CartesianPanel]
    var columns: Int = 1
    var sharedXLabel: String?
    var sharedYLabel: String?
    var legend: [LegendEntry] = []
    var legendMode: LegendMode = .auto
    /// Panels share the x scale: only the bottom panel of each column labels its x ticks.
    var sharedX = false

    static let padding = 10.0
    static let gap = (x: 18.0, y: 12.0)

    func draw(on canvas: Canvas) -> FigureLayout {
        if legend.isEmpty || legendMode == .none {
            return arrangeAndDraw(canvas, legendOnTop: false, insideLegend: false)
        }
        if legendMode == .auto, panels.count == 1 {
            // Lay out once without a legend row; if a plot corner is free of data, the legend
            // goes there and the plot keeps its full size.
            let geometries = arrange(canvas, legendOnTop: false).geometries
            if let g = geometries.first {
                let foot = panels[0].obstacles(g, canvas: canvas)
                if Legend(entries: legend).insidePlacement(plot: g.plot, points: foot.points, bars: foot.rects, canvas: canvas) != nil {
                    return arrangeAndDraw(canvas, legendOnTop: false, insideLegend: true)
                }
            }
        }
        return arrangeAndDraw(canvas, legendOnTop: true, insideLegend: false)
    }

    private struct Arrangement {
        var titleOrigin: Point?
        var legendArea: Rect?
        var content: Rect
        /// The panels as drawn (tick labels possibly hidden for a shared x axis).
        var panels: [CartesianPanel]
        var geometries: [CartesianPanel.Geometry]
    }

    private func arrange(_ canvas: Canvas, legendOnTop: Bool) -> Arrangement {
        let pad = PanelFigure.padding
        var y = pad
        var titleOrigin: Point?
        if title != nil {
            titleOrigin = Point(x: pad, y: y)
            y += canvas.measure("Ag", .title).height + 8
        }
        var legendArea: Rect?
        if legendOnTop {
            let width = size.width - 2 * pad
            let h = Legend(entries: legend).rowsHeight(width: width, canvas)
            legendArea = Rect(x: pad, y: y, width: width, height: h)
            y += h + 8
        }
        var content = Rect(x: pad, y: y, width: size.width - 2 * pad, height: size.height - pad - y)
        let labelH = canvas.measure("Ag", .axisLabel).height
        if sharedYLabel != nil { content.x += labelH + 8; content.width -= labelH + 8 }
        if sharedXLabel != nil { content.height -= labelH + 8 }

        let cols = max(1, min(columns, panels.count))
        let rows = max(1, (panels.count + cols - 1) / cols)
        let cellW = (content.width - PanelFigure.gap.x * Double(cols - 1)) / Double(cols)
        let cellH = (content.height - PanelFigure.gap.y * Double(rows - 1)) / Double(rows)
        let cells = panels.indices.map { i in
            Rect(x: content.minX + Double(i % cols) * (cellW + PanelFigure.gap.x),
                 y: content.minY + Double(i / cols) * (cellH + PanelFigure.gap.y), width: cellW, height: cellH)
        }
        // First fit each panel alone, then give all panels the largest insets so plot areas line
        // up across the grid (readers compare panels by position).
        var panels = self.panels
        if sharedX {
            for i in panels.indices where i + cols < panels.count { panels[i].showsXTickLabels = false }
        }
        var geometries = zip(panels, cells).map { $0.geometry(in: $1, canvas: canvas) }
        if panels.count > 1 {
            let insets = geometries.map(\.insets)
            let most = (top: insets.map(\.top).max() ?? 0, left: insets.map(\.left).max() ?? 0,
                        bottom: insets.map(\.bottom).max() ?? 0, right: insets.map(\.right).max() ?? 0)
            geometries = zip(panels, cells).map { $0.geometry(in: $1, canvas: canvas, minimumInsets: most) }
        }
        return Arrangement(titleOrigin: titleOrigin, legendArea: legendArea, content: content, panels: panels, geometries: geometries)
    }

    private func arrangeAndDraw(_ canvas: Canvas, legendOnTop: Bool, insideLegend: Bool) -> FigureLayout {
        let a = arrange(canvas, legendOnTop: legendOnTop)
        var layout = FigureLayout(canvas: Rect(x: 0, y: 0, width: size.width, height: size.height))
        if let title, let origin = a.titleOrigin {
            let text = canvas.fitting(title, .title, width: size.width - 2 * PanelFigure.padding)
            let box = canvas.text(text, .title, color: Palette.ink, at: origin, anchor: .topLeading)
            layout.texts.append(TextBox(role: .title, text: text, box: box, panel: nil, font: .title))
        }
        for (i, (panel, g)) in zip(a.panels, a.geometries).enumerated() {
            layout.panels.append(panel.draw(g, on: canvas, index: i, into: &layout))
        }
        let plots = a.geometries.map(\.plot)
        if let xl = sharedXLabel, let left = plots.map(\.minX).min(), let right = plots.map(\.maxX).max() {
            let text = canvas.fitting(xl, .axisLabel, width: size.width - 2 * PanelFigure.padding)
            let box = canvas.text(text, .axisLabel, color: Palette.ink, at: Point(x: (left + right) / 2, y: size.height - PanelFigure.padding),
                                  anchor: TextAnchor(horizontal: .center, vertical: .bottom))
            layout.texts.append(TextBox(role: .axisLabel, text: text, box: box, panel: nil, font: .axisLabel))
        }
        if let yl = sharedYLabel, let top = plots.map(\.minY).min(), let bottom = plots.map(\.maxY).max() {
            let text = canvas.fitting(yl, .axisLabel, width: a.content.height)
            let box = canvas.text(text, .axisLabel, color: Palette.ink, at: Point(x: PanelFigure.padding, y: (top + bottom) / 2),
                                  anchor: TextAnchor(horizontal: .center, vertical: .top), rotation: .quarterTurnLeft)
            layout.texts.append(TextBox(role: .axisLabel, text: text, box: box, panel: nil, font: .axisLabel))
        }
        let legendDrawer = Legend(entries: legend)
        if insideLegend, let g = a.geometries.first {
            let foot = panels[0].obstacles(g, canvas: canvas)
            if let box = legendDrawer.insidePlacement(plot: g.plot, points: foot.points, bars: foot.rects, canvas: canvas) {
                let texts = legendDrawer.drawColumn(in: box, canvas)
                layout.texts += texts
                layout.legend = LegendLayout(box: box, placement: .inside, entries: legend.map(\.name))
            }
        } else if legendOnTop, let area = a.legendArea {
            let (box, texts) = legendDrawer.drawRows(in: area, canvas)
            layout.texts += texts
            layout.legend = LegendLayout(box: box, placement: .outsideTop, entries: legend.map(\.name))
        }
        return layout
    }
}
