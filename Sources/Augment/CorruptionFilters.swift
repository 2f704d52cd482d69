import Randomness
#if canImport(Glibc)
import Glibc
#else
import Foundation
#endif

/// A Float image in [0, 1] (usually), HWC, for the corruption helpers below. Each helper
/// mirrors the library routine CIFAR-10-C's `make_cifar_c.py` calls (skimage, OpenCV, SciPy,
/// PIL, ImageMagick), so the severities mean what they mean there.
struct FloatImage {
    var h: Int, w: Int, c: Int
    var v: [Float]

    init(h: Int, w: Int, c: Int, v: [Float]) { self.h = h; self.w = w; self.c = c; self.v = v }
    init(h: Int, w: Int, c: Int, fill: Float = 0) { self.init(h: h, w: w, c: c, v: [Float](repeating: fill, count: h * w * c)) }
    init(bytes: [UInt8], h: Int, w: Int, c: Int) { self.init(h: h, w: w, c: c, v: bytes.map { Float($0) / 255 }) }

    @inline(__always) subscript(y: Int, x: Int, ch: Int) -> Float {
        get { v[(y * w + x) * c + ch] }
        set { v[(y * w + x) * c + ch] = newValue }
    }

    /// np.uint8(clip(x, 0, 1) * 255): truncation, as make_cifar_c's final cast.
    func bytesTruncated() -> [UInt8] { v.map { UInt8(min(1, max(0, $0)) * 255) } }
    func bytesRounded() -> [UInt8] { v.map { UInt8((min(1, max(0, $0)) * 255).rounded()) } }
}

enum Border { case nearest, reflect101, symmetric }

@inline(__always) func borderIndex(_ p: Int, _ n: Int, _ mode: Border) -> Int {
    if n == 1 { return 0 }
    var q = p
    switch mode {
    case .nearest: return min(n - 1, max(0, q))
    case .reflect101:  // gfedcb|abcdefgh|gfedcba (OpenCV default)
        let period = 2 * (n - 1)
        q = ((q % period) + period) % period
        return q < n ? q : period - q
    case .symmetric:   // dcba|abcd|dcba (SciPy "reflect", skimage "reflect")
        let period = 2 * n
        q = ((q % period) + period) % period
        return q < n ? q : period - 1 - q
    }
}

enum Filters {
    /// SciPy/skimage Gaussian: separable, radius int(truncate * sigma + 0.5), per channel.
    static func gaussian(_ img: FloatImage, sigma: Float, truncate: Float = 4, border: Border = .nearest) -> FloatImage {
        guard sigma > 0 else { return img }
        let r = Int(truncate * sigma + 0.5)
        var k = (-r...r).map { expf(-0.5 * Float($0 * $0) / (sigma * sigma)) }
        let s = k.reduce(0, +)
        for i in k.indices { k[i] /= s }
        return separable(img, kernel: k, border: border)
    }

    static func separable(_ img: FloatImage, kernel k: [Float], border: Border) -> FloatImage {
        let r = k.count / 2
        var tmp = FloatImage(h: img.h, w: img.w, c: img.c)
        for y in 0..<img.h { for x in 0..<img.w { for ch in 0..<img.c {
            var a: Float = 0
            for i in -r...r { a += k[i + r] * img[y, borderIndex(x + i, img.w, border), ch] }
            tmp[y, x, ch] = a
        } } }
        var out = FloatImage(h: img.h, w: img.w, c: img.c)
        for y in 0..<img.h { for x in 0..<img.w { for ch in 0..<img.c {
            var a: Float = 0
            for i in -r...r { a += k[i + r] * tmp[borderIndex(y + i, img.h, border), x, ch] }
            out[y, x, ch] = a
        } } }
        return out
    }

    /// OpenCV filter2D (correlation, BORDER_REFLECT_101), per channel.
    static func filter2D(_ img: FloatImage, kernel: [[Float]]) -> FloatImage {
        let kh = kernel.count, kw = kernel[0].count
        let ay = kh / 2, ax = kw / 2
        var out = FloatImage(h: img.h, w: img.w, c: img.c)
        for y in 0..<img.h { for x in 0..<img.w { for ch in 0..<img.c {
            var a: Float = 0
            for i in 0..<kh { for j in 0..<kw where kernel[i][j] != 0 {
                a += kernel[i][j] * img[borderIndex(y + i - ay, img.h, .reflect101), borderIndex(x + j - ax, img.w, .reflect101), ch]
            } }
            out[y, x, ch] = a
        } } }
        return out
    }

