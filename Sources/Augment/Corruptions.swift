import Datasets
import Dispatch
import Randomness
#if canImport(Glibc)
import Glibc
#else
import Foundation
#endif

/// Common corruptions as CIFAR-10-C defines them for 32x32 images (Hendrycks & Dietterich
/// 2019, `make_cifar_c.py`), at severities 1...5. Frost is left out (it needs photographs of
/// frost that we do not ship). Parameters are CIFAR-10-C's, listed per corruption below.
public enum Corruption: String, CaseIterable, Sendable, Codable {
    case gaussianNoise = "gaussian_noise", shotNoise = "shot_noise", impulseNoise = "impulse_noise"
    case defocusBlur = "defocus_blur", glassBlur = "glass_blur", motionBlur = "motion_blur", zoomBlur = "zoom_blur"
    case snow, fog, brightness, contrast
    case elasticTransform = "elastic_transform", pixelate, jpegCompression = "jpeg_compression"

    /// CIFAR-10-C's grouping (for reports).
    public var family: String {
        switch self {
        case .gaussianNoise, .shotNoise, .impulseNoise: return "noise"
        case .defocusBlur, .glassBlur, .motionBlur, .zoomBlur: return "blur"
        case .snow, .fog, .brightness: return "weather"
        case .contrast, .elasticTransform, .pixelate, .jpegCompression: return "digital"
        }
    }

