import CCairo
import Dispatch
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Randomness
import SystemSupport

/// SVHN-like 32x32 RGB digit crops drawn with Cairo: the embedded default dataset.
///
/// Each image is a centred digit (its label) between partial neighbour digits of the same
/// house number, in one of several installed fonts, with random colours and contrast, scale,
/// rotation, shear, a textured background, blur, illumination and noise. Labels follow SVHN's
/// class imbalance (many 1s and 2s, few 0s and 9s).
///
/// Determinism: image `i` of seed `s` depends only on `(s, i)` (its own generator), so a set is
/// byte-identical whatever the thread count or chunking, and any slice can be regenerated.
/// The generator is unlimited: unlabeled pools are just more indices.
public struct SyntheticHouseNumbers: Sendable {
    /// Shape of every generated image (SVHN's).
    public static let height = 32, width = 32, channels = 3

    /// Everything that sets the difficulty. Ranges are sampled uniformly per image.
    public struct Parameters: Sendable, Codable, Equatable {
        /// Relative class frequencies for digits 0...9 (default: SVHN's training set counts).
        public var classWeights: [Double]
        /// Digit height as a fraction of the image height.
        public var digitHeight: ClosedRange<Float>
        /// Maximum absolute rotation, degrees.
        public var maxRotationDegrees: Float
        /// Maximum absolute horizontal shear (x += shear * y).
        public var maxShear: Float
        /// Horizontal squeeze/stretch of the glyphs (width multiplier).
        public var aspect: ClosedRange<Float>
        /// Maximum offset of the centre digit from the image centre, as a fraction of the size.
        public var maxJitter: Float
        /// Probability of a neighbour digit on each side.
        public var neighbourProbability: Float
        /// Gap between neighbouring digits, as a fraction of the digit height.
        public var spacing: ClosedRange<Float>
        /// Luminance difference between digit and background (0...1): low is hard.
        public var contrast: ClosedRange<Float>
        /// Colour saturation of background and digits.
        public var saturation: ClosedRange<Float>
        /// Probability of a textured background (gradients, stripes, blotches) instead of a flat one.
        public var textureProbability: Float
        /// Strength of background texture relative to the digit contrast.
        public var textureStrength: ClosedRange<Float>
        /// Probability of a drop shadow / embossing under the digits.
        public var shadowProbability: Float
        /// Probability of a distracting edge (plaque border, pole, window frame).
        public var distractorProbability: Float
        /// Gaussian blur sigma in pixels.
        public var blurSigma: ClosedRange<Float>
        /// Pixel noise standard deviation, in units of full scale.
        public var noiseStd: ClosedRange<Float>
        /// Linear illumination change across the image (fraction of brightness).
        public var maxIllumination: Float

        /// SVHN train label counts for digits 0 (label 10) ... 9.
        public static let svhnClassCounts: [Double] = [4948, 13861, 10585, 8497, 7458, 6882, 5727, 5595, 5045, 4659]

        /// Parameters (units as documented on the properties); the defaults make `Parameters.default`.
        public init(classWeights: [Double] = svhnClassCounts, digitHeight: ClosedRange<Float> = 0.48...0.85,
                    maxRotationDegrees: Float = 13.5, maxShear: Float = 0.32, aspect: ClosedRange<Float> = 0.73...1.27,
                    maxJitter: Float = 0.07, neighbourProbability: Float = 0.8, spacing: ClosedRange<Float> = 0.02...0.28,
                    contrast: ClosedRange<Float> = 0.14...0.83, saturation: ClosedRange<Float> = 0...0.35,
                    textureProbability: Float = 0.75, textureStrength: ClosedRange<Float> = 0.15...0.7,
                    shadowProbability: Float = 0.32, distractorProbability: Float = 0.42,
                    blurSigma: ClosedRange<Float> = 0...1.25, noiseStd: ClosedRange<Float> = 0.008...0.06,
                    maxIllumination: Float = 0.4) {
            self.classWeights = classWeights
            self.digitHeight = digitHeight
            self.maxRotationDegrees = maxRotationDegrees
            self.maxShear = maxShear
            self.aspect = aspect
            self.maxJitter = maxJitter
            self.neighbourProbability = neighbourProbability
            self.spacing = spacing
            self.contrast = contrast
            self.saturation = saturation
            self.textureProbability = textureProbability
            self.textureStrength = textureStrength
            self.shadowProbability = shadowProbability
            self.distractorProbability = distractorProbability
            self.blurSigma = blurSigma
            self.noiseStd = noiseStd
            self.maxIllumination = maxIllumination
        }

