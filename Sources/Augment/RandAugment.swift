import Randomness

/// RandAugment (Cubuk et al. 2019) as the official Noisy Student code applies it: for each of
/// `layers` (N) rounds, one op drawn uniformly from the list is applied, always, at the shared
/// magnitude `magnitude` (M, on the 0-10 scale; values above 10 extrapolate).
public struct RandAugment: Sendable, Equatable {
    /// The official `available_ops`, in its order (Cutout is included: `--cutout_op` defaults to true).
    public enum Op: String, CaseIterable, Sendable, Codable {
        case autoContrast = "AutoContrast", equalize = "Equalize", invert = "Invert", rotate = "Rotate"
        case posterize = "Posterize", solarize = "Solarize", color = "Color", contrast = "Contrast"
        case brightness = "Brightness", sharpness = "Sharpness", shearX = "ShearX", shearY = "ShearY"
        case translateX = "TranslateX", translateY = "TranslateY", solarizeAdd = "SolarizeAdd", cutout = "Cutout"

        /// Ops whose argument is randomly negated (direction of the geometric change).
        var isSigned: Bool { [.rotate, .shearX, .shearY, .translateX, .translateY].contains(self) }
    }

    /// The top of the magnitude scale (the official `_MAX_LEVEL`); an op's argument is proportional to M / maxLevel.
    public static let maxLevel: Float = 10

    /// N: ops applied per image (official SVHN: 2).
    public var layers: Int
    /// M on the 0-10 scale (official SVHN: 5).
    public var magnitude: Float
    /// The ops drawn from, uniformly (default: all 16 official ones).
    public var ops: [Op]
    /// Translation at M = 10, pixels. The official code uses image_size / 8 for 32x32 images (4).
    public var translateConst: Float
    /// Cutout half-size at M = 10, pixels. image_size / 8 for 32x32 (4).
    public var cutoutConst: Float
    /// Grey fill for pixels uncovered by geometry and for the Cutout op.
    public var fill: UInt8

    /// RandAugment with the official SVHN settings by default; traps on an empty op list.
    public init(layers: Int = 2, magnitude: Float = 5, ops: [Op] = Op.allCases,
                translateConst: Float = 4, cutoutConst: Float = 4, fill: UInt8 = 128) {
        precondition(!ops.isEmpty, "RandAugment needs at least one op")
        self.layers = layers
        self.magnitude = magnitude
        self.ops = ops
        self.translateConst = translateConst
        self.cutoutConst = cutoutConst
        self.fill = fill
    }

    /// The op's argument at magnitude `m`, as the official `level_to_arg` maps it
    /// (before the random sign of the geometric ops).
    public func argument(_ op: Op, magnitude m: Float) -> Float {
        let level = m / Self.maxLevel
        switch op {
        case .autoContrast, .equalize, .invert: return 0
        case .rotate: return level * 30
        case .posterize: return Float(Int(level * 4))
        case .solarize: return Float(Int(level * 256))
        case .solarizeAdd: return Float(Int(level * 110))
        case .color, .contrast, .brightness, .sharpness: return level * 1.8 + 0.1
        case .shearX, .shearY: return level * 0.3
        case .translateX, .translateY: return level * translateConst
        case .cutout: return Float(Int(level * cutoutConst))
        }
    }

    /// Applies N random ops in place. `tmp` is scratch of the image's size.
    public func apply(_ img: PixelOps.Buffer, tmp: PixelOps.Buffer, height: Int, width: Int, channels: Int,
                      rng: inout SeededGenerator) {
        for _ in 0..<layers {
            let op = ops[rng.int(below: ops.count)]
            apply(op, magnitude: magnitude, img, tmp: tmp, height: height, width: width, channels: channels, rng: &rng)
        }
    }

    /// Applies one op at magnitude `m` in place (the random sign and the Cutout position come from `rng`).
    public func apply(_ op: Op, magnitude m: Float, _ img: PixelOps.Buffer, tmp: PixelOps.Buffer,
                      height h: Int, width w: Int, channels c: Int, rng: inout SeededGenerator) {
        var arg = argument(op, magnitude: m)
        // Official _randomly_negate_tensor: keep the sign with probability 1/2.
        if op.isSigned && !rng.bernoulli(0.5) { arg = -arg }
        switch op {
        case .autoContrast: PixelOps.autoContrast(img, channels: c)
        case .equalize: PixelOps.equalize(img, channels: c)
        case .invert: PixelOps.invert(img)
        case .rotate: PixelOps.rotate(img, tmp: tmp, height: h, width: w, channels: c, degrees: arg, fill: fill)
        case .posterize: PixelOps.posterize(img, bits: Int(arg))
        case .solarize: PixelOps.solarize(img, threshold: Int(arg))
        case .solarizeAdd: PixelOps.solarizeAdd(img, addition: Int(arg))
        case .color: PixelOps.color(img, tmp: tmp, channels: c, factor: arg)
        case .contrast: PixelOps.contrast(img, tmp: tmp, height: h, width: w, factor: arg)
        case .brightness: PixelOps.brightness(img, tmp: tmp, factor: arg)
        case .sharpness: PixelOps.sharpness(img, tmp: tmp, height: h, width: w, channels: c, factor: arg)
        case .shearX: PixelOps.shearX(img, tmp: tmp, height: h, width: w, channels: c, level: arg, fill: fill)
        case .shearY: PixelOps.shearY(img, tmp: tmp, height: h, width: w, channels: c, level: arg, fill: fill)
        case .translateX: PixelOps.translateX(img, tmp: tmp, height: h, width: w, channels: c, pixels: arg, fill: fill)
        case .translateY: PixelOps.translateY(img, tmp: tmp, height: h, width: w, channels: c, pixels: arg, fill: fill)
        case .cutout:
            let cy = rng.int(below: h), cx = rng.int(below: w)
            PixelOps.cutout(img, height: h, width: w, channels: c, centerY: cy, centerX: cx, pad: Int(arg), fill: fill)
        }
    }

