import Testing
import Randomness
@testable import Augment
import Datasets

@Suite struct RandAugmentTests {
    static let images = SyntheticHouseNumbers().generate(count: 8, seed: 11)
    static func image(_ i: Int = 0) -> [UInt8] { Array(images.image(i)) }

    func run(_ op: RandAugment.Op, _ m: Float, _ img: [UInt8], seed: UInt64 = 1) -> [UInt8] {
        var rng = SeededGenerator(seed: seed)
        return RandAugment.apply(op, magnitude: m, to: img, height: 32, width: 32, channels: 3, rng: &rng)
    }

    @Test(arguments: RandAugment.Op.allCases)
    func deterministicUnderASeed(op: RandAugment.Op) {
        for m: Float in [2, 5, 9, 14] {
            #expect(run(op, m, Self.image(1), seed: 5) == run(op, m, Self.image(1), seed: 5))
        }
    }

    @Test(arguments: [RandAugment.Op.rotate, .shearX, .shearY, .translateX, .translateY, .solarizeAdd, .cutout])
    func magnitudeZeroIsIdentity(op: RandAugment.Op) {
        for i in 0..<4 { #expect(run(op, 0, Self.image(i)) == Self.image(i)) }
    }

    @Test func identityPointsOfTheOtherOps() {
        let img = Self.image(2)
        // Enhance ops map M to 1.8 M/10 + 0.1: factor 1 (identity) at M = 5.
        for op in [RandAugment.Op.color, .contrast, .brightness, .sharpness] { #expect(run(op, 5, img) == img) }
        #expect(run(.posterize, 20, img) == img)   // 8 bits kept
        #expect(run(.solarize, 10, img) == img)    // threshold 256: nothing inverted
        #expect(run(.invert, 5, run(.invert, 5, img)) == img)
    }

    @Test(arguments: RandAugment.Op.allCases)
    func strongerMagnitudesChangeTheImage(op: RandAugment.Op) {
        guard ![.autoContrast, .equalize].contains(op) else { return }  // no magnitude; may be no-ops on some images
        var changed = 0
        for i in 0..<8 where run(op, 9, Self.image(i), seed: UInt64(i)) != Self.image(i) { changed += 1 }
        #expect(changed >= 5, "\(op) left \(8 - changed) of 8 images unchanged at M=9")
    }

    @Test func officialMagnitudeMapping() {
        let ra = RandAugment()
        #expect(ra.argument(.rotate, magnitude: 5) == 15)
        #expect(ra.argument(.rotate, magnitude: 10) == 30)
        #expect(ra.argument(.rotate, magnitude: 20) == 60)   // extrapolates above 10
        #expect(ra.argument(.posterize, magnitude: 5) == 2)
        #expect(ra.argument(.solarize, magnitude: 5) == 128)
        #expect(ra.argument(.solarizeAdd, magnitude: 5) == 55)
        #expect(abs(ra.argument(.color, magnitude: 5) - 1.0) < 1e-6)
        #expect(abs(ra.argument(.shearX, magnitude: 5) - 0.15) < 1e-6)
        #expect(ra.argument(.translateX, magnitude: 5) == 2)  // 32/8 * 5/10
        #expect(ra.argument(.cutout, magnitude: 5) == 2)
        #expect(RandAugment.Op.allCases.count == 16)
    }

    @Test func rotate90IsAnExactCounterClockwiseTurn() {
        let img = Self.image(3)
        var out = img, tmp = img
        out.withUnsafeMutableBufferPointer { o in tmp.withUnsafeMutableBufferPointer { t in
            PixelOps.rotate(o, tmp: t, height: 32, width: 32, channels: 3, degrees: 90, fill: 128)
        } }
        for y in 0..<32 { for x in 0..<32 { for c in 0..<3 {
            #expect(out[(y * 32 + x) * 3 + c] == img[(x * 32 + (31 - y)) * 3 + c])
        } } }
    }

    @Test func translateShiftsAndFillsGrey() {
        let img = Self.image(4)
        var out = img, tmp = img
        out.withUnsafeMutableBufferPointer { o in tmp.withUnsafeMutableBufferPointer { t in
            PixelOps.translateX(o, tmp: t, height: 32, width: 32, channels: 3, pixels: 4, fill: 128)
        } }
        for y in 0..<32 { for x in 0..<32 { for c in 0..<3 {
            let expected = x + 4 < 32 ? img[(y * 32 + x + 4) * 3 + c] : 128
            #expect(out[(y * 32 + x) * 3 + c] == expected)
        } } }
    }

    @Test func pixelOpValues() {
        var a: [UInt8] = [0, 63, 64, 127, 128, 200, 255, 1, 2]
        a.withUnsafeMutableBufferPointer { PixelOps.posterize($0, bits: 2) }
        #expect(a == [0, 0, 64, 64, 128, 192, 192, 0, 0])
        var s: [UInt8] = [0, 127, 128, 255]
        s.withUnsafeMutableBufferPointer { PixelOps.solarize($0, threshold: 128) }
        #expect(s == [0, 127, 127, 0])
        var sa: [UInt8] = [0, 100, 127, 128, 250]
        sa.withUnsafeMutableBufferPointer { PixelOps.solarizeAdd($0, addition: 50) }
        #expect(sa == [50, 150, 177, 128, 250])
        var ac: [UInt8] = [10, 20, 30, 50, 60, 70]  // two pixels x 3 channels
        ac.withUnsafeMutableBufferPointer { PixelOps.autoContrast($0, channels: 3) }
        #expect(ac == [0, 0, 0, 255, 255, 255])
        #expect(PixelOps.blend(100, 200, 0.5) == 150)
        #expect(PixelOps.blend(100, 200, 2) == 255)
        #expect(PixelOps.blend(100, 200, 0) == 100)
    }

    @Test func studentNoiseIsSeededAndKeepsShape() {
        let noise = StudentNoise()
        var scratch = StudentNoise.Scratch()
        let img = Self.image(5)
        func once(_ seed: UInt64) -> [UInt8] {
            var out = [UInt8](repeating: 0, count: img.count)
            var rng = StudentNoise.imageGenerator(seed: seed, batch: 3, index: 7)
            img.withUnsafeBufferPointer { s in out.withUnsafeMutableBufferPointer { o in
                noise.apply(s, into: o, height: 32, width: 32, channels: 3, rng: &rng, scratch: &scratch)
            } }
            return out
        }
        #expect(once(1) == once(1))
        #expect(once(1) != once(2))
        // Without RandAugment, Cutout and crop the pipeline is the identity.
        let none = StudentNoise(randAugment: nil, cutoutPad: 0, cropPad: 0)
        var out = [UInt8](repeating: 0, count: img.count)
        var rng = SeededGenerator(seed: 1)
        img.withUnsafeBufferPointer { s in out.withUnsafeMutableBufferPointer { o in
            none.apply(s, into: o, height: 32, width: 32, channels: 3, rng: &rng, scratch: &scratch)
        } }
        #expect(out == img)
    }

    @Test func padCropIsAReflectedShift() {
        let img = Self.image(6)
        var out = img, tmp = img
        out.withUnsafeMutableBufferPointer { o in tmp.withUnsafeMutableBufferPointer { t in
            PixelOps.padCrop(o, tmp: t, height: 32, width: 32, channels: 3, pad: 4, offsetY: 0, offsetX: 8)
        } }
        // Row shift of -4 (reflected at the top), column shift of +4 (reflected at the right).
        for y in 0..<32 { for x in 0..<32 {
            var sy = y - 4; if sy < 0 { sy = -sy }
            var sx = x + 4; if sx > 31 { sx = 62 - sx }
            #expect(out[(y * 32 + x) * 3] == img[(sy * 32 + sx) * 3])
        } }
    }

    @Test func greyscaleImagesWork() {
        let g = [UInt8]((0..<(28 * 28)).map { UInt8($0 % 256) })
        for op in RandAugment.Op.allCases {
            var rng = SeededGenerator(seed: 3)
            let out = RandAugment.apply(op, magnitude: 7, to: g, height: 28, width: 28, channels: 1, rng: &rng)
            #expect(out.count == g.count)
        }
    }
}