        /// The default: legible but hard, as SVHN crops are.
        public static let `default` = Parameters()

        /// Nearly clean digits: large, upright, high contrast, flat backgrounds, few neighbours.
        public static let easy = Parameters(
            digitHeight: 0.7...0.75, maxRotationDegrees: 0, maxShear: 0, aspect: 1...1, maxJitter: 0,
            neighbourProbability: 0.2, spacing: 0.3...0.4, contrast: 0.6...0.9, saturation: 0...0.2,
            textureProbability: 0, textureStrength: 0...0, shadowProbability: 0, distractorProbability: 0,
            blurSigma: 0...0.3, noiseStd: 0...0.01, maxIllumination: 0)

        /// One knob for tuning: 0 is `easy`, 1 is `default`, in between interpolates and above 1
        /// extrapolates every setting (clamped to valid values). `default` is placed so a supervised
        /// teacher lands where self-training has room to help (docs/tuning.md).
        public static func difficulty(_ d: Float) -> Parameters {
            let t = max(0, d)
            let a = easy, b = Parameters.default
            // x (1 - t) + y t is exact at both ends, so difficulty(1) == .default.
            func f(_ x: Float, _ y: Float) -> Float { x * (1 - t) + y * t }
            func r(_ x: ClosedRange<Float>, _ y: ClosedRange<Float>, _ lo: Float = 0, _ hi: Float = .infinity) -> ClosedRange<Float> {
                let l = min(hi, max(lo, f(x.lowerBound, y.lowerBound)))
                let u = min(hi, max(l, f(x.upperBound, y.upperBound)))
                return l...u
            }
            func p(_ x: Float, _ y: Float) -> Float { min(1, max(0, f(x, y))) }
            return Parameters(
                classWeights: b.classWeights,
                digitHeight: r(a.digitHeight, b.digitHeight, 0.2, 1.2),
                maxRotationDegrees: max(0, f(a.maxRotationDegrees, b.maxRotationDegrees)),
                maxShear: max(0, f(a.maxShear, b.maxShear)),
                aspect: r(a.aspect, b.aspect, 0.4, 2),
                maxJitter: max(0, f(a.maxJitter, b.maxJitter)),
                neighbourProbability: p(a.neighbourProbability, b.neighbourProbability),
                spacing: r(a.spacing, b.spacing, -0.2, 1),
                contrast: r(a.contrast, b.contrast, 0.03, 1),
                saturation: r(a.saturation, b.saturation, 0, 1),
                textureProbability: p(a.textureProbability, b.textureProbability),
                textureStrength: r(a.textureStrength, b.textureStrength, 0, 2),
                shadowProbability: p(a.shadowProbability, b.shadowProbability),
                distractorProbability: p(a.distractorProbability, b.distractorProbability),
                blurSigma: r(a.blurSigma, b.blurSigma, 0, 3),
                noiseStd: r(a.noiseStd, b.noiseStd, 0, 0.3),
                maxIllumination: max(0, f(a.maxIllumination, b.maxIllumination)))
        }
    }

    /// A font by fontconfig family name, slant and weight (resolved through Cairo's toy API).
    public struct Font: Sendable, Equatable, Hashable, Codable {
        /// fontconfig family name, e.g. "DejaVu Sans".
        public var family: String
        /// Bold weight.
        public var bold: Bool
        /// Italic slant.
        public var italic: Bool
        /// A font; see the properties.
        public init(_ family: String, bold: Bool = false, italic: Bool = false) {
            self.family = family
            self.bold = bold
            self.italic = italic
        }
    }