    /// make_cifar_c's `disk`: an aliased disk of `radius` on a 17x17 grid (larger when the
    /// radius exceeds 8), normalised, then smoothed by cv2.GaussianBlur with a 3x3 (5x5) kernel.
    static func disk(radius: Float, aliasBlur: Float) -> [[Float]] {
        let half = radius <= 8 ? 8 : Int(radius)
        let ksize = radius <= 8 ? 3 : 5
        let n = 2 * half + 1
        var d = FloatImage(h: n, w: n, c: 1)
        var total: Float = 0
        for y in 0..<n { for x in 0..<n {
            let X = Float(x - half), Y = Float(y - half)
            if X * X + Y * Y <= radius * radius { d[y, x, 0] = 1; total += 1 }
        } }
        for i in d.v.indices { d.v[i] /= total }
        // cv2.getGaussianKernel(ksize, sigma) applied separably with BORDER_REFLECT_101.
        let r = ksize / 2
        var g = (-r...r).map { expf(-Float($0 * $0) / (2 * aliasBlur * aliasBlur)) }
        let s = g.reduce(0, +)
        for i in g.indices { g[i] /= s }
        let blurred = separable(d, kernel: g, border: .reflect101)
        return (0..<n).map { y in (0..<n).map { x in blurred[y, x, 0] } }
    }

    /// Motion blur along `angle` degrees with a one-sided Gaussian kernel of 2*radius+1 taps
    /// (ImageMagick's MotionBlurImage as re-implemented in NumPy by the `imagecorruptions`
    /// package; edges replicate).
    static func motionBlur(_ img: FloatImage, radius: Int, sigma: Float, angle: Float) -> FloatImage {
        let width = 2 * radius + 1
        var k = (0..<width).map { i in expf(-Float(i * i) / (2 * sigma * sigma)) }
        let s = k.reduce(0, +)
        for i in k.indices { k[i] /= s }
        let a = angle * .pi / 180
        let py = Float(width) * sinf(a), px = Float(width) * cosf(a)
        let hyp = (px * px + py * py).squareRoot()
        var out = FloatImage(h: img.h, w: img.w, c: img.c)
        for i in 0..<width {
            let dy = -Int(ceilf(Float(i) * py / hyp - 0.5))
            let dx = -Int(ceilf(Float(i) * px / hyp - 0.5))
            if abs(dy) >= img.h || abs(dx) >= img.w { break }
            // shifted(y, x) = img(y - dy, x - dx), edge-replicated.
            for y in 0..<img.h { for x in 0..<img.w { for ch in 0..<img.c {
                out[y, x, ch] += k[i] * img[min(img.h - 1, max(0, y - dy)), min(img.w - 1, max(0, x - dx)), ch]
            } } }
        }
        return out
    }

    /// SciPy's `ndimage.zoom` output size: `int(round(n * factor))` in double precision with
    /// Python's round, half to even (3 x 1.5 = 4.5 -> 4, not 5).
    static func zoomedSize(_ n: Int, factor: Double) -> Int {
        Int((Double(n) * factor).rounded(.toNearestOrEven))
    }

    /// SciPy ndimage.zoom(order=1) of a square image by `factor` (spatial axes only).
    static func zoom(_ img: FloatImage, factor: Double) -> FloatImage {
        let oh = zoomedSize(img.h, factor: factor), ow = zoomedSize(img.w, factor: factor)
        var out = FloatImage(h: oh, w: ow, c: img.c)
        let sy = oh > 1 ? Float(img.h - 1) / Float(oh - 1) : 0
        let sx = ow > 1 ? Float(img.w - 1) / Float(ow - 1) : 0
        for y in 0..<oh {
            let fy = Float(y) * sy
            let y0 = min(img.h - 1, Int(fy)), y1 = min(img.h - 1, y0 + 1), ty = fy - Float(y0)
            for x in 0..<ow {
                let fx = Float(x) * sx
                let x0 = min(img.w - 1, Int(fx)), x1 = min(img.w - 1, x0 + 1), tx = fx - Float(x0)
                for ch in 0..<img.c {
                    let top = img[y0, x0, ch] * (1 - tx) + img[y0, x1, ch] * tx
                    let bottom = img[y1, x0, ch] * (1 - tx) + img[y1, x1, ch] * tx
                    out[y, x, ch] = top * (1 - ty) + bottom * ty
                }
            }
        }
        return out
    }