    /// Corrupts one RGB image (HWC bytes). `rng` supplies all randomness.
    public func apply(_ image: [UInt8], height h: Int, width w: Int, severity: Int, rng: inout SeededGenerator) -> [UInt8] {
        precondition((1...5).contains(severity), "Corruption severity must be 1...5, got \(severity)")
        precondition(image.count == h * w * 3, "Corruptions are defined for RGB images (HWC, 3 channels)")
        let s = severity - 1
        var x = FloatImage(bytes: image, h: h, w: w, c: 3)
        switch self {
        case .gaussianNoise:
            let c: Float = [0.04, 0.06, 0.08, 0.09, 0.10][s]
            for i in x.v.indices { x.v[i] += c * rng.normal() }
            return x.bytesTruncated()

        case .shotNoise:
            let c: Float = [500, 250, 100, 75, 50][s]
            for i in x.v.indices { x.v[i] = Filters.poisson(x.v[i] * c, &rng) / c }
            return x.bytesTruncated()

        case .impulseNoise:
            // skimage random_noise(mode='s&p'): each value flips with probability `amount`,
            // to 1 or 0 with equal odds.
            let c: Float = [0.01, 0.02, 0.03, 0.05, 0.07][s]
            for i in x.v.indices where rng.uniform() < c { x.v[i] = rng.bernoulli(0.5) ? 1 : 0 }
            return x.bytesTruncated()

        case .defocusBlur:
            let c: [(Float, Float)] = [(0.3, 0.4), (0.4, 0.5), (0.5, 0.6), (1, 0.2), (1.5, 0.1)]
            return Filters.filter2D(x, kernel: Filters.disk(radius: c[s].0, aliasBlur: c[s].1)).bytesTruncated()

        case .glassBlur:
            // (sigma, max_delta, iterations): blur, shuffle pixels locally, blur again.
            let c: [(Float, Int, Int)] = [(0.05, 1, 1), (0.25, 1, 1), (0.4, 1, 1), (0.25, 1, 2), (0.4, 1, 2)]
            let (sigma, delta, iterations) = c[s]
            var b = FloatImage(bytes: Filters.gaussian(x, sigma: sigma).bytesTruncated(), h: h, w: w, c: 3)
            for _ in 0..<iterations {
                for yy in stride(from: h - delta, to: delta, by: -1) {
                    for xx in stride(from: w - delta, to: delta, by: -1) {
                        // np.random.randint(-delta, delta) excludes +delta: shifts are -1 or 0.
                        let dx = rng.int(below: 2 * delta) - delta, dy = rng.int(below: 2 * delta) - delta
                        let yp = yy + dy, xp = xx + dx
                        // make_cifar_c writes `x[h, w], x[h', w'] = x[h', w'], x[h, w]` on a NumPy
                        // array: the right side holds views, so after the first assignment both
                        // pixels hold the neighbour's value. The published data set therefore
                        // copies (not swaps) the neighbour into (h, w); we reproduce that.
                        for ch in 0..<3 { b[yy, xx, ch] = b[yp, xp, ch] }
                    }
                }
            }
            return Filters.gaussian(b, sigma: sigma).bytesTruncated()

        case .motionBlur:
            let c: [(Int, Float)] = [(6, 1), (6, 1.5), (6, 2), (8, 2), (9, 2.5)]
            let angle = rng.uniform(-45, 45)
            return Filters.motionBlur(x, radius: c[s].0, sigma: c[s].1, angle: angle).bytesRounded()

        case .zoomBlur:
            let factors = Self.zoomFactors(severity: severity)
            var out = FloatImage(h: h, w: w, c: 3)
            for f in factors {
                let z = Filters.clippedZoom(x, factor: f)
                for i in out.v.indices { out.v[i] += z.v[i] }
            }
            for i in x.v.indices { x.v[i] = (x.v[i] + out.v[i]) / Float(factors.count + 1) }
            return x.bytesTruncated()

        case .snow:
            // (loc, scale, zoom, threshold, blur radius, blur sigma, blend)
            let c: [(Float, Float, Float, Float, Int, Float, Float)] = [
                (0.1, 0.2, 1, 0.6, 8, 3, 0.95), (0.1, 0.2, 1, 0.5, 10, 4, 0.9), (0.15, 0.3, 1.75, 0.55, 10, 4, 0.9),
                (0.25, 0.3, 2.25, 0.6, 12, 6, 0.85), (0.3, 0.3, 1.25, 0.65, 14, 12, 0.8)]
            let p = c[s]
            var layer = FloatImage(h: h, w: w, c: 1)
            for i in layer.v.indices { layer.v[i] = p.0 + p.1 * rng.normal() }
            layer = Filters.clippedZoom(layer, factor: Double(p.2))
            for i in layer.v.indices where layer.v[i] < p.3 { layer.v[i] = 0 }
            // The layer goes through an 8-bit PNG before ImageMagick's motion blur, and back.
            layer = FloatImage(bytes: layer.bytesTruncated(), h: h, w: w, c: 1)
            layer = Filters.motionBlur(layer, radius: p.4, sigma: p.5, angle: rng.uniform(-135, -45))
            layer = FloatImage(bytes: layer.bytesRounded(), h: h, w: w, c: 1)
            for y in 0..<h { for xx in 0..<w {
                let grey = 0.299 * x[y, xx, 0] + 0.587 * x[y, xx, 1] + 0.114 * x[y, xx, 2]
                let flake = layer[y, xx, 0] + layer[h - 1 - y, w - 1 - xx, 0]  // layer + rot90(layer, 2)
                for ch in 0..<3 {
                    let v = x[y, xx, ch]
                    x[y, xx, ch] = p.6 * v + (1 - p.6) * max(v, grey * 1.5 + 0.5) + flake
                }
            } }
            return x.bytesTruncated()

        case .fog:
            let c: [(Float, Float)] = [(0.2, 3), (0.5, 3), (0.75, 2.5), (1, 2), (1.5, 1.75)]
            let maxVal = x.v.max() ?? 1
            var n = 1
            while n < max(h, w) { n *= 2 }
            let plasma = Filters.plasmaFractal(mapSize: max(n, 32), wibbleDecay: c[s].1, rng: &rng)
            let size = max(n, 32)
            for y in 0..<h { for xx in 0..<w { for ch in 0..<3 {
                x[y, xx, ch] = (x[y, xx, ch] + c[s].0 * plasma[y * size + xx]) * maxVal / (maxVal + c[s].0)
            } } }
            return x.bytesTruncated()

        case .brightness:
            let c: Float = [0.05, 0.1, 0.15, 0.2, 0.3][s]
            for y in 0..<h { for xx in 0..<w {
                let (hh, ss, vv) = Filters.rgbToHSV(x[y, xx, 0], x[y, xx, 1], x[y, xx, 2])
                let (r, g, b) = Filters.hsvToRGB(hh, ss, min(1, max(0, vv + c)))
                x[y, xx, 0] = r; x[y, xx, 1] = g; x[y, xx, 2] = b
            } }
            return x.bytesTruncated()

        case .contrast:
            let c: Float = [0.75, 0.5, 0.4, 0.3, 0.15][s]
            for ch in 0..<3 {
                var mean: Float = 0
                for y in 0..<h { for xx in 0..<w { mean += x[y, xx, ch] } }
                mean /= Float(h * w)
                for y in 0..<h { for xx in 0..<w { x[y, xx, ch] = (x[y, xx, ch] - mean) * c + mean } }
            }
            return x.bytesTruncated()

        case .elasticTransform:
            return Self.elastic(x, severity: s, rng: &rng).bytesTruncated()

        case .pixelate:
            // make_cifar_c: PIL BOX down to int(32c), then BOX back up (a BOX upscale picks the
            // pixel NEAREST picks), on the bytes, as Pillow does it.
            let c = [0.95, 0.9, 0.85, 0.75, 0.65][s]
            let sh = Int(Double(h) * c), sw = Int(Double(w) * c)
            let small = Filters.pilBoxResize(image, h: h, w: w, c: 3, toH: sh, toW: sw)
            return Filters.pilBoxResize(small, h: sh, w: sw, c: 3, toH: h, toW: w)

        case .jpegCompression:
            let q = [80, 65, 58, 50, 40][s]
            return JPEG.roundTrip(image, height: h, width: w, quality: q)
        }
    }

