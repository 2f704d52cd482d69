import CCairo
import Foundation

/// One plotting area with an x and a y axis and the marks drawn in it. Line charts, bar charts,
/// histograms, small multiples and training curves are all made of these.
struct CartesianPanel: Sendable {
    var title: String?
    var x: AxisModel
    var y: AxisModel
    var marks: [Mark]
    /// Off for upper panels of a grid that shares x: the bottom row's labels serve the column.
    var showsXTickLabels = true

    static let tickLength = 4.0
    static let tickPad = 3.0
    static let markerSize = 7.0

    /// The panel fitted into a region: its plot rectangle and its axes.
    struct Geometry {
        var region: Rect
        var plot: Rect
        var x: ResolvedAxis
        var y: ResolvedAxis

        func point(_ p: Point) -> Point {
            Point(x: x.position(p.x, from: plot.minX, to: plot.maxX), y: y.position(p.y, from: plot.maxY, to: plot.minY))
        }

        /// Space around the plot inside the region; grids align panels by taking the largest.
        var insets: (top: Double, left: Double, bottom: Double, right: Double) {
            (plot.minY - region.minY, plot.minX - region.minX, region.maxY - plot.maxY, region.maxX - plot.maxX)
        }
    }

    /// Fits the axes to the region. Two passes: the y labels' width depends on the plot height,
    /// which depends on the x labels' height, which depends on the plot width.
    func geometry(in region: Rect, canvas: Canvas, minimumInsets: (top: Double, left: Double, bottom: Double, right: Double) = (0, 0, 0, 0)) -> Geometry {
        let textH = canvas.measure("Ag", .tick).height
        let titleH = title == nil ? 0 : canvas.measure("Ag", .panelTitle).height + 6
        let xLabelH = x.label == nil ? 0 : canvas.measure("Ag", .axisLabel).height + 6
        let yLabelW = y.label == nil ? 0 : canvas.measure("Ag", .axisLabel).height + 8
        let tickSpace = CartesianPanel.tickLength + CartesianPanel.tickPad
        // Half a tick label pokes above the top tick; labels of vertical reference lines sit
        // in a row above the plot, where they cannot cover data.
        let top = max(minimumInsets.top, titleH + (hasXReferenceLabels ? canvas.measure("Ag", .caption).height + 4 : textH / 2 + 2))

        var xTickH = showsXTickLabels ? textH : 0
        var plotH = region.height - top - xLabelH - tickSpace - xTickH
        var yAxis = AxisFitter.fit(y, length: max(plotH, 10), orientation: .vertical, canvas: canvas)
        var left = 0.0, right = 0.0
        var xAxis = ResolvedAxis(low: 0, high: 1, ticks: [])
        for _ in 0..<2 {
            let yTickW = min(yAxis.ticks.map { canvas.measure($0.label, .tick).width }.max() ?? 0, region.width * 0.4)
            left = max(minimumInsets.left, yLabelW + yTickW + tickSpace)
            // Numeric x labels are centred on their ticks; the last one overhangs the plot.
            right = max(minimumInsets.right, 8)
            let plotW = region.width - left - right
            xAxis = AxisFitter.fit(x, length: max(plotW, 10), orientation: .horizontal, canvas: canvas)
            if !xAxis.categorical, let last = xAxis.ticks.last(where: { !$0.label.isEmpty }),
               last.value >= xAxis.high - 1e-9 * max(1, abs(xAxis.high)) {
                right = max(right, canvas.measure(last.label, .tick).width / 2 + 2)
                xAxis = AxisFitter.fit(x, length: max(region.width - left - right, 10), orientation: .horizontal, canvas: canvas)
            }
            xTickH = !showsXTickLabels ? 0 : xAxis.rotated ? (xAxis.ticks.map { canvas.measure($0.label, .tick).width }.max() ?? textH) : textH
            let bottom = max(minimumInsets.bottom, xLabelH + tickSpace + xTickH)
            plotH = region.height - top - bottom
            yAxis = AxisFitter.fit(y, length: max(plotH, 10), orientation: .vertical, canvas: canvas)
        }
        let bottom = max(minimumInsets.bottom, xLabelH + tickSpace + xTickH)
        let plot = Rect(x: region.minX + left, y: region.minY + top,
                        width: max(region.width - left - right, 10), height: max(region.height - top - bottom, 10))
        return Geometry(region: region, plot: plot, x: xAxis, y: yAxis)
    }

