#if canImport(Glibc)
import Glibc
#else
import Foundation
#endif

/// The RandAugment image operations on HWC bytes, with the semantics of the official
/// TensorFlow implementation (google-research/noisystudent `randaugment.py`, itself the TPU
/// EfficientNet `autoaugment.py`): uint8 arithmetic, truncating casts, per-channel
/// histograms, nearest-neighbour geometry with a grey (128) fill.
///
/// Every function works in place on `img` (height x width x channels) and uses `tmp` (same
/// size) as scratch where it needs a copy. Greyscale images (channels == 1) are supported:
/// colour ops then have nothing to desaturate.
public enum PixelOps {
    /// One image's HWC bytes, modified in place.
    public typealias Buffer = UnsafeMutableBufferPointer<UInt8>

    /// TF `blend`: image1 + factor * (image2 - image1); interpolation truncates, extrapolation
    /// clips first. Factor 0 is image1, factor 1 is image2 (exactly, as the official code).
    @inline(__always)
    static func blend(_ a: UInt8, _ b: UInt8, _ factor: Float) -> UInt8 {
        let t = Float(a) + factor * (Float(b) - Float(a))
        if factor > 0 && factor < 1 { return UInt8(t) }
        return UInt8(min(255, max(0, t)))
    }

    /// Writes blend(degenerate, img, factor) into img.
    static func blendInto(_ img: Buffer, degenerate: Buffer, factor: Float) {
        if factor == 1 { return }
        if factor == 0 { for i in 0..<img.count { img[i] = degenerate[i] }; return }
        for i in 0..<img.count { img[i] = blend(degenerate[i], img[i], factor) }
    }

    /// TF rgb_to_grayscale (0.2989, 0.5870, 0.1140 on [0,1] floats; back to bytes by x * 255.5, truncated).
    @inline(__always)
    static func grey(_ r: UInt8, _ g: UInt8, _ b: UInt8) -> UInt8 {
        let y = (0.2989 * Float(r) + 0.5870 * Float(g) + 0.1140 * Float(b)) / 255
        return UInt8(min(255, max(0, y * 255.5)))
    }

    /// 255 - x for every byte (TF `invert`).
    public static func invert(_ img: Buffer) {
        for i in 0..<img.count { img[i] = 255 - img[i] }
    }

    /// Keeps the top `bits` bits of every byte (0 bits: black; 8: identity).
    public static func posterize(_ img: Buffer, bits: Int) {
        let shift = UInt8(8 - min(8, max(0, bits)))
        for i in 0..<img.count { img[i] = (img[i] >> shift) << shift }
    }

    /// Inverts pixels at or above `threshold` (threshold 0 inverts everything, above 255 nothing).
    public static func solarize(_ img: Buffer, threshold: Int) {
        for i in 0..<img.count where Int(img[i]) >= threshold { img[i] = 255 - img[i] }
    }

    /// Adds `addition` (clipped) to pixels below `threshold`.
    public static func solarizeAdd(_ img: Buffer, addition: Int, threshold: Int = 128) {
        for i in 0..<img.count where Int(img[i]) < threshold {
            img[i] = UInt8(min(255, max(0, Int(img[i]) + addition)))
        }
    }

    /// Per-channel stretch of [min, max] to [0, 255].
    public static func autoContrast(_ img: Buffer, channels: Int) {
        for c in 0..<channels {
            var lo: UInt8 = 255, hi: UInt8 = 0
            var i = c
            while i < img.count { lo = min(lo, img[i]); hi = max(hi, img[i]); i += channels }
            guard hi > lo else { continue }
            let scale = 255 / (Float(hi) - Float(lo)), offset = -Float(lo) * scale
            i = c
            while i < img.count { img[i] = UInt8(min(255, max(0, Float(img[i]) * scale + offset))); i += channels }
        }
    }