    /// Convenience for previews and tests: one op on a copy of `image`.
    public static func apply(_ op: Op, magnitude: Float, to image: [UInt8], height: Int, width: Int, channels: Int,
                             rng: inout SeededGenerator, translateConst: Float = 4, cutoutConst: Float = 4) -> [UInt8] {
        let ra = RandAugment(translateConst: translateConst, cutoutConst: cutoutConst)
        var out = image
        var tmp = image
        out.withUnsafeMutableBufferPointer { o in
            tmp.withUnsafeMutableBufferPointer { t in
                ra.apply(op, magnitude: magnitude, o, tmp: t, height: height, width: width, channels: channels, rng: &rng)
            }
        }
        return out
    }
}

/// The student's input noise, as the official SVHN/CIFAR preprocessing composes it:
/// RandAugment (N, M), then Cutout 16x16 (pad 8, grey), then reflect-pad 4 and a random
/// 32x32 crop. No horizontal flip: digits are not mirror-symmetric.
public struct StudentNoise: Sendable, Equatable {
    /// The RandAugment rounds, or nil for none.
    public var randAugment: RandAugment?
    /// Half-size of the final Cutout (image_size / 4 = 8 for 32x32, a 16x16 square); 0 disables.
    public var cutoutPad: Int
    /// Reflect padding before the random crop; 0 disables.
    public var cropPad: Int
    /// Grey level of Cutout's square.
    public var fill: UInt8

    /// The official SVHN student noise by default: RandAugment N=2 M=5, Cutout 16x16, reflect-pad 4 and crop.
    public init(randAugment: RandAugment? = RandAugment(layers: 2, magnitude: 5), cutoutPad: Int = 8, cropPad: Int = 4, fill: UInt8 = 128) {
        self.randAugment = randAugment
        self.cutoutPad = cutoutPad
        self.cropPad = cropPad
        self.fill = fill
    }

    /// Per-thread scratch so the hot loop does not allocate.
    public struct Scratch {
        var tmp: [UInt8] = []
        /// Empty scratch; it grows to the image size on first use.
        public init() {}
    }

    /// Augments `src` into `dst` (both height x width x channels).
    public func apply(_ src: UnsafeBufferPointer<UInt8>, into dst: UnsafeMutableBufferPointer<UInt8>,
                      height h: Int, width w: Int, channels c: Int, rng: inout SeededGenerator, scratch: inout Scratch) {
        precondition(src.count == h * w * c && dst.count == src.count, "StudentNoise: buffer sizes do not match the image shape")
        for i in 0..<src.count { dst[i] = src[i] }
        if scratch.tmp.count != src.count { scratch.tmp = [UInt8](repeating: 0, count: src.count) }
        scratch.tmp.withUnsafeMutableBufferPointer { tmp in
            randAugment?.apply(dst, tmp: tmp, height: h, width: w, channels: c, rng: &rng)
            if cutoutPad > 0 {
                let cy = rng.int(below: h), cx = rng.int(below: w)
                PixelOps.cutout(dst, height: h, width: w, channels: c, centerY: cy, centerX: cx, pad: cutoutPad, fill: fill)
            }
            if cropPad > 0 {
                let oy = rng.int(below: 2 * cropPad + 1), ox = rng.int(below: 2 * cropPad + 1)
                PixelOps.padCrop(dst, tmp: tmp, height: h, width: w, channels: c, pad: cropPad, offsetY: oy, offsetX: ox)
            }
        }
    }

    /// The generator for image `index` of batch `batch` in a run with `seed`: a pure function,
    /// so augmentation never depends on which thread did the work or when.
    public static func imageGenerator(seed: UInt64, batch: UInt64, index: Int) -> SeededGenerator {
        var z = seed ^ (batch &* 0xD6E8_FEB8_6659_FD93) ^ (UInt64(truncatingIfNeeded: index) &* 0x9E37_79B9_7F4A_7C15)
        z = (z ^ (z >> 32)) &* 0xD6E8_FEB8_6659_FD93
        z = (z ^ (z >> 32)) &* 0xD6E8_FEB8_6659_FD93
        return SeededGenerator(seed: z ^ (z >> 32))
    }
}
