import CPNG
import Foundation

/// PNG files through libpng's simplified API: every colour type (grey, grey+alpha, RGB, RGBA,
/// palette), 1-16 bits, interlaced or not, decoded to 8-bit RGB (16-bit samples scaled, taken as sRGB).
/// Alpha is composited onto black. The stored sample values are the pixels: colour-space chunks
/// (gAMA, sRGB, cHRM, iCCP, cICP) are ignored, as PIL and the data loaders of the field do.
public enum PNGDecoder {
    /// The largest image decoded by default, in pixels: PIL's `Image.MAX_IMAGE_PIXELS`
    /// (89,478,485). Decoding costs about 20 bytes per pixel per thread, so a 33 KB file of
    /// 16384x16384 pixels would take 5 GB; larger images are refused before any allocation.
    public static let defaultMaxPixels = 89_478_485
    /// The longest side decoded, in pixels, whatever `maxPixels` allows.
    public static let maximumSide = 1 << 16

    /// A decoded image: 8-bit RGB (alpha composited onto black, palettes and grey expanded).
    public struct Image: Sendable, Equatable {
        /// Width in pixels.
        public var width: Int
        /// Height in pixels.
        public var height: Int
        /// height x width x 3 bytes, RGB.
        public var pixels: [UInt8]
    }

    /// Decodes a PNG file with libpng (16-bit channels scaled to 8 bits, alpha composited onto black).
    /// - Throws: `DatasetError` naming the file: unreadable, not a PNG, over `maxPixels`, or damaged.
    public static func decodeRGB(path: String, maxPixels: Int = defaultMaxPixels) throws -> Image {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DatasetError.unreadable(file: path, reason: FileManager.default.fileExists(atPath: path) ? "permission denied" : "no such file")
        }
        return try decodeRGB(data, file: path, maxPixels: maxPixels)
    }

    /// Decodes PNG bytes to RGB.
    /// - Throws: `DatasetError` naming `file`: libpng's reason, or an image above `maxPixels`.
    public static func decodeRGB(_ data: Data, file: String, maxPixels: Int = defaultMaxPixels) throws -> Image {
        let data = PNGChunks.withoutColourSpace(data)
        var image = png_image()
        image.version = png_uint_32(PNG_IMAGE_VERSION)
        let began = data.withUnsafeBytes { raw -> Int32 in
            guard let base = raw.baseAddress else { return 0 }
            return png_image_begin_read_from_memory(&image, base, raw.count)
        }
        guard began != 0 else { throw DatasetError.malformed(file: file, detail: "libpng: \(message(&image))") }
        // 16-bit files: ask for 16-bit output, which libpng leaves as stored when there is no
        // gAMA chunk, and scale to 8 bits here. (libpng 1.6.39 mis-orders the rows of 16-bit
        // interlaced images when it converts them to 8-bit sRGB itself.) Colour comes back
        // premultiplied by alpha, which is exactly compositing onto black.
        let sixteen = image.format & png_uint_32(PNG_FORMAT_FLAG_LINEAR) != 0
        image.format = png_uint_32(PNG_FORMAT_FLAG_COLOR | PNG_FORMAT_FLAG_ALPHA) | (sixteen ? png_uint_32(PNG_FORMAT_FLAG_LINEAR) : 0)
        let w = Int(image.width), h = Int(image.height)
        // Two limits, each named when hit: the decoder's own bound on a side (whatever
        // --max-image-pixels says) and the caller's bound on the pixel count.
        guard w > 0, h > 0, w <= Self.maximumSide, h <= Self.maximumSide else {
            png_image_free(&image)
            throw DatasetError.unsupportedFormat(file: file, reason: "\(w)x\(h): a side above \(Self.maximumSide) pixels is not supported")
        }
        guard w * h <= maxPixels else {
            png_image_free(&image)
            throw DatasetError.unsupportedFormat(file: file, reason: "\(w)x\(h) = \(w * h) pixels is above the limit of \(maxPixels) "
                                                 + "(a decompression bomb? raise it with --max-image-pixels)")
        }
        var pixels = [UInt8](repeating: 0, count: w * h * 3)
        var finished: Int32 = 0
        if sixteen {
            var rgba = [UInt16](repeating: 0, count: w * h * 4)
            finished = rgba.withUnsafeMutableBytes { png_image_finish_read(&image, nil, $0.baseAddress, png_int_32(w * 4), nil) }
            for i in 0..<(w * h) { for k in 0..<3 { pixels[3 * i + k] = UInt8((UInt32(rgba[4 * i + k]) * 255 + 32767) / 65535) } }
        } else {
            var rgba = [UInt8](repeating: 0, count: w * h * 4)
            finished = rgba.withUnsafeMutableBytes { png_image_finish_read(&image, nil, $0.baseAddress, png_int_32(w * 4), nil) }
            // Onto black: c * alpha (exact for opaque and fully transparent pixels).
            for i in 0..<(w * h) {
                let a = UInt32(rgba[4 * i + 3])
                for k in 0..<3 { pixels[3 * i + k] = UInt8((UInt32(rgba[4 * i + k]) * a + 127) / 255) }
            }
        }
        guard finished != 0 else {
            let reason = message(&image)
            png_image_free(&image)
            throw DatasetError.malformed(file: file, detail: "libpng: \(reason)")
        }
        return Image(width: w, height: h, pixels: pixels)
    }

    private static func message(_ image: inout png_image) -> String {
        withUnsafeBytes(of: &image.message) { raw in
            let bytes = raw.prefix { $0 != 0 }
            return String(decoding: bytes, as: UTF8.self)
        }
    }
}