    /// Per-channel histogram equalisation, PIL's rule as the official code writes it.
    public static func equalize(_ img: Buffer, channels: Int) {
        for c in 0..<channels {
            var histo = [Int](repeating: 0, count: 256)
            var i = c
            while i < img.count { histo[Int(img[i])] += 1; i += channels }
            guard let lastNonzero = histo.lastIndex(where: { $0 != 0 }) else { continue }
            let step = (histo.reduce(0, +) - histo[lastNonzero]) / 255
            guard step > 0 else { continue }
            var lut = [UInt8](repeating: 0, count: 256)
            var cum = 0
            for v in 0..<256 {
                // lut is shifted by one: lut[v] uses the cumulative count below v.
                lut[v] = UInt8(min(255, max(0, (cum + step / 2) / step)))
                cum += histo[v]
            }
            i = c
            while i < img.count { img[i] = lut[Int(img[i])]; i += channels }
        }
    }

    /// PIL Color: blend with the greyscale image.
    public static func color(_ img: Buffer, tmp: Buffer, channels: Int, factor: Float) {
        guard channels == 3 else { return }
        var i = 0
        while i + 2 < img.count {
            let y = grey(img[i], img[i + 1], img[i + 2])
            tmp[i] = y; tmp[i + 1] = y; tmp[i + 2] = y
            i += 3
        }
        blendInto(img, degenerate: tmp, factor: factor)
    }

    /// The official "Contrast": blend with a constant grey whose value is, as written in the
    /// official code, sum(histogram) / 256 = pixel count / 256 (4 for 32x32), not the mean
    /// intensity PIL uses. Reproduced on purpose: it is what the published models saw.
    public static func contrast(_ img: Buffer, tmp: Buffer, height: Int, width: Int, factor: Float) {
        let mean = min(255, max(0, Float(height * width) / 256))
        let m = UInt8(mean)
        for i in 0..<img.count { tmp[i] = m }
        blendInto(img, degenerate: tmp, factor: factor)
    }

    /// PIL Brightness: blend with black.
    public static func brightness(_ img: Buffer, tmp: Buffer, factor: Float) {
        for i in 0..<img.count { tmp[i] = 0 }
        blendInto(img, degenerate: tmp, factor: factor)
    }

    /// PIL Sharpness: blend with a 3x3 smoothed image (border pixels stay original).
    public static func sharpness(_ img: Buffer, tmp: Buffer, height h: Int, width w: Int, channels c: Int, factor: Float) {
        for i in 0..<img.count { tmp[i] = img[i] }
        if h >= 3 && w >= 3 {
            for y in 1..<(h - 1) {
                for x in 1..<(w - 1) {
                    for ch in 0..<c {
                        var s: Float = 0
                        for dy in -1...1 {
                            for dx in -1...1 {
                                s += Float(img[((y + dy) * w + x + dx) * c + ch])
                            }
                        }
                        s += 4 * Float(img[(y * w + x) * c + ch])  // centre weight 5 = 1 + 4
                        tmp[(y * w + x) * c + ch] = UInt8(min(255, max(0, s / 13)))
                    }
                }
            }
        }
        blendInto(img, degenerate: tmp, factor: factor)
    }

    /// Affine resampling with nearest neighbour: output (x, y) reads input
    /// (a0 x + a1 y + a2, b0 x + b1 y + b2); outside the image the pixel becomes `fill`
    /// (TF's ImageProjectiveTransform plus the official wrap/unwrap grey fill).
    static func warp(_ img: Buffer, tmp: Buffer, height h: Int, width w: Int, channels c: Int,
                            a: (Float, Float, Float), b: (Float, Float, Float), fill: UInt8) {
        for i in 0..<img.count { tmp[i] = img[i] }
        for y in 0..<h {
            for x in 0..<w {
                let fx = a.0 * Float(x) + a.1 * Float(y) + a.2
                let fy = b.0 * Float(x) + b.1 * Float(y) + b.2
                let sx = Int(fx.rounded()), sy = Int(fy.rounded())
                let o = (y * w + x) * c
                if sx >= 0 && sx < w && sy >= 0 && sy < h {
                    let s = (sy * w + sx) * c
                    for ch in 0..<c { img[o + ch] = tmp[s + ch] }
                } else {
                    for ch in 0..<c { img[o + ch] = fill }
                }
            }
        }
    }

