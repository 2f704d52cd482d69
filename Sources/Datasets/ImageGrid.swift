import CCairo

/// A PNG contact sheet of images with a caption under each (for `noisy-student data-preview`):
/// users look at data, they don't read it.
public struct ImageGrid {
    public struct Tile {
        public var pixels: [UInt8]  // HWC bytes
        public var height: Int, width: Int, channels: Int
        public var caption: String
        public init(pixels: [UInt8], height: Int, width: Int, channels: Int, caption: String) {
            precondition(pixels.count == height * width * channels, "ImageGrid.Tile: pixel count does not match shape")
            self.pixels = pixels
            self.height = height
            self.width = width
            self.channels = channels
            self.caption = caption
        }
    }

    public var tiles: [Tile]
    public var columns: Int
    /// Pixels per image pixel (nearest-neighbour upscaling keeps the data honest).
    public var zoom: Int
    /// Optional row titles drawn at the left (e.g. the op or corruption name).
    public var rowTitles: [String]

    public init(tiles: [Tile], columns: Int, zoom: Int = 3, rowTitles: [String] = []) {
        self.tiles = tiles
        self.columns = max(1, columns)
        self.zoom = max(1, zoom)
        self.rowTitles = rowTitles
    }

    public func writePNG(to path: String) throws {
        let cellW = (tiles.map(\.width).max() ?? 32) * zoom
        let cellH = (tiles.map(\.height).max() ?? 32) * zoom
        let captionH = 14, pad = 6
        let titleW = rowTitles.isEmpty ? 0 : 110
        let rows = (tiles.count + columns - 1) / columns
        let W = titleW + columns * (cellW + pad) + pad
        let H = rows * (cellH + captionH + pad) + pad
        let surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, Int32(W), Int32(H))
        defer { cairo_surface_destroy(surface) }
        guard let cr = cairo_create(surface) else { throw DatasetError.unreadable(file: path, reason: "cairo could not draw") }
        defer { cairo_destroy(cr) }
        cairo_set_source_rgb(cr, 1, 1, 1)
        cairo_paint(cr)
        cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL)
        cairo_set_font_size(cr, 10)

        for (r, title) in rowTitles.enumerated() where r < rows {
            cairo_set_source_rgb(cr, 0, 0, 0)
            cairo_move_to(cr, 4, Double(pad + r * (cellH + captionH + pad) + cellH / 2))
            cairo_show_text(cr, title)
        }
        for (k, tile) in tiles.enumerated() {
            let x0 = titleW + pad + (k % columns) * (cellW + pad)
            let y0 = pad + (k / columns) * (cellH + captionH + pad)
            guard let img = cairo_image_surface_create(CAIRO_FORMAT_RGB24, Int32(tile.width), Int32(tile.height)) else { continue }
            cairo_surface_flush(img)
            if let data = cairo_image_surface_get_data(img) {
                let stride = Int(cairo_image_surface_get_stride(img))
                for y in 0..<tile.height {
                    let row = UnsafeMutableRawPointer(data + y * stride).assumingMemoryBound(to: UInt32.self)
                    for x in 0..<tile.width {
                        let o = (y * tile.width + x) * tile.channels
                        let r = UInt32(tile.pixels[o])
                        let g = tile.channels >= 3 ? UInt32(tile.pixels[o + 1]) : r
                        let b = tile.channels >= 3 ? UInt32(tile.pixels[o + 2]) : r
                        row[x] = r << 16 | g << 8 | b
                    }
                }
            }
            cairo_surface_mark_dirty(img)
            cairo_save(cr)
            cairo_translate(cr, Double(x0), Double(y0))
            cairo_scale(cr, Double(zoom), Double(zoom))
            cairo_set_source_surface(cr, img, 0, 0)
            cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_NEAREST)
            cairo_paint(cr)
            cairo_restore(cr)
            cairo_surface_destroy(img)
            cairo_set_source_rgb(cr, 0, 0, 0)
            var ext = cairo_text_extents_t()
            cairo_text_extents(cr, tile.caption, &ext)
            cairo_move_to(cr, Double(x0) + (Double(cellW) - ext.width) / 2, Double(y0 + cellH + 11))
            cairo_show_text(cr, tile.caption)
        }
        cairo_surface_flush(surface)
        let status = cairo_surface_write_to_png(surface, path)
        guard status == CAIRO_STATUS_SUCCESS else {
            throw DatasetError.unreadable(file: path, reason: "cannot write PNG: \(String(cString: cairo_status_to_string(status)))")
        }
    }
}