    /// Fonts from Debian's fonts-dejavu-core, fonts-liberation and fonts-freefont-ttf.
    public static let defaultFonts: [Font] = [
        Font("DejaVu Sans"), Font("DejaVu Sans", bold: true), Font("DejaVu Sans Condensed", bold: true),
        Font("DejaVu Serif", bold: true), Font("DejaVu Sans Mono", bold: true),
        Font("Liberation Sans"), Font("Liberation Sans", bold: true), Font("Liberation Sans Narrow", bold: true),
        Font("Liberation Serif"), Font("Liberation Serif", bold: true), Font("Liberation Mono", bold: true),
        Font("FreeSans", bold: true), Font("FreeSerif", bold: true), Font("FreeMono", bold: true),
        Font("FreeSans", italic: true), Font("DejaVu Serif", bold: true, italic: true),
    ]

    /// What sets the difficulty.
    public var parameters: Parameters
    /// The fonts digits are drawn in, one chosen per image.
    public let fonts: [Font]
    private let glyphs: GlyphLibrary

    /// A generator; traps without 10 non-negative class weights summing above 0, or without fonts.
    public init(parameters: Parameters = .default, fonts: [Font] = defaultFonts) {
        precondition(parameters.classWeights.count == 10 && parameters.classWeights.allSatisfy { $0 >= 0 }
                     && parameters.classWeights.reduce(0, +) > 0, "SyntheticHouseNumbers: need 10 non-negative class weights")
        precondition(!fonts.isEmpty, "SyntheticHouseNumbers: need at least one font")
        self.parameters = parameters
        self.fonts = fonts
        self.glyphs = GlyphLibrary.cached(fonts)
    }

    /// A fingerprint of what this generator draws on this machine: the parameters, the fonts
    /// and a sample of images. Fonts are resolved by fontconfig, so a machine missing one of
    /// the font packages silently substitutes another and draws different images; putting
    /// this fingerprint into cache keys makes that visible instead of silently mixing data.
    public var fingerprint: String {
        let md5 = MessageDigest(.md5)
        md5.update(Array("\(parameters)|\(fonts)".utf8))
        let sample = generate(count: 64, seed: 0x5EED)
        md5.update(Array(sample.fingerprint.utf8))
        return md5.finalize()
    }

    /// Images `firstIndex ..< firstIndex + count` of the stream for `seed`.
    /// `threads` only changes the speed, never the bytes.
    public func generate(count: Int, seed: UInt64, firstIndex: Int = 0, threads: Int = 1) -> ImageSet {
        let per = Self.height * Self.width * Self.channels
        var pixels = [UInt8](repeating: 0, count: count * per)
        var labels = [Int32](repeating: 0, count: count)
        let chunk = 256
        let chunks = (count + chunk - 1) / chunk
        pixels.withUnsafeMutableBufferPointer { pix in
            labels.withUnsafeMutableBufferPointer { lab in
                let out = SendableBuffers(pixels: pix, labels: lab)
                let work: @Sendable (Int) -> Void = { c in
                    let canvas = Canvas()
                    let lo = c * chunk, hi = min(count, lo + chunk)
                    for i in lo..<hi {
                        let dst = UnsafeMutableBufferPointer(rebasing: out.pixels[(i * per)..<((i + 1) * per)])
                        out.labels[i] = render(index: firstIndex + i, seed: seed, canvas: canvas, into: dst)
                    }
                }
                if threads <= 1 || chunks <= 1 {
                    for c in 0..<chunks { work(c) }
                } else {
                    // Chunks are claimed dynamically, but each image's bytes depend only on its index.
                    let next = AtomicCounter()
                    DispatchQueue.concurrentPerform(iterations: min(threads, chunks)) { _ in
                        while true {
                            let c = next.increment()
                            if c >= chunks { break }
                            work(c)
                        }
                    }
                }
            }
        }
        return ImageSet(height: Self.height, width: Self.width, channels: Self.channels, pixels: pixels, labels: labels)
    }

