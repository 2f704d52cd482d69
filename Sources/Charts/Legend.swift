import Foundation

/// Legends are placed where they never cover data: in the plot's emptiest corner if one is free,
/// otherwise above the plot as a row (a 700 px wide figure has no width to spare at the side).
struct Legend {
    var entries: [LegendEntry]

    static let swatchWidth = 26.0
    static let swatchGap = 6.0
    static let entryGap = 16.0
    static let padding = 6.0

    private func rowHeight(_ canvas: Canvas) -> Double { max(canvas.measure("Ag", .legend).height, 12) + 3 }

    /// Lines need room to show their dash and marker; a filled box does not.
    private static func swatchWidth(_ e: LegendEntry) -> Double {
        if case .box = e.swatch { return 12 } else { return swatchWidth }
    }

    private func entryWidth(_ e: LegendEntry, _ canvas: Canvas) -> Double {
        Legend.swatchWidth(e) + Legend.swatchGap + canvas.measure(e.name, .legend).width
    }

    /// A boxed column, for inside a plot corner.
    func columnSize(_ canvas: Canvas) -> (width: Double, height: Double) {
        let w = entries.map { entryWidth($0, canvas) }.max() ?? 0
        return (w + 2 * Legend.padding, Double(entries.count) * rowHeight(canvas) + 2 * Legend.padding - 3)
    }

    /// Rows that wrap at `width`, for above the plot.
    func rows(width: Double, _ canvas: Canvas) -> [[LegendEntry]] {
        var rows: [[LegendEntry]] = [[]]
        var x = 0.0
        for e in entries {
            let w = entryWidth(e, canvas)
            if x > 0, x + w > width { rows.append([]); x = 0 }
            rows[rows.count - 1].append(e)
            x += w + Legend.entryGap
        }
        return rows
    }

    func rowsHeight(width: Double, _ canvas: Canvas) -> Double {
        Double(rows(width: width, canvas).count) * rowHeight(canvas)
    }

    /// Chooses a plot corner whose legend box keeps clear of every data point and bar, preferring
    /// the corner farthest from the data. nil if no corner is free.
    func insidePlacement(plot: Rect, points: [DataPoint], bars: [Rect], canvas: Canvas) -> Rect? {
        let size = columnSize(canvas)
        let inset = 6.0
        guard size.width + 2 * inset < plot.width * 0.6, size.height + 2 * inset < plot.height * 0.7 else { return nil }
        let corners = [
            Rect(x: plot.maxX - inset - size.width, y: plot.minY + inset, width: size.width, height: size.height),
            Rect(x: plot.minX + inset, y: plot.minY + inset, width: size.width, height: size.height),
            Rect(x: plot.maxX - inset - size.width, y: plot.maxY - inset - size.height, width: size.width, height: size.height),
            Rect(x: plot.minX + inset, y: plot.maxY - inset - size.height, width: size.width, height: size.height),
        ]
        // Markers have a radius; keep a little air beyond it.
        let clearance = CartesianPanel.markerSize / 2 + 3
        var best: (Rect, Double)?
        for box in corners {
            let grown = box.insetBy(dx: -clearance, dy: -clearance)
            if points.contains(where: { grown.contains($0.position) }) { continue }
            if bars.contains(where: { grown.intersects($0) }) { continue }
            let distance = points.map { Legend.distance($0.position, box) }.min() ?? .infinity
            if best == nil || distance > (best?.1 ?? 0) + 1e-9 { best = (box, distance) }
        }
        return best?.0
    }

    static func distance(_ p: Point, _ r: Rect) -> Double {
        let dx = max(r.minX - p.x, 0, p.x - r.maxX)
        let dy = max(r.minY - p.y, 0, p.y - r.maxY)
        return hypot(dx, dy)
    }

    /// Draws a boxed column at `box` (from `insidePlacement`).
    func drawColumn(in box: Rect, _ canvas: Canvas) -> [TextBox] {
        canvas.fill(box, Color.white.withAlpha(0.92))
        canvas.stroke(box, Palette.grid, width: 1)
        var texts: [TextBox] = []
        let rh = rowHeight(canvas)
        for (i, e) in entries.enumerated() {
            let cy = box.minY + Legend.padding + Double(i) * rh + (rh - 3) / 2
            texts.append(drawEntry(e, at: Point(x: box.minX + Legend.padding, y: cy), canvas))
        }
        return texts
    }

    /// Draws wrapped rows starting at the top-left of `area`; returns the used box and texts.
    func drawRows(in area: Rect, _ canvas: Canvas) -> (Rect, [TextBox]) {
        let rh = rowHeight(canvas)
        var texts: [TextBox] = []
        var used: Rect?
        for (r, row) in rows(width: area.width, canvas).enumerated() {
            var x = area.minX
            let cy = area.minY + Double(r) * rh + (rh - 3) / 2
            for e in row {
                let t = drawEntry(e, at: Point(x: x, y: cy), canvas)
                texts.append(t)
                let entryBox = Rect(x: x, y: cy - rh / 2, width: t.box.maxX - x, height: rh)
                used = used.map { $0.union(entryBox) } ?? entryBox
                x = t.box.maxX + Legend.entryGap
            }
        }
        return (used ?? Rect(x: area.minX, y: area.minY, width: 0, height: 0), texts)
    }

    private func drawEntry(_ e: LegendEntry, at p: Point, _ canvas: Canvas) -> TextBox {
        let sw = Legend.swatchWidth(e)
        switch e.swatch {
        case .line(let style, let markers, let band):
            if band {
                canvas.fill(Rect(x: p.x, y: p.y - 5, width: sw, height: 10), style.color.withAlpha(0.2))
            }
            canvas.line([Point(x: p.x, y: p.y), Point(x: p.x + sw, y: p.y)], style.color, width: style.lineWidth,
                        dash: style.dash.pattern(lineWidth: style.lineWidth))
            if markers { canvas.marker(style.marker, at: Point(x: p.x + sw / 2, y: p.y), size: CartesianPanel.markerSize, color: style.color) }
        case .box(let color):
            canvas.fill(Rect(x: p.x, y: p.y - 6, width: 12, height: 12), color)
        }
        let box = canvas.text(e.name, .legend, color: Palette.ink, at: Point(x: p.x + sw + Legend.swatchGap, y: p.y), anchor: .middleLeading)
        return TextBox(role: .legend, text: e.name, box: box, panel: nil, font: .legend)
    }
}