    /// make_cifar_c's `clipped_zoom`: zoom the central crop and trim back to the original size.
    static func clippedZoom(_ img: FloatImage, factor: Double) -> FloatImage {
        let h = img.h
        let ch = Int((Double(h) / factor).rounded(.up))
        let top = (h - ch) / 2
        var crop = FloatImage(h: ch, w: ch, c: img.c)
        for y in 0..<ch { for x in 0..<ch { for c in 0..<img.c { crop[y, x, c] = img[top + y, min(img.w - 1, top + x), c] } } }
        let z = zoom(crop, factor: factor)
        let trim = max(0, (z.h - h) / 2)
        var out = FloatImage(h: h, w: img.w, c: img.c)
        for y in 0..<h { for x in 0..<img.w { for c in 0..<img.c {
            out[y, x, c] = z[min(z.h - 1, trim + y), min(z.w - 1, trim + x), c]
        } } }
        return out
    }

    /// Diamond-square plasma (make_cifar_c's `plasma_fractal`), normalised to [0, 1].
    static func plasmaFractal(mapSize n: Int, wibbleDecay: Float, rng: inout SeededGenerator) -> [Float] {
        var m = [Float](repeating: 0, count: n * n)
        @inline(__always) func at(_ y: Int, _ x: Int) -> Float { m[((y % n + n) % n) * n + ((x % n + n) % n)] }
        var step = n
        var wibble: Float = 100
        while step >= 2 {
            let half = step / 2
            // Squares: centre = mean of four corners + noise.
            for y in stride(from: 0, to: n, by: step) {
                for x in stride(from: 0, to: n, by: step) {
                    let sum = at(y, x) + at(y + step, x) + at(y, x + step) + at(y + step, x + step)
                    m[(y + half) * n + x + half] = sum / 4 + wibble * rng.uniform(-wibble, wibble)
                }
            }
            // Diamonds: edge midpoints = mean of two corners and two centres + noise.
            for y in stride(from: 0, to: n, by: step) {
                for x in stride(from: 0, to: n, by: step) {
                    let top = at(y, x) + at(y, x + step) + at(y - half, x + half) + at(y + half, x + half)
                    m[y * n + x + half] = top / 4 + wibble * rng.uniform(-wibble, wibble)
                    let left = at(y, x) + at(y + step, x) + at(y + half, x - half) + at(y + half, x + half)
                    m[(y + half) * n + x] = left / 4 + wibble * rng.uniform(-wibble, wibble)
                }
            }
            step /= 2
            wibble /= wibbleDecay
        }
        let lo = m.min() ?? 0
        for i in m.indices { m[i] -= lo }
        let hi = max(m.max() ?? 1, 1e-12)
        return m.map { $0 / hi }
    }

    /// Pillow's `Image.resize(size, Image.BOX)` of an 8-bit image, to the byte (Pillow's
    /// `libImaging/Resample.c`): per axis, output pixel `o` averages, with equal weights, the
    /// input pixels whose centres lie in `(centre - s/2, centre + s/2]` around
    /// `centre = (o + 0.5) * s`, `s = in / out` (at least 1 pixel wide); the weights become
    /// 22-bit fixed point, the horizontal pass runs first and is rounded to bytes, then the
    /// vertical one. At an upscale exactly one input pixel is picked, the one NEAREST picks.
    static func pilBoxResize(_ bytes: [UInt8], h: Int, w: Int, c: Int, toH oh: Int, toW ow: Int) -> [UInt8] {
        let precision = 22  // Pillow's PRECISION_BITS: 32 - 8 - 2
        /// (first input index, fixed-point weights) per output pixel.
        func coefficients(_ inN: Int, _ outN: Int) -> [(Int, [Int32])] {
            let scale = Double(inN) / Double(outN), filterScale = max(scale, 1)
            let support = 0.5 * filterScale
            return (0..<outN).map { o in
                let centre = (Double(o) + 0.5) * scale
                let lo = max(0, Int(centre - support + 0.5)), hi = min(inN, Int(centre + support + 0.5))
                let k: [Double] = (lo..<hi).map { i in
                    let t = (Double(i) - centre + 0.5) / filterScale
                    return t > -0.5 && t <= 0.5 ? 1 : 0
                }
                let total = k.reduce(0, +)
                return (lo, k.map { Int32((total != 0 ? $0 / total : $0) * Double(1 << precision) + 0.5) })
            }
        }
        @inline(__always) func clip8(_ v: Int32) -> UInt8 { UInt8(min(255, max(0, v >> Int32(precision)))) }
        let half = Int32(1) << Int32(precision - 1)
        let cx = coefficients(w, ow), cy = coefficients(h, oh)
        var mid = [UInt8](repeating: 0, count: h * ow * c)
        for y in 0..<h { for x in 0..<ow { for ch in 0..<c {
            var acc = half
            for (j, k) in cx[x].1.enumerated() { acc += Int32(bytes[(y * w + cx[x].0 + j) * c + ch]) * k }
            mid[(y * ow + x) * c + ch] = clip8(acc)
        } } }
        var out = [UInt8](repeating: 0, count: oh * ow * c)
        for y in 0..<oh { for x in 0..<ow { for ch in 0..<c {
            var acc = half
            for (j, k) in cy[y].1.enumerated() { acc += Int32(mid[((cy[y].0 + j) * ow + x) * c + ch]) * k }
            out[(y * ow + x) * c + ch] = clip8(acc)
        } } }
        return out
    }