    /// The generator of image `index` in the stream `seed`.
    static func imageGenerator(seed: UInt64, index: Int) -> SeededGenerator {
        var z = seed &+ 0x9E37_79B9_7F4A_7C15 &* UInt64(truncatingIfNeeded: index &+ 1)
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return SeededGenerator(seed: z ^ (z >> 31) ^ seed)
    }

    /// Renders one image into `dst` (32x32x3 bytes) and returns its label.
    func render(index: Int, seed: UInt64, canvas: Canvas, into dst: UnsafeMutableBufferPointer<UInt8>) -> Int32 {
        var rng = Self.imageGenerator(seed: seed, index: index)
        let p = parameters
        let label = Self.sampleClass(p.classWeights, &rng)
        let font = rng.int(below: glyphs.fonts.count)

        // Colours: background luminance, then a digit luminance `contrast` away from it.
        let bgLum = rng.uniform(0.08, 0.92)
        let contrast = rng.uniform(p.contrast.lowerBound, p.contrast.upperBound)
        var fgLum: Float
        if bgLum + contrast <= 1 && (bgLum - contrast < 0 || rng.bernoulli(0.5)) { fgLum = bgLum + contrast }
        else if bgLum - contrast >= 0 { fgLum = bgLum - contrast }
        else { fgLum = bgLum > 0.5 ? 0 : 1 }
        fgLum = min(1, max(0, fgLum))
        let bg = Self.colour(luminance: bgLum, saturation: rng.uniform(p.saturation.lowerBound, p.saturation.upperBound), &rng)
        let fg = Self.colour(luminance: fgLum, saturation: rng.uniform(p.saturation.lowerBound, p.saturation.upperBound), &rng)

        // Background and texture are written straight into the surface's pixels: flat fills
        // of many small shapes cost more in Cairo than the digits themselves. Texture strength
        // is scaled to the digit contrast so a strong texture really competes with the digit.
        let textured = rng.bernoulli(p.textureProbability)
        let strength = textured ? rng.uniform(p.textureStrength.lowerBound, p.textureStrength.upperBound) * max(contrast, 0.15) : 0
        canvas.paintBackground(bg, texture: textured ? rng.int(below: 3) : -1, strength: strength, &rng)
        let cr = canvas.cr

        // Geometry of the house number, in pixels.
        let size = Double(Self.height)
        let digitH = Double(rng.uniform(p.digitHeight.lowerBound, p.digitHeight.upperBound)) * size
        let angle = Double(rng.uniform(-p.maxRotationDegrees, p.maxRotationDegrees)) * Double.pi / 180
        let shear = Double(rng.uniform(-p.maxShear, p.maxShear))
        let aspect = Double(rng.uniform(p.aspect.lowerBound, p.aspect.upperBound))
        let cx = size / 2 + Double(rng.uniform(-p.maxJitter, p.maxJitter)) * size
        let cy = size / 2 + Double(rng.uniform(-p.maxJitter, p.maxJitter)) * size
        let gap = Double(rng.uniform(p.spacing.lowerBound, p.spacing.upperBound)) * digitH
        let left = rng.bernoulli(p.neighbourProbability) ? rng.int(below: 10) : -1
        let right = rng.bernoulli(p.neighbourProbability) ? rng.int(below: 10) : -1
        let shadow = rng.bernoulli(p.shadowProbability)
        let shadowDx = Double(rng.uniform(-1.5, 1.5)), shadowDy = Double(rng.uniform(0.5, 1.5))

        let g = glyphs.glyphs[font]
        let scale = digitH / g[Int(label)].height
        func placeDigits() {
            // In glyph units: the label's box is centred at the origin, neighbours sit beside it
            // on the same baseline, `gap` apart.
            let centre = g[Int(label)]
            let baseline = -(centre.yBearing + centre.height / 2)
            var items: [(Int, Double)] = [(Int(label), -(centre.xBearing + centre.width / 2))]
            if left >= 0 {
                let n = g[left]
                items.append((left, -centre.width / 2 - gap / scale - n.width - n.xBearing))
            }
            if right >= 0 {
                let n = g[right]
                items.append((right, centre.width / 2 + gap / scale - n.xBearing))
            }
            for (digit, x) in items {
                cairo_save(cr)
                cairo_translate(cr, x, baseline)
                cairo_append_path(cr, g[digit].path)
                cairo_restore(cr)
            }
        }
        func transform(dx: Double, dy: Double) {
            cairo_identity_matrix(cr)
            cairo_translate(cr, cx + dx, cy + dy)
            cairo_rotate(cr, angle)
            var m = cairo_matrix_t(xx: 1, yx: 0, xy: shear, yy: 1, x0: 0, y0: 0)
            cairo_transform(cr, &m)
            cairo_scale(cr, scale * aspect, scale)
        }
        if shadow {
            let sh = Self.mix(bg, fgLum > bgLum ? (0, 0, 0) : (1, 1, 1), 0.6)
            cairo_new_path(cr)
            transform(dx: shadowDx, dy: shadowDy)
            placeDigits()
            cairo_identity_matrix(cr)
            cairo_set_source_rgb(cr, Double(sh.0), Double(sh.1), Double(sh.2))
            cairo_fill(cr)
        }
        cairo_new_path(cr)
        transform(dx: 0, dy: 0)
        placeDigits()
        cairo_identity_matrix(cr)
        cairo_set_source_rgb(cr, Double(fg.0), Double(fg.1), Double(fg.2))
        cairo_fill(cr)

        if rng.bernoulli(p.distractorProbability) { drawDistractor(cr, bg: bg, fg: fg, &rng) }

        // Photometric degradation in Float, then back to bytes.
        canvas.readRGB()
        let sigma = rng.uniform(p.blurSigma.lowerBound, p.blurSigma.upperBound)
        if sigma > 0.2 { canvas.blur(sigma: sigma) }
        let noise = rng.uniform(p.noiseStd.lowerBound, p.noiseStd.upperBound)
        let gx = rng.uniform(-p.maxIllumination, p.maxIllumination), gy = rng.uniform(-p.maxIllumination, p.maxIllumination)
        canvas.finish(into: dst, illumination: (gx, gy), noiseStd: noise, &rng)
        return label
    }