    /// Where data sits on the page (markers and points sampled along lines, bands and error
    /// bars), and the bars: what a legend must keep clear of.
    func dataFootprint(_ g: Geometry) -> (points: [DataPoint], bars: [Rect]) {
        var points: [DataPoint] = []
        var bars: [Rect] = []
        func sample(_ a: Point, _ b: Point, series: Int) {
            let d = hypot(b.x - a.x, b.y - a.y)
            let n = max(1, Int(d / 3))
            for k in 0...n {
                let t = Double(k) / Double(n)
                points.append(DataPoint(series: series, position: Point(x: a.x + (b.x - a.x) * t, y: a.y + (b.y - a.y) * t), isMarker: false))
            }
        }
        for mark in marks {
            switch mark {
            case .line(let s, let pts, _, let markers):
                let px = pts.map { $0.y.isFinite && $0.x.isFinite ? g.point($0) : nil }
                for i in px.indices {
                    if let p = px[i], markers { points.append(DataPoint(series: s, position: p, isMarker: true)) }
                    if i > 0, let a = px[i - 1], let b = px[i] { sample(a, b, series: s) }
                }
            case .band(let s, let xs, let lo, let hi, _):
                for i in xs.indices where i > 0 {
                    for edge in [lo, hi] where edge[i].isFinite && edge[i - 1].isFinite {
                        sample(g.point(Point(x: xs[i - 1], y: edge[i - 1])), g.point(Point(x: xs[i], y: edge[i])), series: s)
                    }
                }
            case .errorBar(let s, let a, let b, _):
                if a.x.isFinite, a.y.isFinite, b.x.isFinite, b.y.isFinite { sample(g.point(a), g.point(b), series: s) }
            case .bar(_, let x0, let x1, let y0, let y1, _, _):
                let a = g.point(Point(x: x0, y: y0)), b = g.point(Point(x: x1, y: y1))
                bars.append(Rect(x: min(a.x, b.x), y: min(a.y, b.y), width: abs(b.x - a.x), height: abs(b.y - a.y)))
            case .reference:
                break // a reference line is context, not data: a legend may sit across it
            }
        }
        return (points, bars)
    }

    var hasXReferenceLabels: Bool {
        marks.contains { if case .reference(let r) = $0, r.axis == .x, !r.label.isEmpty { return true } else { return false } }
    }

    /// Labels of reference lines. A vertical line's label goes above the plot; a horizontal
    /// line's label goes at whichever end of the line, above or below it, is clear of data.
    func referenceLabels(_ g: Geometry, canvas: Canvas, points: [DataPoint], bars: [Rect]) -> [(text: String, box: Rect)] {
        let plot = g.plot
        var out: [(text: String, box: Rect)] = []
        for mark in marks {
            guard case .reference(let r) = mark, !r.label.isEmpty else { continue }
            switch r.axis {
            case .x:
                let px = g.x.position(r.value, from: plot.minX, to: plot.maxX)
                let text = canvas.fitting(r.label, .caption, width: plot.width)
                var box = canvas.textBox(text, .caption, at: Point(x: px, y: plot.minY - 3), anchor: TextAnchor(horizontal: .center, vertical: .bottom))
                // Keep it over the plot horizontally.
                box.x = min(max(box.x, plot.minX), plot.maxX - box.width)
                out.append((text, box))
            case .y:
                let py = g.y.position(r.value, from: plot.maxY, to: plot.minY)
                let text = canvas.fitting(r.label, .caption, width: plot.width * 0.5)
                let candidates = [
                    canvas.textBox(text, .caption, at: Point(x: plot.maxX - 4, y: py - 2), anchor: TextAnchor(horizontal: .trailing, vertical: .bottom)),
                    canvas.textBox(text, .caption, at: Point(x: plot.minX + 4, y: py - 2), anchor: TextAnchor(horizontal: .leading, vertical: .bottom)),
                    canvas.textBox(text, .caption, at: Point(x: plot.maxX - 4, y: py + 2), anchor: TextAnchor(horizontal: .trailing, vertical: .top)),
                    canvas.textBox(text, .caption, at: Point(x: plot.minX + 4, y: py + 2), anchor: TextAnchor(horizontal: .leading, vertical: .top)),
                ]
                let clear = candidates.first { box in
                    plot.contains(box) && !points.contains { box.insetBy(dx: -2, dy: -2).contains($0.position) } && !bars.contains { box.intersects($0) }
                }
                out.append((text, clear ?? candidates[0]))
            }
        }
        return out
    }

    /// Everything a legend must keep clear of: data and reference-line labels.
    func obstacles(_ g: Geometry, canvas: Canvas) -> (points: [DataPoint], rects: [Rect]) {
        let foot = dataFootprint(g)
        let labels = referenceLabels(g, canvas: canvas, points: foot.points, bars: foot.bars).map(\.box)
        return (foot.points, foot.bars + labels)
    }

