import CCairo
import Foundation

/// What every chart type implements: draw on a canvas of `size` points and describe what went
/// where. SVG, PNG, pixels and layout all come from this one function, so they cannot disagree.
protocol Drawable: Sendable {
    var size: FigureSize { get }
    func draw(on canvas: Canvas) throws -> FigureLayout
}

/// A figure that can also describe its layout and hand back its pixels: the hooks tests (and
/// curious callers) use to check that labels do not collide and legends do not cover data.
public protocol ChartFigure: Figure {
    func layout() throws -> FigureLayout
    func raster(scale: Double) throws -> Raster
}

extension ChartFigure {
    public func raster() throws -> Raster { try raster(scale: 2) }
}

extension Drawable {
    public func svg() throws -> Data {
        let sink = ByteSink()
        let box = Unmanaged.passRetained(sink)
        defer { box.release() }
        guard let surface = cairo_svg_surface_create_for_stream(
            { closure, bytes, length in
                guard let closure, let bytes else { return CAIRO_STATUS_WRITE_ERROR }
                Unmanaged<ByteSink>.fromOpaque(closure).takeUnretainedValue()
                    .data.append(bytes, count: Int(length))
                return CAIRO_STATUS_SUCCESS
            }, box.toOpaque(), size.width, size.height)
        else { throw ChartError.cairo("cannot create SVG surface") }
        // Pixels, not points: FigureSize is in CSS pixels, and the weaver embeds the SVG at that size.
        cairo_svg_surface_set_document_unit(surface, CAIRO_SVG_UNIT_PX)
        try paint(on: surface)
        cairo_surface_finish(surface)
        let status = cairo_surface_status(surface)
        cairo_surface_destroy(surface)
        guard status == CAIRO_STATUS_SUCCESS else { throw ChartError.cairo(String(cString: cairo_status_to_string(status))) }
        return SVGNormalizer.normalize(sink.data)
    }

    public func png(scale: Double) throws -> Data {
        let surface = try imageSurface(scale: scale)
        defer { cairo_surface_destroy(surface) }
        let sink = ByteSink()
        let box = Unmanaged.passRetained(sink)
        defer { box.release() }
        let status = cairo_surface_write_to_png_stream(surface, { closure, bytes, length in
            guard let closure, let bytes else { return CAIRO_STATUS_WRITE_ERROR }
            Unmanaged<ByteSink>.fromOpaque(closure).takeUnretainedValue().data.append(bytes, count: Int(length))
            return CAIRO_STATUS_SUCCESS
        }, box.toOpaque())
        guard status == CAIRO_STATUS_SUCCESS else { throw ChartError.cairo(String(cString: cairo_status_to_string(status))) }
        return sink.data
    }

    public func raster(scale: Double) throws -> Raster {
        let surface = try imageSurface(scale: scale)
        defer { cairo_surface_destroy(surface) }
        return Raster(surface: surface)
    }

    /// The layout is computed by drawing on a throwaway recording surface: the same code path as
    /// real output, so what tests inspect is what readers see.
    public func layout() throws -> FigureLayout {
        guard let surface = cairo_recording_surface_create(CAIRO_CONTENT_COLOR_ALPHA, nil) else {
            throw ChartError.cairo("cannot create recording surface")
        }
        defer { cairo_surface_destroy(surface) }
        guard let cr = cairo_create(surface) else { throw ChartError.cairo("cannot create context") }
        defer { cairo_destroy(cr) }
        return try draw(on: Canvas(cr))
    }

    private func imageSurface(scale: Double) throws -> OpaquePointer {
        guard scale > 0, scale.isFinite else { throw ChartError.invalidSize("PNG scale must be positive, got \(scale)") }
        let w = Int32((size.width * scale).rounded()), h = Int32((size.height * scale).rounded())
        guard w > 0, h > 0, w <= 16384, h <= 16384 else {
            throw ChartError.invalidSize("image of \(w)x\(h) pixels")
        }
        guard let surface = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, w, h) else {
            throw ChartError.cairo("cannot create image surface")
        }
        do {
            try paint(on: surface, scale: scale)
        } catch {
            cairo_surface_destroy(surface)
            throw error
        }
        cairo_surface_flush(surface)
        return surface
    }

    private func paint(on surface: OpaquePointer, scale: Double = 1) throws {
        guard size.width > 0, size.height > 0, size.width.isFinite, size.height.isFinite else {
            throw ChartError.invalidSize("figure size \(size.width)x\(size.height)")
        }
        guard let cr = cairo_create(surface) else { throw ChartError.cairo("cannot create context") }
        defer { cairo_destroy(cr) }
        cairo_scale(cr, scale, scale)
        let canvas = Canvas(cr)
        // An opaque background: figures must read the same on a dark page.
        canvas.fill(Rect(x: 0, y: 0, width: size.width, height: size.height), Palette.background)
        _ = try draw(on: canvas)
        let status = cairo_status(cr)
        guard status == CAIRO_STATUS_SUCCESS else { throw ChartError.cairo(String(cString: cairo_status_to_string(status))) }
    }
}

/// Collects bytes from cairo's write callbacks; lives only for one render call.
private final class ByteSink {
    var data = Data()
}

extension Figure {
    /// PNG at 2 pixels per point: sharp on high-density screens at the figure's CSS size.
    public func png() throws -> Data { try png(scale: 2) }

    /// Writes the figure as SVG and/or PNG (2x), creating parent folders as needed.
    public func write(svgTo svgURL: URL? = nil, pngTo pngURL: URL? = nil, pngScale: Double = 2) throws {
        let fm = FileManager.default
        if let svgURL {
            try fm.createDirectory(at: svgURL.deletingLastPathComponent(), withIntermediateDirectories: true)
            try svg().write(to: svgURL, options: .atomic)
        }
        if let pngURL {
            try fm.createDirectory(at: pngURL.deletingLastPathComponent(), withIntermediateDirectories: true)
            try png(scale: pngScale).write(to: pngURL, options: .atomic)
        }
    }
}

/// Why a figure could not be drawn. Messages name the series and the mismatch, so a figure stage
/// in the report fails with something a reader can act on.
public enum ChartError: Error, Equatable, CustomStringConvertible {
    case mismatchedLengths(String)
    case emptyData(String)
    case invalidValue(String)
    case invalidSize(String)
    case cairo(String)

    public var description: String {
        switch self {
        case .mismatchedLengths(let m): return "mismatched lengths: \(m)"
        case .emptyData(let m): return "no data: \(m)"
        case .invalidValue(let m): return "invalid value: \(m)"
        case .invalidSize(let m): return "invalid size: \(m)"
        case .cairo(let m): return "cairo: \(m)"
        }
    }
}