    static func sampleClass(_ weights: [Double], _ rng: inout SeededGenerator) -> Int32 {
        let total = weights.reduce(0, +)
        var u = Double(rng.uniform()) * total
        for (k, w) in weights.enumerated() {
            if u < w { return Int32(k) }
            u -= w
        }
        return Int32(weights.lastIndex { $0 > 0 } ?? 0)
    }

    /// A colour with the given luminance (Rec. 601 weights) and a random hue.
    static func colour(luminance: Float, saturation: Float, _ rng: inout SeededGenerator) -> (Float, Float, Float) {
        let hue = rng.uniform(0, 2 * Float.pi)
        // A chroma direction with zero luminance: r, g, b offsets whose weighted sum is 0.
        var r = cosf(hue), g = cosf(hue - 2.094), b = cosf(hue + 2.094)
        let l = 0.299 * r + 0.587 * g + 0.114 * b
        r -= l; g -= l; b -= l
        let s = saturation * 0.5
        return (min(1, max(0, luminance + s * r)), min(1, max(0, luminance + s * g)), min(1, max(0, luminance + s * b)))
    }

    static func mix(_ a: (Float, Float, Float), _ b: (Float, Float, Float), _ t: Float) -> (Float, Float, Float) {
        (a.0 + (b.0 - a.0) * t, a.1 + (b.1 - a.1) * t, a.2 + (b.2 - a.2) * t)
    }

