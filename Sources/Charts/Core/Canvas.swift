import CCairo
import Foundation

/// A thin, non-owning wrapper over a cairo context: the only place that speaks cairo's drawing
/// API, so chart code reads in terms of points, rectangles and colours.
struct Canvas {
    let cr: OpaquePointer

    init(_ cr: OpaquePointer) {
        self.cr = cr
        // Unhinted metrics make text widths identical on the SVG and the image surface (and at
        // every PNG scale), so the layout, and hence the tests' view of it, does not depend on
        // the output format.
        if let options = cairo_font_options_create() {
            cairo_font_options_set_hint_metrics(options, CAIRO_HINT_METRICS_OFF)
            cairo_font_options_set_hint_style(options, CAIRO_HINT_STYLE_NONE)
            cairo_font_options_set_antialias(options, CAIRO_ANTIALIAS_GRAY)
            cairo_set_font_options(cr, options)
            cairo_font_options_destroy(options)
        }
        cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND)
    }

    // MARK: Text

    struct TextMetrics { var width: Double; var ascent: Double; var descent: Double
        var height: Double { ascent + descent }
    }

    private func select(_ font: Font) {
        cairo_select_font_face(cr, Font.family, CAIRO_FONT_SLANT_NORMAL,
                               font.bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL)
        cairo_set_font_size(cr, font.size)
    }

    /// Width from the advance (what the eye reads as the word's extent); height from the font's
    /// ascent and descent, so labels of one font line up whatever their letters.
    func measure(_ text: String, _ font: Font) -> TextMetrics {
        select(font)
        var fe = cairo_font_extents_t()
        cairo_font_extents(cr, &fe)
        var te = cairo_text_extents_t()
        cairo_text_extents(cr, text, &te)
        return TextMetrics(width: te.x_advance, ascent: fe.ascent, descent: fe.descent)
    }

    /// The box a text will occupy when anchored at `p`; `text(...)` draws exactly there.
    func textBox(_ text: String, _ font: Font, at p: Point, anchor: TextAnchor,
                 rotation: TextRotation = .none) -> Rect {
        let m = measure(text, font)
        // Along the reading direction and across it, before rotation.
        let along: Double
        switch anchor.horizontal {
        case .leading: along = 0
        case .center: along = -m.width / 2
        case .trailing: along = -m.width
        }
        let across: Double // offset of the box's top from p, measured across the line
        switch anchor.vertical {
        case .top: across = 0
        case .middle: across = -m.height / 2
        case .baseline: across = -m.ascent
        case .bottom: across = -m.height
        }
        switch rotation {
        case .none:
            return Rect(x: p.x + along, y: p.y + across, width: m.width, height: m.height)
        case .quarterTurnLeft:
            // Reading bottom to top: "along" runs up the page, "across" runs left to right.
            return Rect(x: p.x + across, y: p.y - along - m.width, width: m.height, height: m.width)
        }
    }

    @discardableResult
    func text(_ text: String, _ font: Font, color: Color, at p: Point, anchor: TextAnchor,
              rotation: TextRotation = .none) -> Rect {
        let box = textBox(text, font, at: p, anchor: anchor, rotation: rotation)
        let m = measure(text, font) // also selects the font
        setColor(color)
        cairo_save(cr)
        switch rotation {
        case .none:
            cairo_move_to(cr, box.minX, box.minY + m.ascent)
        case .quarterTurnLeft:
            cairo_move_to(cr, box.minX + m.ascent, box.maxY)
            cairo_rotate(cr, -Double.pi / 2)
        }
        cairo_show_text(cr, text)
        cairo_new_path(cr)
        cairo_restore(cr)
        return box
    }

    /// Shortens a text with an ellipsis until it fits `width` (long category names).
    func fitting(_ text: String, _ font: Font, width: Double) -> String {
        if measure(text, font).width <= width { return text }
        var chars = Array(text)
        while !chars.isEmpty {
            chars.removeLast()
            let candidate = String(chars).trimmingCharacters(in: .whitespaces) + "…"
            if measure(candidate, font).width <= width { return candidate }
        }
        return ""
    }

    // MARK: Shapes

    func setColor(_ c: Color) { cairo_set_source_rgba(cr, c.red, c.green, c.blue, c.alpha) }

    func fill(_ r: Rect, _ color: Color) {
        setColor(color)
        cairo_rectangle(cr, r.x, r.y, r.width, r.height)
        cairo_fill(cr)
    }

    func stroke(_ r: Rect, _ color: Color, width: Double) {
        setColor(color)
        cairo_set_line_width(cr, width)
        cairo_set_dash(cr, nil, 0, 0)
        cairo_rectangle(cr, r.x, r.y, r.width, r.height)
        cairo_stroke(cr)
    }

    /// A polyline; an empty dash pattern draws solid.
    func line(_ points: [Point], _ color: Color, width: Double, dash: [Double] = [],
              cap: cairo_line_cap_t = CAIRO_LINE_CAP_BUTT) {
        guard points.count >= 2 else { return }
        setColor(color)
        cairo_set_line_width(cr, width)
        cairo_set_line_cap(cr, dash.isEmpty ? cap : CAIRO_LINE_CAP_ROUND)
        dash.withUnsafeBufferPointer { cairo_set_dash(cr, $0.baseAddress, Int32($0.count), 0) }
        cairo_move_to(cr, points[0].x, points[0].y)
        for p in points.dropFirst() { cairo_line_to(cr, p.x, p.y) }
        cairo_stroke(cr)
        cairo_set_dash(cr, nil, 0, 0)
    }

    func polygon(_ points: [Point], fill color: Color) {
        guard points.count >= 3 else { return }
        setColor(color)
        cairo_move_to(cr, points[0].x, points[0].y)
        for p in points.dropFirst() { cairo_line_to(cr, p.x, p.y) }
        cairo_close_path(cr)
        cairo_fill(cr)
    }

    /// Filled markers get a thin white rim so they stay distinct where lines cross.
    func marker(_ kind: Marker, at p: Point, size s: Double, color: Color) {
        let r = s / 2
        cairo_new_path(cr)
        switch kind {
        case .none: return
        case .circle:
            cairo_arc(cr, p.x, p.y, r, 0, 2 * .pi)
        case .square:
            let h = r * 0.9
            cairo_rectangle(cr, p.x - h, p.y - h, 2 * h, 2 * h)
        case .diamond:
            let h = r * 1.2
            path([Point(x: p.x, y: p.y - h), Point(x: p.x + h, y: p.y), Point(x: p.x, y: p.y + h), Point(x: p.x - h, y: p.y)])
        case .triangle:
            let h = r * 1.15
            path([Point(x: p.x, y: p.y - h), Point(x: p.x + h, y: p.y + h * 0.8), Point(x: p.x - h, y: p.y + h * 0.8)])
        case .invertedTriangle:
            let h = r * 1.15
            path([Point(x: p.x, y: p.y + h), Point(x: p.x + h, y: p.y - h * 0.8), Point(x: p.x - h, y: p.y - h * 0.8)])
        case .star:
            var pts: [Point] = []
            for k in 0..<10 {
                let radius = k % 2 == 0 ? r * 1.3 : r * 0.55
                let a = -Double.pi / 2 + Double(k) * .pi / 5
                pts.append(Point(x: p.x + radius * cos(a), y: p.y + radius * sin(a)))
            }
            path(pts)
        case .cross, .plus:
            // Open shapes: stroked, with a white halo drawn first for the same separation.
            let h = r * 1.05
            let segs: [(Point, Point)] = kind == .plus
                ? [(Point(x: p.x - h, y: p.y), Point(x: p.x + h, y: p.y)), (Point(x: p.x, y: p.y - h), Point(x: p.x, y: p.y + h))]
                : [(Point(x: p.x - h, y: p.y - h), Point(x: p.x + h, y: p.y + h)), (Point(x: p.x - h, y: p.y + h), Point(x: p.x + h, y: p.y - h))]
            for (width, c) in [(4.2, Color.white), (2.2, color)] {
                for (a, b) in segs { line([a, b], c, width: width, cap: CAIRO_LINE_CAP_ROUND) }
            }
            return
        }
        setColor(color)
        cairo_fill_preserve(cr)
        setColor(.white)
        cairo_set_line_width(cr, 1)
        cairo_stroke(cr)
    }

    private func path(_ pts: [Point]) {
        guard let first = pts.first else { return }
        cairo_move_to(cr, first.x, first.y)
        for p in pts.dropFirst() { cairo_line_to(cr, p.x, p.y) }
        cairo_close_path(cr)
    }

    func clip(to r: Rect) {
        cairo_rectangle(cr, r.x, r.y, r.width, r.height)
        cairo_clip(cr)
    }

    func save() { cairo_save(cr) }
    func restore() { cairo_restore(cr) }

    /// Measures text outside a render (a figure's size may depend on its labels): a private
    /// 1x1 surface per call, so there is no shared state.
    static func measuring<T>(_ body: (Canvas) -> T) -> T? {
        guard let surface = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, 1, 1) else { return nil }
        defer { cairo_surface_destroy(surface) }
        guard let cr = cairo_create(surface) else { return nil }
        defer { cairo_destroy(cr) }
        return body(Canvas(cr))
    }

    // MARK: Images

    /// Draws an RGB image scaled into `r` with nearest-neighbour sampling: a 32x32 sample shown at
    /// 64 pt should look like its pixels, not like a blur.
    func image(_ img: RGBImage, in r: Rect) {
        guard img.width > 0, img.height > 0, img.pixels.count == img.width * img.height * 3,
              let surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, Int32(img.width), Int32(img.height))
        else { return }
        defer { cairo_surface_destroy(surface) }
        cairo_surface_flush(surface)
        let stride = Int(cairo_image_surface_get_stride(surface))
        if let base = cairo_image_surface_get_data(surface) {
            for y in 0..<img.height {
                let row = base.advanced(by: y * stride).withMemoryRebound(to: UInt32.self, capacity: img.width) { $0 }
                for x in 0..<img.width {
                    let i = (y * img.width + x) * 3
                    let r = UInt32(img.pixels[i]), g = UInt32(img.pixels[i + 1]), b = UInt32(img.pixels[i + 2])
                    row[x] = 0xFF00_0000 | (r << 16) | (g << 8) | b
                }
            }
        }
        cairo_surface_mark_dirty(surface)
        cairo_save(cr)
        cairo_rectangle(cr, r.x, r.y, r.width, r.height)
        cairo_clip(cr)
        cairo_translate(cr, r.x, r.y)
        cairo_scale(cr, r.width / Double(img.width), r.height / Double(img.height))
        cairo_set_source_surface(cr, surface, 0, 0)
        if let pattern = cairo_get_source(cr) { cairo_pattern_set_filter(pattern, CAIRO_FILTER_NEAREST) }
        cairo_paint(cr)
        cairo_restore(cr)
    }
}
