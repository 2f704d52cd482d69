import Testing
import Randomness
@testable import Augment
import Datasets

@Suite struct CorruptionTests {
    static let images = SyntheticHouseNumbers().generate(count: 12, seed: 21)

    static func meanAbsDiff(_ c: Corruption, severity: Int) -> Double {
        var total = 0.0
        for i in 0..<images.count {
            var rng = SeededGenerator(seed: UInt64(100 + i))
            let clean = Array(images.image(i))
            let out = c.apply(clean, height: 32, width: 32, severity: severity, rng: &rng)
            total += zip(clean, out).reduce(0.0) { $0 + abs(Double($1.0) - Double($1.1)) } / Double(clean.count)
        }
        return total / Double(images.count)
    }

    @Test(arguments: Corruption.allCases)
    func deterministicUnderASeed(c: Corruption) {
        let img = Array(Self.images.image(0))
        for s in 1...5 {
            var a = SeededGenerator(seed: 9), b = SeededGenerator(seed: 9)
            let x = c.apply(img, height: 32, width: 32, severity: s, rng: &a)
            let y = c.apply(img, height: 32, width: 32, severity: s, rng: &b)
            #expect(x == y)
            #expect(x.count == img.count)
        }
    }

    /// Distortion (mean absolute difference to the clean image) grows with severity. Elastic
    /// is the documented exception: CIFAR-10-C trades its affine part against its smooth
    /// displacement across severities, so only "clearly distorted at every severity" is checked.
    @Test(arguments: Corruption.allCases)
    func distortionGrowsWithSeverity(c: Corruption) {
        let d = (1...5).map { Self.meanAbsDiff(c, severity: $0) }
        if c == .elasticTransform {
            #expect(d.allSatisfy { $0 > 1 }, "\(c): \(d)")
            return
        }
        #expect(d[0] > 0.2, "\(c) at severity 1 barely changes the image: \(d)")
        #expect(d[4] > d[0] * 1.05, "\(c): \(d)")
        for s in 1..<5 { #expect(d[s] >= d[s - 1] * 0.9, "\(c) severity \(s + 1) vs \(s): \(d)") }
    }

    @Test func wholeSetIsThreadIndependent() {
        let a = Corruption.gaussianNoise.apply(to: Self.images, severity: 3, seed: 4, threads: 1)
        let b = Corruption.gaussianNoise.apply(to: Self.images, severity: 3, seed: 4, threads: 2)
        #expect(a == b)
        #expect(a.labels == Self.images.labels)
    }

    @Test func jpegRoundTripIsCloseAtHighQuality() {
        let img = Array(Self.images.image(1))
        let q95 = JPEG.roundTrip(img, height: 32, width: 32, quality: 95)
        let q10 = JPEG.roundTrip(img, height: 32, width: 32, quality: 10)
        func mad(_ o: [UInt8]) -> Double { zip(img, o).reduce(0.0) { $0 + abs(Double($1.0) - Double($1.1)) } / Double(img.count) }
        #expect(mad(q95) < 8)
        #expect(mad(q10) > mad(q95))
    }

    @Test func helperSemantics() {
        #expect(borderIndex(-1, 5, .reflect101) == 1 && borderIndex(5, 5, .reflect101) == 3)
        #expect(borderIndex(-1, 5, .symmetric) == 0 && borderIndex(5, 5, .symmetric) == 4)
        #expect(borderIndex(-3, 5, .nearest) == 0)
        let (h, s, v) = Filters.rgbToHSV(0.2, 0.4, 0.8)
        let (r, g, b) = Filters.hsvToRGB(h, s, v)
        #expect(abs(r - 0.2) < 1e-5 && abs(g - 0.4) < 1e-5 && abs(b - 0.8) < 1e-5)
        var rng = SeededGenerator(seed: 1)
        for lambda: Float in [3, 50, 400] {
            let n = 4000
            var sum: Float = 0, sq: Float = 0
            for _ in 0..<n { let k = Filters.poisson(lambda, &rng); sum += k; sq += k * k }
            let mean = sum / Float(n), variance = sq / Float(n) - mean * mean
            #expect(abs(mean - lambda) < 0.1 * lambda && abs(variance - lambda) < 0.2 * lambda, "lambda \(lambda)")
        }
        let disk = Filters.disk(radius: 1.5, aliasBlur: 0.1)
        #expect(abs(disk.joined().reduce(0, +) - 1) < 1e-4)
        let plasma = Filters.plasmaFractal(mapSize: 32, wibbleDecay: 3, rng: &rng)
        #expect(plasma.min() == 0 && plasma.max() == 1)
    }
}

@Suite struct ExtremeImageTests {
    static let extremes: [[UInt8]] = [
        [UInt8](repeating: 0, count: 3072),
        [UInt8](repeating: 255, count: 3072),
        (0..<3072).map { UInt8(($0 / 3) % 2 * 255) },  // checkerboard columns
    ]

    @Test func corruptionsHandleFlatAndSaturatedImages() {
        for img in Self.extremes {
            for c in Corruption.allCases {
                for s in [1, 5] {
                    var rng = SeededGenerator(seed: 3)
                    #expect(c.apply(img, height: 32, width: 32, severity: s, rng: &rng).count == 3072)
                }
            }
        }
    }

    @Test func opsHandleFlatAndSaturatedImages() {
        for img in Self.extremes {
            for op in RandAugment.Op.allCases {
                for m: Float in [0, 5, 10, 30] {
                    var rng = SeededGenerator(seed: 3)
                    #expect(RandAugment.apply(op, magnitude: m, to: img, height: 32, width: 32, channels: 3, rng: &rng).count == 3072)
                }
            }
        }
    }

    @Test func corruptionsWorkOnOtherSizes() {
        // Fashion-MNIST expanded to RGB is 28x28: the parameters are CIFAR's, the code is size-agnostic.
        let img = (0..<(28 * 28 * 3)).map { UInt8($0 % 251) }
        for c in Corruption.allCases {
            var rng = SeededGenerator(seed: 1)
            #expect(c.apply(img, height: 28, width: 28, severity: 3, rng: &rng).count == img.count)
        }
    }
}

@Suite struct ZoomFactorTests {
    @Test func zoomBlurUsesNumPysArangeLengths() {
        // Same lengths as np.arange(1, m, 0.01) for m in 1.06 ... 1.26.
        #expect((1...5).map { Corruption.zoomFactors(severity: $0).count } == [7, 12, 16, 21, 26])
        #expect(Corruption.zoomFactors(severity: 1).first == 1)
        #expect(abs((Corruption.zoomFactors(severity: 5).last ?? 0) - 1.25) < 1e-6)
    }
}