    /// Draws the panel and records its layout. `index` tags the texts for tests.
    func draw(_ g: Geometry, on canvas: Canvas, index: Int, into layout: inout FigureLayout) -> PanelLayout {
        var result = PanelLayout(plot: g.plot)
        let plot = g.plot

        // Grid along the value axis only: enough to read values, little enough to recede.
        if !g.y.categorical {
            for t in g.y.ticks {
                let py = g.y.position(t.value, from: plot.maxY, to: plot.minY)
                canvas.line([Point(x: plot.minX, y: py), Point(x: plot.maxX, y: py)], Palette.grid, width: 0.8)
            }
        } else if !g.x.categorical {
            for t in g.x.ticks {
                let px = g.x.position(t.value, from: plot.minX, to: plot.maxX)
                canvas.line([Point(x: px, y: plot.minY), Point(x: px, y: plot.maxY)], Palette.grid, width: 0.8)
            }
        }

        // A value axis that crosses zero gets a zero line: negative bars hang from it.
        if !g.y.categorical, g.y.low < 0, g.y.high > 0 {
            let py = g.y.position(0, from: plot.maxY, to: plot.minY)
            canvas.line([Point(x: plot.minX, y: py), Point(x: plot.maxX, y: py)], Palette.axis, width: 1)
        } else if !g.x.categorical, g.y.categorical, g.x.low < 0, g.x.high > 0 {
            let px = g.x.position(0, from: plot.minX, to: plot.maxX)
            canvas.line([Point(x: px, y: plot.minY), Point(x: px, y: plot.maxY)], Palette.axis, width: 1)
        }

        // Layer order: areas under lines, lines under markers; reference lines under data.
        // Clipped just outside the plot: a fixed y range (0...100) may cut data, which must not
        // then spill over tick labels; the margin keeps edge markers whole.
        canvas.save()
        canvas.clip(to: plot.insetBy(dx: -CartesianPanel.markerSize, dy: -CartesianPanel.markerSize))
        for mark in marks { if case .band = mark { drawMark(mark, g, canvas) } }
        for mark in marks { if case .bar = mark { drawMark(mark, g, canvas) } }
        for mark in marks { if case .reference = mark { drawMark(mark, g, canvas) } }
        for mark in marks { if case .errorBar = mark { drawMark(mark, g, canvas) } }
        for mark in marks { if case .line = mark { drawMark(mark, g, canvas) } }
        for mark in marks { if case .line(_, let pts, let style, true) = mark {
            for p in pts where p.x.isFinite && p.y.isFinite {
                canvas.marker(style.marker, at: g.point(p), size: CartesianPanel.markerSize, color: style.color)
            }
        } }
        canvas.restore()

        let footprint = dataFootprint(g)
        for label in referenceLabels(g, canvas: canvas, points: footprint.points, bars: footprint.bars) {
            canvas.text(label.text, .caption, color: Palette.mutedText, at: Point(x: label.box.minX, y: label.box.minY), anchor: .topLeading)
            result.annotations.append(label.box)
            layout.texts.append(TextBox(role: .annotation, text: label.text, box: label.box, panel: index, font: .caption))
        }

        // Axes: left and bottom spines with outward ticks.
        canvas.line([Point(x: plot.minX, y: plot.minY), Point(x: plot.minX, y: plot.maxY), Point(x: plot.maxX, y: plot.maxY)],
                    Palette.axis, width: 1)
        let tl = CartesianPanel.tickLength, tp = CartesianPanel.tickPad
        for t in g.x.ticks {
            let px = g.x.position(t.value, from: plot.minX, to: plot.maxX)
            canvas.line([Point(x: px, y: plot.maxY), Point(x: px, y: plot.maxY + tl)], Palette.axis, width: 1)
            guard !t.label.isEmpty, showsXTickLabels else { continue }
            let box: Rect
            if g.x.rotated {
                box = canvas.text(t.label, .tick, color: Palette.ink, at: Point(x: px, y: plot.maxY + tl + tp),
                                  anchor: TextAnchor(horizontal: .trailing, vertical: .middle), rotation: .quarterTurnLeft)
            } else {
                box = canvas.text(t.label, .tick, color: Palette.ink, at: Point(x: px, y: plot.maxY + tl + tp), anchor: .topCenter)
            }
            result.xTickLabels.append(box)
            layout.texts.append(TextBox(role: .xTick, text: t.label, box: box, panel: index, font: .tick))
        }
        for t in g.y.ticks {
            let py = g.y.position(t.value, from: plot.maxY, to: plot.minY)
            canvas.line([Point(x: plot.minX - tl, y: py), Point(x: plot.minX, y: py)], Palette.axis, width: 1)
            guard !t.label.isEmpty else { continue }
            let label = canvas.fitting(t.label, .tick, width: g.region.width * 0.4)
            let box = canvas.text(label, .tick, color: Palette.ink, at: Point(x: plot.minX - tl - tp, y: py), anchor: .middleTrailing)
            result.yTickLabels.append(box)
            layout.texts.append(TextBox(role: .yTick, text: label, box: box, panel: index, font: .tick))
        }

        // Axis labels at the region's outer edges, centred on the plot.
        if let xl = x.label {
            let box = canvas.text(canvas.fitting(xl, .axisLabel, width: g.region.width), .axisLabel, color: Palette.ink,
                                  at: Point(x: plot.midX, y: g.region.maxY), anchor: TextAnchor(horizontal: .center, vertical: .bottom))
            layout.texts.append(TextBox(role: .axisLabel, text: xl, box: box, panel: index, font: .axisLabel))
        }
        if let yl = y.label {
            let box = canvas.text(canvas.fitting(yl, .axisLabel, width: plot.height + 20), .axisLabel, color: Palette.ink,
                                  at: Point(x: g.region.minX, y: plot.midY), anchor: TextAnchor(horizontal: .center, vertical: .top),
                                  rotation: .quarterTurnLeft)
            layout.texts.append(TextBox(role: .axisLabel, text: yl, box: box, panel: index, font: .axisLabel))
        }
        if let title {
            // Over the plot when it fits beside it; else from the cell's left edge (over the tick
            // labels); shortened with an ellipsis only when even the whole cell is too narrow.
            let left = canvas.measure(title, .panelTitle).width <= g.region.maxX - plot.minX ? plot.minX : g.region.minX
            let box = canvas.text(canvas.fitting(title, .panelTitle, width: g.region.maxX - left), .panelTitle, color: Palette.ink,
                                  at: Point(x: left, y: g.region.minY), anchor: .topLeading)
            layout.texts.append(TextBox(role: .panelTitle, text: title, box: box, panel: index, font: .panelTitle))
        }

        result.points = footprint.points
        result.bars = footprint.bars
        return result
    }