    /// Counter-clockwise rotation about the image centre (TF contrib `rotate`).
    public static func rotate(_ img: Buffer, tmp: Buffer, height h: Int, width w: Int, channels c: Int, degrees: Float, fill: UInt8) {
        if degrees == 0 { return }
        let r = degrees * .pi / 180
        let cs = cosf(r), sn = sinf(r)
        let xo = (Float(w - 1) - (cs * Float(w - 1) - sn * Float(h - 1))) / 2
        let yo = (Float(h - 1) - (sn * Float(w - 1) + cs * Float(h - 1))) / 2
        warp(img, tmp: tmp, height: h, width: w, channels: c, a: (cs, -sn, xo), b: (sn, cs, yo), fill: fill)
    }

    /// Horizontal shear: output (x, y) reads input (x + level * y, y), nearest neighbour, `fill` outside
    /// (TF `shear_x`'s transform [1, level, 0, 0, 1, 0]).
    public static func shearX(_ img: Buffer, tmp: Buffer, height h: Int, width w: Int, channels c: Int, level: Float, fill: UInt8) {
        if level == 0 { return }
        warp(img, tmp: tmp, height: h, width: w, channels: c, a: (1, level, 0), b: (0, 1, 0), fill: fill)
    }

    /// Vertical shear: output (x, y) reads input (x, level * x + y), nearest neighbour, `fill` outside
    /// (TF `shear_y`).
    public static func shearY(_ img: Buffer, tmp: Buffer, height h: Int, width w: Int, channels c: Int, level: Float, fill: UInt8) {
        if level == 0 { return }
        warp(img, tmp: tmp, height: h, width: w, channels: c, a: (1, 0, 0), b: (level, 1, 0), fill: fill)
    }

    /// Output x reads input x + pixels (the official translate_x passes -pixels to TF translate).
    public static func translateX(_ img: Buffer, tmp: Buffer, height h: Int, width w: Int, channels c: Int, pixels: Float, fill: UInt8) {
        if pixels == 0 { return }
        warp(img, tmp: tmp, height: h, width: w, channels: c, a: (1, 0, pixels), b: (0, 1, 0), fill: fill)
    }

    /// Output y reads input y + pixels (as `translateX`, vertically).
    public static func translateY(_ img: Buffer, tmp: Buffer, height h: Int, width w: Int, channels c: Int, pixels: Float, fill: UInt8) {
        if pixels == 0 { return }
        warp(img, tmp: tmp, height: h, width: w, channels: c, a: (1, 0, 0), b: (0, 1, pixels), fill: fill)
    }

    /// Fills the square [cy - pad, cy + pad) x [cx - pad, cx + pad), clipped to the image.
    public static func cutout(_ img: Buffer, height h: Int, width w: Int, channels c: Int,
                              centerY cy: Int, centerX cx: Int, pad: Int, fill: UInt8) {
        guard pad > 0 else { return }
        let y0 = max(0, cy - pad), y1 = min(h, cy + pad)
        let x0 = max(0, cx - pad), x1 = min(w, cx + pad)
        guard y0 < y1 && x0 < x1 else { return }
        for y in y0..<y1 {
            for x in x0..<x1 {
                let o = (y * w + x) * c
                for ch in 0..<c { img[o + ch] = fill }
            }
        }
    }

    /// Reflect-pads by `pad` (mirror without repeating the edge, as tf.pad REFLECT) and crops
    /// the window at (offsetY, offsetX) of the padded image, offsets in 0...2 pad.
    public static func padCrop(_ img: Buffer, tmp: Buffer, height h: Int, width w: Int, channels c: Int,
                               pad: Int, offsetY: Int, offsetX: Int) {
        if offsetY == pad && offsetX == pad { return }
        for i in 0..<img.count { tmp[i] = img[i] }
        @inline(__always) func reflect(_ p: Int, _ n: Int) -> Int {
            var q = p
            if q < 0 { q = -q }
            if q >= n { q = 2 * (n - 1) - q }
            return min(n - 1, max(0, q))
        }
        for y in 0..<h {
            let sy = reflect(y + offsetY - pad, h)
            for x in 0..<w {
                let sx = reflect(x + offsetX - pad, w)
                let o = (y * w + x) * c, s = (sy * w + sx) * c
                for ch in 0..<c { img[o + ch] = tmp[s + ch] }
            }
        }
    }
}