    /// make_cifar_c's `np.arange(1, maxZoom, 0.01)`: ceil((maxZoom - 1) / 0.01) factors, i.e. 7,
    /// 12, 16, 21, 26 (rounding includes the endpoint at severities 1-2), each as NumPy computes
    /// it: `1 + i * delta` with `delta = (1 + 0.01) - 1`, slightly above 0.01. The difference
    /// matters: 1.25 becomes 1.2500000000000002, and the 26-pixel crop it zooms then comes out
    /// 33 pixels wide (32.500000000000006 rounded), not 32 (32.5 rounded half to even).
    static func zoomFactors(severity: Int) -> [Double] {
        let maxZoom: Double = [1.06, 1.11, 1.16, 1.21, 1.26][severity - 1]
        let delta = (1 + 0.01) - 1.0
        return (0..<Int(((maxZoom - 1) / 0.01).rounded(.up))).map { 1 + Double($0) * delta }
    }

    /// Random affine (three points moved by up to alpha_affine) then a smooth random
    /// displacement field (Gaussian-filtered uniform noise), as make_cifar_c's elastic_transform.
    static func elastic(_ img: FloatImage, severity s: Int, rng: inout SeededGenerator) -> FloatImage {
        let size: Float = 32
        let c: [(Float, Float, Float)] = [(size * 0, size * 0, size * 0.08), (size * 0.05, size * 0.2, size * 0.07),
                                          (size * 0.08, size * 0.06, size * 0.06), (size * 0.1, size * 0.04, size * 0.05),
                                          (size * 0.1, size * 0.03, size * 0.03)]
        let (alpha, sigma, alphaAffine) = c[s]
        let h = img.h, w = img.w
        // pts1 in (x, y) as OpenCV takes them: centre +- square_size.
        let cx = Float(w / 2), cy = Float(h / 2), sq = Float(min(h, w) / 3)
        let p1: [(Float, Float)] = [(cx + sq, cy + sq), (cx + sq, cy - sq), (cx - sq, cy - sq)]
        let p2 = p1.map { ($0.0 + rng.uniform(-alphaAffine, alphaAffine), $0.1 + rng.uniform(-alphaAffine, alphaAffine)) }
        // Solve M (2x3) with M * [x, y, 1] = p2 for the three points, then invert it: warpAffine
        // samples the source at M^-1 (destination).
        guard let m = affineFrom(p1, p2), let inv = invertAffine(m) else { return img }
        var warped = FloatImage(h: h, w: w, c: img.c)
        for y in 0..<h { for x in 0..<w {
            let sx = inv[0] * Float(x) + inv[1] * Float(y) + inv[2]
            let sy = inv[3] * Float(x) + inv[4] * Float(y) + inv[5]
            for ch in 0..<img.c { warped[y, x, ch] = Filters.bilinear(img, sy, sx, ch, .reflect101) }
        } }
        var dx = FloatImage(h: h, w: w, c: 1), dy = FloatImage(h: h, w: w, c: 1)
        for i in dx.v.indices { dx.v[i] = rng.uniform(-1, 1) }
        for i in dy.v.indices { dy.v[i] = rng.uniform(-1, 1) }
        dx = Filters.gaussian(dx, sigma: sigma, truncate: 3, border: .symmetric)
        dy = Filters.gaussian(dy, sigma: sigma, truncate: 3, border: .symmetric)
        var out = FloatImage(h: h, w: w, c: img.c)
        for y in 0..<h { for x in 0..<w {
            let fy = Float(y) + dy[y, x, 0] * alpha, fx = Float(x) + dx[y, x, 0] * alpha
            for ch in 0..<img.c { out[y, x, ch] = Filters.bilinear(warped, fy, fx, ch, .symmetric) }
        } }
        return out
    }