    /// Draws one mark; reference-line labels are placed separately, once the data is known.
    private func drawMark(_ mark: Mark, _ g: Geometry, _ canvas: Canvas) {
        switch mark {
        case .band(_, let xs, let lo, let hi, let color):
            // One polygon per run of finite values.
            var run: [Int] = []
            func flush() {
                if run.count >= 2 {
                    let upper = run.map { g.point(Point(x: xs[$0], y: hi[$0])) }
                    let lower = run.reversed().map { g.point(Point(x: xs[$0], y: lo[$0])) }
                    canvas.polygon(upper + lower, fill: color.withAlpha(0.2))
                }
                run = []
            }
            for i in xs.indices { if lo[i].isFinite && hi[i].isFinite && xs[i].isFinite { run.append(i) } else { flush() } }
            flush()
        case .bar(_, let x0, let x1, let y0, let y1, let fill, let outline):
            let a = g.point(Point(x: x0, y: y0)), b = g.point(Point(x: x1, y: y1))
            let r = Rect(x: min(a.x, b.x), y: min(a.y, b.y), width: abs(b.x - a.x), height: abs(b.y - a.y))
            canvas.fill(r, fill)
            if let outline { canvas.stroke(r.insetBy(dx: 0.5, dy: 0.5), outline, width: 1) }
        case .errorBar(_, let a, let b, let color):
            guard a.x.isFinite, a.y.isFinite, b.x.isFinite, b.y.isFinite else { return }
            let pa = g.point(a), pb = g.point(b)
            canvas.line([pa, pb], color, width: 1.3)
            // Caps perpendicular to the bar, short enough that a tiny error still reads as two caps.
            let len = hypot(pb.x - pa.x, pb.y - pa.y)
            let cap = 3.5
            let (nx, ny) = len > 0 ? (-(pb.y - pa.y) / len * cap, (pb.x - pa.x) / len * cap) : (cap, 0.0)
            for p in [pa, pb] {
                canvas.line([Point(x: p.x - nx, y: p.y - ny), Point(x: p.x + nx, y: p.y + ny)], color, width: 1.1)
            }
        case .line(_, let pts, let style, _):
            var run: [Point] = []
            for p in pts {
                if p.x.isFinite && p.y.isFinite { run.append(g.point(p)) } else {
                    canvas.line(run, style.color, width: style.lineWidth, dash: style.dash.pattern(lineWidth: style.lineWidth)); run = []
                }
            }
            canvas.line(run, style.color, width: style.lineWidth, dash: style.dash.pattern(lineWidth: style.lineWidth))
        case .reference(let r):
            let plot = g.plot
            let color = Palette.mutedText
            switch r.axis {
            case .y:
                let py = g.y.position(r.value, from: plot.maxY, to: plot.minY)
                canvas.line([Point(x: plot.minX, y: py), Point(x: plot.maxX, y: py)], color, width: 1.2, dash: [5, 3])
            case .x:
                let px = g.x.position(r.value, from: plot.minX, to: plot.maxX)
                canvas.line([Point(x: px, y: plot.minY), Point(x: px, y: plot.maxY)], color, width: 1.2, dash: [5, 3])
            }
        }
    }
}