/// Fitting an image to the model's input size.
public enum ImageFit: String, Sendable, Codable, CaseIterable {
    /// Resize the whole image (aspect ratio not kept): area averaging when shrinking, bilinear
    /// interpolation when enlarging, per axis.
    case resize
    /// Centre-crop the largest square, then resize it.
    case crop

    /// `img` fitted to `width` x `height`: height x width x 3 RGB bytes.
    public func apply(_ img: PNGDecoder.Image, width: Int, height: Int) -> [UInt8] {
        var src = img
        if self == .crop && img.width != img.height {
            let side = min(img.width, img.height)
            let x0 = (img.width - side) / 2, y0 = (img.height - side) / 2
            var out = [UInt8](repeating: 0, count: side * side * 3)
            for y in 0..<side {
                let s = ((y0 + y) * img.width + x0) * 3
                out.replaceSubrange((y * side * 3)..<((y + 1) * side * 3), with: img.pixels[s..<(s + side * 3)])
            }
            src = PNGDecoder.Image(width: side, height: side, pixels: out)
        }
        if src.width == width && src.height == height { return src.pixels }
        // Separable: horizontal pass into floats, then vertical.
        let horizontal = Self.resample(src.pixels.map(Float.init), count: src.height, from: src.width, to: width, stride: 3, rowLength: src.width * 3)
        let transposed = Self.transpose(horizontal, rows: src.height, cols: width)
        let vertical = Self.resample(transposed, count: width, from: src.height, to: height, stride: 3, rowLength: src.height * 3)
        let back = Self.transpose(vertical, rows: width, cols: height)
        return back.map { UInt8(max(0, min(255, $0.rounded()))) }
    }

    /// Resamples `count` rows of `from` RGB pixels to `to` pixels.
    static func resample(_ v: [Float], count: Int, from n: Int, to m: Int, stride c: Int, rowLength: Int) -> [Float] {
        var out = [Float](repeating: 0, count: count * m * c)
        let scale = Float(n) / Float(m)
        for r in 0..<count {
            let row = r * rowLength
            for j in 0..<m {
                if m < n {  // shrink: average the source interval [j*scale, (j+1)*scale)
                    let a = Float(j) * scale, b = Float(j + 1) * scale
                    var acc = [Float](repeating: 0, count: c)
                    var i = Int(a)
                    while Float(i) < b && i < n {
                        let w = min(b, Float(i + 1)) - max(a, Float(i))
                        for k in 0..<c { acc[k] += w * v[row + i * c + k] }
                        i += 1
                    }
                    for k in 0..<c { out[(r * m + j) * c + k] = acc[k] / scale }
                } else {    // enlarge: bilinear between pixel centres
                    let x = max(0, min(Float(n - 1), (Float(j) + 0.5) * scale - 0.5))
                    let i0 = Int(x), i1 = min(n - 1, i0 + 1), t = x - Float(i0)
                    for k in 0..<c { out[(r * m + j) * c + k] = v[row + i0 * c + k] * (1 - t) + v[row + i1 * c + k] * t }
                }
            }
        }
        return out
    }

    /// Swaps the two pixel axes of an RGB image stored as rows x cols x 3.
    static func transpose(_ v: [Float], rows: Int, cols: Int) -> [Float] {
        var out = [Float](repeating: 0, count: v.count)
        for r in 0..<rows { for c in 0..<cols { for k in 0..<3 { out[(c * rows + r) * 3 + k] = v[(r * cols + c) * 3 + k] } } }
        return out
    }
}