    /// Bilinear sample at (fy, fx) with a border rule (OpenCV remap / SciPy map_coordinates order 1).
    @inline(__always)
    static func bilinear(_ img: FloatImage, _ fy: Float, _ fx: Float, _ ch: Int, _ border: Border) -> Float {
        let y0f = floorf(fy), x0f = floorf(fx)
        let ty = fy - y0f, tx = fx - x0f
        let y0 = Int(y0f), x0 = Int(x0f)
        let ya = borderIndex(y0, img.h, border), yb = borderIndex(y0 + 1, img.h, border)
        let xa = borderIndex(x0, img.w, border), xb = borderIndex(x0 + 1, img.w, border)
        let top = img[ya, xa, ch] * (1 - tx) + img[ya, xb, ch] * tx
        let bottom = img[yb, xa, ch] * (1 - tx) + img[yb, xb, ch] * tx
        return top * (1 - ty) + bottom * ty
    }

    /// skimage rgb2hsv / hsv2rgb on one pixel.
    static func rgbToHSV(_ r: Float, _ g: Float, _ b: Float) -> (Float, Float, Float) {
        let mx = max(r, g, b), mn = min(r, g, b)
        let d = mx - mn
        let v = mx
        let s = mx > 0 ? d / mx : 0
        var h: Float = 0
        if d > 0 {
            if mx == r { h = (g - b) / d } else if mx == g { h = 2 + (b - r) / d } else { h = 4 + (r - g) / d }
            h = (h / 6).truncatingRemainder(dividingBy: 1)
            if h < 0 { h += 1 }
        }
        return (h, s, v)
    }

    static func hsvToRGB(_ h: Float, _ s: Float, _ v: Float) -> (Float, Float, Float) {
        let h6 = h * 6
        let i = Int(floorf(h6)) % 6
        let f = h6 - floorf(h6)
        let p = v * (1 - s), q = v * (1 - s * f), t = v * (1 - s * (1 - f))
        switch i {
        case 0: return (v, t, p)
        case 1: return (q, v, p)
        case 2: return (p, v, t)
        case 3: return (p, q, v)
        case 4: return (t, p, v)
        default: return (v, p, q)
        }
    }

    /// Poisson sample (Knuth for small means, PTRS (Hörmann 1993) otherwise).
    static func poisson(_ lambda: Float, _ rng: inout SeededGenerator) -> Float {
        if lambda <= 0 { return 0 }
        if lambda < 10 {
            let l = expf(-lambda)
            var k: Float = 0
            var p: Float = rng.uniform()
            while p > l { k += 1; p *= rng.uniform() }
            return k
        }
        let lam = Double(lambda)
        let slam = lam.squareRoot(), loglam = log(lam)
        let b = 0.931 + 2.53 * slam
        let a = -0.059 + 0.02483 * b
        let invalpha = 1.1239 + 1.1328 / (b - 3.4)
        let vr = 0.9277 - 3.6224 / (b - 2)
        while true {
            let u = Double(rng.uniform()) - 0.5
            let v = Double(rng.uniform())
            let us = 0.5 - abs(u)
            let k = floor((2 * a / us + b) * u + lam + 0.43)
            if us >= 0.07 && v <= vr { return Float(k) }
            if k < 0 || (us < 0.013 && v > us) { continue }
            if log(v) + log(invalpha) - log(a / (us * us) + b) <= -lam + k * loglam - lgamma(k + 1) { return Float(k) }
        }
    }
}