    /// An edge near the border: the end of a plaque, a pole, a frame line.
    func drawDistractor(_ cr: OpaquePointer, bg: (Float, Float, Float), fg: (Float, Float, Float), _ rng: inout SeededGenerator) {
        let c = rng.bernoulli(0.5) ? fg : Self.mix(bg, (rng.uniform(), rng.uniform(), rng.uniform()), 0.7)
        cairo_set_source_rgb(cr, Double(c.0), Double(c.1), Double(c.2))
        let w = Double(rng.uniform(1, 4))
        let pos = Double(rng.bernoulli(0.5) ? rng.uniform(0, 5) : rng.uniform(27, 32))
        let tilt = Double(rng.uniform(-3, 3))
        if rng.bernoulli(0.5) {
            cairo_move_to(cr, pos, 0); cairo_line_to(cr, pos + tilt, 32)
        } else {
            cairo_move_to(cr, 0, pos); cairo_line_to(cr, 32, pos + tilt)
        }
        cairo_set_line_width(cr, w)
        cairo_stroke(cr)
    }
}

/// Digit outlines of each font, extracted once: appending a ready path is far cheaper than
/// laying out text for every image, and it sidesteps hinting (paths are unhinted).
/// Immutable after construction, so sharing between threads is safe.
final class GlyphLibrary: @unchecked Sendable {
    struct Glyph {
        var path: UnsafeMutablePointer<cairo_path_t>
        var xBearing: Double, yBearing: Double, width: Double, height: Double
    }
    let fonts: [SyntheticHouseNumbers.Font]
    let glyphs: [[Glyph]]

    private static let lock = Lock()
    nonisolated(unsafe) private static var cache: [[SyntheticHouseNumbers.Font]: GlyphLibrary] = [:]

    static func cached(_ fonts: [SyntheticHouseNumbers.Font]) -> GlyphLibrary {
        lock.withLock {
            if let hit = cache[fonts] { return hit }
            let made = GlyphLibrary(fonts: fonts)
            cache[fonts] = made
            return made
        }
    }

    private init(fonts: [SyntheticHouseNumbers.Font]) {
        self.fonts = fonts
        let surface = cairo_image_surface_create(CAIRO_FORMAT_A8, 8, 8)
        let cr = cairo_create(surface)
        let options = cairo_font_options_create()
        cairo_font_options_set_hint_style(options, CAIRO_HINT_STYLE_NONE)
        cairo_font_options_set_hint_metrics(options, CAIRO_HINT_METRICS_OFF)
        cairo_set_font_options(cr, options)
        var all: [[Glyph]] = []
        for font in fonts {
            let face = cairo_toy_font_face_create(font.family,
                                                  font.italic ? CAIRO_FONT_SLANT_ITALIC : CAIRO_FONT_SLANT_NORMAL,
                                                  font.bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL)
            cairo_set_font_face(cr, face)
            cairo_set_font_size(cr, 100)
            var row: [Glyph] = []
            for d in 0..<10 {
                let text = String(d)
                var ext = cairo_text_extents_t()
                cairo_text_extents(cr, text, &ext)
                cairo_new_path(cr)
                cairo_move_to(cr, 0, 0)
                cairo_text_path(cr, text)
                guard let path = cairo_copy_path(cr) else { fatalError("cairo could not copy a glyph path") }
                row.append(Glyph(path: path, xBearing: ext.x_bearing, yBearing: ext.y_bearing,
                                 width: max(ext.width, 1), height: max(ext.height, 1)))
            }
            cairo_font_face_destroy(face)
            all.append(row)
        }
        cairo_font_options_destroy(options)
        cairo_destroy(cr)
        cairo_surface_destroy(surface)
        glyphs = all
    }
}

/// One thread's drawing surface and Float scratch for the photometric steps.
final class Canvas {
    let surface: OpaquePointer
    let cr: OpaquePointer
    var rgb = [Float](repeating: 0, count: 32 * 32 * 3)
    var tmp = [Float](repeating: 0, count: 32 * 32 * 3)

