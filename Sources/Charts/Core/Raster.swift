import CCairo
import Foundation

/// Pixels of a rendered figure, row-major from the top-left, as 8-bit RGBA (straight alpha).
public struct Raster: Sendable, Equatable {
    /// Width in pixels.
    public let width: Int
    /// Height in pixels.
    public let height: Int
    /// RGBA, 4 bytes per pixel.
    public let rgba: [UInt8]

    init(surface: OpaquePointer) {
        let w = Int(cairo_image_surface_get_width(surface))
        let h = Int(cairo_image_surface_get_height(surface))
        let stride = Int(cairo_image_surface_get_stride(surface))
        var out = [UInt8](repeating: 0, count: w * h * 4)
        if let base = cairo_image_surface_get_data(surface) {
            for y in 0..<h {
                for x in 0..<w {
                    // ARGB32 is a native-endian 32-bit word with premultiplied alpha.
                    let word = base.advanced(by: y * stride + x * 4).withMemoryRebound(to: UInt32.self, capacity: 1) { $0.pointee }
                    let a = UInt32(word >> 24)
                    func un(_ c: UInt32) -> UInt8 { a == 0 ? 0 : UInt8(min(255, (c * 255 + a / 2) / a)) }
                    let i = (y * w + x) * 4
                    out[i] = un((word >> 16) & 0xFF)
                    out[i + 1] = un((word >> 8) & 0xFF)
                    out[i + 2] = un(word & 0xFF)
                    out[i + 3] = UInt8(a)
                }
            }
        }
        width = w; height = h; rgba = out
    }

    /// Decodes PNG bytes (as written by `png(scale:)`) with cairo's own reader, so tests can
    /// inspect the file a reader gets rather than an intermediate surface.
    public init(png: Data) throws {
        final class Source { let bytes: [UInt8]; var offset = 0; init(_ d: Data) { bytes = [UInt8](d) } }
        let source = Source(png)
        let box = Unmanaged.passRetained(source)
        defer { box.release() }
        let surface = cairo_image_surface_create_from_png_stream({ closure, out, length in
            guard let closure, let out else { return CAIRO_STATUS_READ_ERROR }
            let src = Unmanaged<Source>.fromOpaque(closure).takeUnretainedValue()
            let n = Int(length)
            guard src.offset + n <= src.bytes.count else { return CAIRO_STATUS_READ_ERROR }
            src.bytes.withUnsafeBufferPointer { buf in
                if let base = buf.baseAddress { out.update(from: base + src.offset, count: n) }
            }
            src.offset += n
            return CAIRO_STATUS_SUCCESS
        }, box.toOpaque())
        guard let surface else { throw ChartError.cairo("cannot decode PNG") }
        defer { cairo_surface_destroy(surface) }
        let status = cairo_surface_status(surface)
        guard status == CAIRO_STATUS_SUCCESS else { throw ChartError.cairo(String(cString: cairo_status_to_string(status))) }
        self.init(surface: surface)
    }

    /// Wraps existing pixels; `rgba` must hold width x height x 4 bytes, row-major from the top-left.
    public init(width: Int, height: Int, rgba: [UInt8]) {
        self.width = width; self.height = height; self.rgba = rgba
    }

    /// The pixel at column `x`, row `y` (from the top-left); traps when outside the image.
    public func pixel(x: Int, y: Int) -> (r: UInt8, g: UInt8, b: UInt8, a: UInt8) {
        let i = (y * width + x) * 4
        return (rgba[i], rgba[i + 1], rgba[i + 2], rgba[i + 3])
    }

    /// How many pixels inside `rect` (in pixels) are within `tolerance` of `color` per channel.
    public func count(of color: Color, in rect: (x: Int, y: Int, width: Int, height: Int)? = nil, tolerance: Int = 2) -> Int {
        let target = color.rgb8
        let r = rect ?? (0, 0, width, height)
        let x0 = max(0, r.x), x1 = min(width, r.x + r.width)
        let y0 = max(0, r.y), y1 = min(height, r.y + r.height)
        guard x0 < x1, y0 < y1 else { return 0 }
        var n = 0
        for y in y0..<y1 {
            for x in x0..<x1 {
                let p = pixel(x: x, y: y)
                if abs(Int(p.r) - Int(target.r)) <= tolerance, abs(Int(p.g) - Int(target.g)) <= tolerance,
                   abs(Int(p.b) - Int(target.b)) <= tolerance, p.a == 255 { n += 1 }
            }
        }
        return n
    }
}