    static func affineFrom(_ a: [(Float, Float)], _ b: [(Float, Float)]) -> [Float]? {
        // Rows [x y 1] of the source points; solve for each output coordinate.
        let det = a[0].0 * (a[1].1 - a[2].1) - a[0].1 * (a[1].0 - a[2].0) + (a[1].0 * a[2].1 - a[2].0 * a[1].1)
        guard abs(det) > 1e-6 else { return nil }
        func solve(_ r: [Float]) -> (Float, Float, Float) {
            // Cramer's rule on [[x0 y0 1],[x1 y1 1],[x2 y2 1]] * [p q t] = r
            let d1 = r[0] * (a[1].1 - a[2].1) - a[0].1 * (r[1] - r[2]) + (r[1] * a[2].1 - r[2] * a[1].1)
            let d2 = a[0].0 * (r[1] - r[2]) - r[0] * (a[1].0 - a[2].0) + (a[1].0 * r[2] - a[2].0 * r[1])
            let d3 = a[0].0 * (a[1].1 * r[2] - a[2].1 * r[1]) - a[0].1 * (a[1].0 * r[2] - a[2].0 * r[1]) + r[0] * (a[1].0 * a[2].1 - a[2].0 * a[1].1)
            return (d1 / det, d2 / det, d3 / det)
        }
        let x = solve(b.map { $0.0 }), y = solve(b.map { $0.1 })
        return [x.0, x.1, x.2, y.0, y.1, y.2]
    }

    static func invertAffine(_ m: [Float]) -> [Float]? {
        let det = m[0] * m[4] - m[1] * m[3]
        guard abs(det) > 1e-9 else { return nil }
        let a = m[4] / det, b = -m[1] / det, d = -m[3] / det, e = m[0] / det
        return [a, b, -(a * m[2] + b * m[5]), d, e, -(d * m[2] + e * m[5])]
    }

    /// Corrupts a whole set at one severity. Image i uses its own generator derived from
    /// (seed, i), so the result does not depend on `threads`.
    public func apply(to set: ImageSet, severity: Int, seed: UInt64, threads: Int = 1) -> ImageSet {
        precondition(set.channels == 3, "Corruptions are defined for RGB images")
        let per = set.imageSize
        var pixels = [UInt8](repeating: 0, count: set.count * per)
        let salt = UInt64(Corruption.allCases.firstIndex(of: self) ?? 0) &* 0x1000 &+ UInt64(severity)
        pixels.withUnsafeMutableBufferPointer { out in
            let shared = SharedBytesOut(dst: out)
            let work: @Sendable (Int) -> Void = { i in
                var rng = StudentNoise.imageGenerator(seed: seed ^ 0xC0FF_EE00, batch: salt, index: i)
                let r = self.apply(Array(set.image(i)), height: set.height, width: set.width, severity: severity, rng: &rng)
                for k in 0..<per { shared.dst[i * per + k] = r[k] }
            }
            if threads <= 1 {
                for i in 0..<set.count { work(i) }
            } else {
                DispatchQueue.concurrentPerform(iterations: threads) { t in
                    var i = t
                    while i < set.count { work(i); i += threads }
                }
            }
        }
        return ImageSet(height: set.height, width: set.width, channels: 3, pixels: pixels, labels: set.labels)
    }
}

struct SharedBytesOut: @unchecked Sendable {
    let dst: UnsafeMutableBufferPointer<UInt8>
}