    init() {
        surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, 32, 32)
        cr = cairo_create(surface)
        cairo_set_antialias(cr, CAIRO_ANTIALIAS_GRAY)
        // A 32-pixel digit needs no finer curve flattening than a quarter pixel.
        cairo_set_tolerance(cr, 0.25)
    }

    /// Flat colour, then optionally a texture: 0 a linear gradient, 1 stripes (bricks,
    /// siding, wood), 2 soft blotches; all around `base`, +- `strength`.
    func paintBackground(_ base: (Float, Float, Float), texture: Int, strength: Float, _ rng: inout SeededGenerator) {
        cairo_surface_flush(surface)
        guard let data = cairo_image_surface_get_data(surface) else { return }
        let stride = Int(cairo_image_surface_get_stride(surface))
        // Per-pixel shade offset in [-strength, strength], then packed into Cairo's 0x00RRGGBB.
        var shade = [Float](repeating: 0, count: 32 * 32)
        switch texture {
        case 0:
            let x0 = rng.uniform(0, 32), x1 = rng.uniform(0, 32)
            let dx = x1 - x0, dy: Float = 32
            let len2 = dx * dx + dy * dy
            for y in 0..<32 { for x in 0..<32 {
                let t = min(1, max(0, ((Float(x) - x0) * dx + Float(y) * dy) / len2))
                shade[y * 32 + x] = strength * (2 * t - 1)
            } }
        case 1:
            let period = rng.uniform(3, 10)
            let vertical = rng.bernoulli(0.3)
            let phase = rng.uniform(0, period)
            let n = Int(32 / period) + 2
            var level = [Float](repeating: 0, count: n), width = [Float](repeating: 0, count: n)
            for k in 0..<n { level[k] = rng.uniform(-strength, strength); width[k] = period * rng.uniform(0.3, 0.9) }
            for y in 0..<32 { for x in 0..<32 {
                let p = Float(vertical ? x : y) + phase
                let k = min(n - 1, Int(p / period))
                if p - Float(k) * period < width[k] { shade[y * 32 + x] = level[k] }
            } }
        case 2:
            for _ in 0..<(2 + rng.int(below: 4)) {
                let level = rng.uniform(-strength, strength)
                let cx = rng.uniform(0, 32), cy = rng.uniform(0, 32), r = rng.uniform(3, 14)
                for y in 0..<32 { for x in 0..<32 {
                    let ddx = Float(x) + 0.5 - cx, ddy = Float(y) + 0.5 - cy
                    if ddx * ddx + ddy * ddy <= r * r { shade[y * 32 + x] += 0.7 * (level - shade[y * 32 + x]) }
                } }
            }
        default:
            break
        }
        for y in 0..<32 {
            let row = UnsafeMutableRawPointer(data + y * stride).assumingMemoryBound(to: UInt32.self)
            for x in 0..<32 {
                let d = shade[y * 32 + x]
                let r = UInt32(min(1, max(0, base.0 + d)) * 255 + 0.5)
                let g = UInt32(min(1, max(0, base.1 + d)) * 255 + 0.5)
                let b = UInt32(min(1, max(0, base.2 + d)) * 255 + 0.5)
                row[x] = r << 16 | g << 8 | b
            }
        }
        cairo_surface_mark_dirty(surface)
    }

    deinit {
        cairo_destroy(cr)
        cairo_surface_destroy(surface)
    }

    /// Cairo's RGB24 is a native-endian 0x00RRGGBB word per pixel.
    func readRGB() {
        cairo_surface_flush(surface)
        guard let data = cairo_image_surface_get_data(surface) else { return }
        let stride = Int(cairo_image_surface_get_stride(surface))
        for y in 0..<32 {
            let row = UnsafeRawPointer(data + y * stride).assumingMemoryBound(to: UInt32.self)
            for x in 0..<32 {
                let v = row[x]
                let o = (y * 32 + x) * 3
                rgb[o] = Float((v >> 16) & 0xFF) * (1 / 255)
                rgb[o + 1] = Float((v >> 8) & 0xFF) * (1 / 255)
                rgb[o + 2] = Float(v & 0xFF) * (1 / 255)
            }
        }
    }

    /// Separable Gaussian blur with clamped edges.
    func blur(sigma: Float) {
        let radius = min(3, Int((2.5 * sigma).rounded(.up)))
        var k = [Float](repeating: 0, count: 2 * radius + 1)
        for i in -radius...radius { k[i + radius] = expf(-Float(i * i) / (2 * sigma * sigma)) }
        let total = k.reduce(0, +)
        for i in k.indices { k[i] /= total }
        // Horizontal into tmp, vertical back into rgb; raw pointers keep the loops free of
        // exclusivity and bounds bookkeeping.
        rgb.withUnsafeMutableBufferPointer { rgb in
            tmp.withUnsafeMutableBufferPointer { tmp in
                k.withUnsafeBufferPointer { k in
                    for y in 0..<32 {
                        for x in 0..<32 {
                            var a: Float = 0, b: Float = 0, c: Float = 0
                            for i in -radius...radius {
                                let xx = min(31, max(0, x + i))
                                let o = (y * 32 + xx) * 3, w = k[i + radius]
                                a += w * rgb[o]; b += w * rgb[o + 1]; c += w * rgb[o + 2]
                            }
                            let o = (y * 32 + x) * 3
                            tmp[o] = a; tmp[o + 1] = b; tmp[o + 2] = c
                        }
                    }
                    for y in 0..<32 {
                        for x in 0..<32 {
                            var a: Float = 0, b: Float = 0, c: Float = 0
                            for i in -radius...radius {
                                let yy = min(31, max(0, y + i))
                                let o = (yy * 32 + x) * 3, w = k[i + radius]
                                a += w * tmp[o]; b += w * tmp[o + 1]; c += w * tmp[o + 2]
                            }
                            let o = (y * 32 + x) * 3
                            rgb[o] = a; rgb[o + 1] = b; rgb[o + 2] = c
                        }
                    }
                }
            }
        }
    }

    /// Illumination ramp and sensor noise, then rounding to bytes.
    func finish(into dst: UnsafeMutableBufferPointer<UInt8>, illumination: (Float, Float), noiseStd: Float,
                _ rng: inout SeededGenerator) {
        // Approximately normal noise from four 16-bit uniforms per draw (Irwin-Hall): one
        // generator call per pixel instead of a logarithm and a cosine.
        let noiseScale = noiseStd * 255 * 1.7320508 / 65535  // sqrt(12/4) = sqrt(3)
        rgb.withUnsafeBufferPointer { rgb in
        for y in 0..<32 {
            for x in 0..<32 {
                let light = 1 + illumination.0 * (Float(x) / 31 - 0.5) + illumination.1 * (Float(y) / 31 - 0.5)
                let o = (y * 32 + x) * 3
                for c in 0..<3 {
                    let r = rng.next()
                    let sum = Float(r & 0xFFFF) + Float((r >> 16) & 0xFFFF) + Float((r >> 32) & 0xFFFF) + Float(r >> 48)
                    let v = rgb[o + c] * light * 255 + (sum - 2 * 65535) * noiseScale
                    dst[o + c] = UInt8(min(255, max(0, v)) + 0.5)  // round half up without a libm call
                }
            }
        }
        }
    }
}

/// Raw buffers handed to worker threads that write disjoint ranges.
struct SendableBuffers: @unchecked Sendable {
    let pixels: UnsafeMutableBufferPointer<UInt8>
    let labels: UnsafeMutableBufferPointer<Int32>
}

/// A shared counter for claiming work items.
final class AtomicCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    func increment() -> Int {
        lock.lock()
        defer { lock.unlock() }
        let v = value
        value += 1
        return v
    }
}
