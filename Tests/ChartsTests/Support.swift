import Foundation
import Testing
import Charts

/// Width and height from a PNG's IHDR chunk (bytes 16..23, big-endian): the file itself, not the
/// renderer's idea of it.
func pngDimensions(_ data: Data) -> (width: Int, height: Int)? {
    let bytes = [UInt8](data.prefix(24))
    guard bytes.count == 24, bytes[0] == 0x89, bytes[1] == 0x50, bytes[2] == 0x4E, bytes[3] == 0x47 else { return nil }
    func be(_ i: Int) -> Int { bytes[i..<i + 4].reduce(0) { $0 << 8 | Int($1) } }
    return (be(16), be(20))
}

/// Pairs of rectangles in `boxes` whose interiors overlap.
func overlappingPairs(_ boxes: [Rect]) -> [(Rect, Rect)] {
    var out: [(Rect, Rect)] = []
    for i in boxes.indices {
        for j in boxes.indices where j > i && boxes[i].intersects(boxes[j]) { out.append((boxes[i], boxes[j])) }
    }
    return out
}

/// A rectangle in figure points as a pixel rectangle at `scale`.
func pixels(_ r: Rect, scale: Double) -> (x: Int, y: Int, width: Int, height: Int) {
    (Int((r.minX * scale).rounded(.up)), Int((r.minY * scale).rounded(.up)),
     Int((r.width * scale).rounded(.down)), Int((r.height * scale).rounded(.down)))
}

/// True if every pixel of the outermost ring of the image is the white background: nothing was
/// drawn up to (and so, possibly, past) the canvas edge.
func borderIsBackground(_ raster: Raster, ring: Int = 2) -> Bool {
    for y in 0..<raster.height {
        for x in 0..<raster.width where x < ring || y < ring || x >= raster.width - ring || y >= raster.height - ring {
            let p = raster.pixel(x: x, y: y)
            if p.r != 255 || p.g != 255 || p.b != 255 || p.a != 255 { return false }
        }
    }
    return true
}

/// A simple RGB image filled with one colour.
func solidImage(_ r: UInt8, _ g: UInt8, _ b: UInt8, size: Int = 8, label: String = "") -> RGBImage {
    RGBImage(width: size, height: size, pixels: (0..<size * size).flatMap { _ in [r, g, b] }, label: label)
}
