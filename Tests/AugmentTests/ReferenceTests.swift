import Foundation
import Testing
import Randomness
@testable import Augment
import Datasets

/// Deterministic corruptions compared with make_cifar_c's own code run through NumPy/SciPy
/// (the functions below are the published ones, minus the PIL/OpenCV parts we cannot import).
@Suite struct ReferenceTests {
    static let image = Array(SyntheticHouseNumbers().generate(count: 1, seed: 77).image(0))

    static func python(_ body: String, input: [UInt8]) throws -> [UInt8] {
        let dir = NSTemporaryDirectory() + "ref-\(getpid())-\(UUID().uuidString)"
        try Data(input).write(to: URL(fileURLWithPath: dir + ".in"))
        let script = """
        import numpy as np
        from scipy.ndimage import zoom as scizoom
        x = np.frombuffer(open('\(dir).in', 'rb').read(), dtype=np.uint8).reshape(32, 32, 3)
        def clipped_zoom(img, zoom_factor):
            h = img.shape[0]
            ch = int(np.ceil(h / zoom_factor))
            top = (h - ch) // 2
            img = scizoom(img[top:top + ch, top:top + ch], (zoom_factor, zoom_factor, 1), order=1)
            trim_top = (img.shape[0] - h) // 2
            return img[trim_top:trim_top + h, trim_top:trim_top + h]
        out = []
        \(body)
        open('\(dir).out', 'wb').write(np.concatenate([np.uint8(o).reshape(-1) for o in out]).tobytes())
        """
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", script]
        try p.run()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
        return try [UInt8](Data(contentsOf: URL(fileURLWithPath: dir + ".out")))
    }

    func compare(_ c: Corruption, reference: [UInt8], tolerance: Int) {
        for s in 1...5 {
            var rng = SeededGenerator(seed: 1)
            let ours = c.apply(Self.image, height: 32, width: 32, severity: s, rng: &rng)
            let theirs = reference[((s - 1) * 3072)..<(s * 3072)]
            let worst = zip(ours, theirs).map { abs(Int($0) - Int($1)) }.max() ?? 0
            #expect(worst <= tolerance, "\(c) severity \(s): largest difference \(worst)")
        }
    }

    @Test func zoomBlurMatchesSciPy() throws {
        let ref = try Self.python("""
        for c in [np.arange(1, 1.06, 0.01), np.arange(1, 1.11, 0.01), np.arange(1, 1.16, 0.01), np.arange(1, 1.21, 0.01), np.arange(1, 1.26, 0.01)]:
                xx = (np.array(x) / 255.).astype(np.float32)
                o = np.zeros_like(xx)
                for z in c:
                    o += clipped_zoom(xx, z)
                xx = (xx + o) / (len(c) + 1)
                out.append(np.clip(xx, 0, 1) * 255)
        """, input: Self.image)
        // Float32 accumulation order and truncation to bytes: off by one at most.
        compare(.zoomBlur, reference: ref, tolerance: 1)
    }

    @Test func contrastMatchesNumPy() throws {
        let ref = try Self.python("""
        for c in [.75, .5, .4, .3, 0.15]:
                xx = np.array(x) / 255.
                means = np.mean(xx, axis=(0, 1), keepdims=True)
                out.append(np.clip((xx - means) * c + means, 0, 1) * 255)
        """, input: Self.image)
        compare(.contrast, reference: ref, tolerance: 1)
    }

    @Test func gaussianFilterMatchesSciPy() throws {
        // skimage's gaussian is scipy.ndimage.gaussian_filter per channel; glass blur uses mode
        // "nearest" with truncate 4, elastic uses "reflect" with truncate 3.
        let ref = try Self.python("""
        from scipy.ndimage import gaussian_filter
        xx = np.array(x) / 255.
        for sigma, mode, trunc in [(0.4, 'nearest', 4.0), (1.0, 'nearest', 4.0), (1.9, 'reflect', 3.0)]:
                o = np.stack([gaussian_filter(xx[:, :, k], sigma, mode=mode, truncate=trunc) for k in range(3)], axis=2)
                out.append(np.round(o * 255))
        """, input: Self.image)
        let img = FloatImage(bytes: Self.image, h: 32, w: 32, c: 3)
        let cases: [(Float, Float, Border)] = [(0.4, 4, .nearest), (1.0, 4, .nearest), (1.9, 3, .symmetric)]
        for (k, (sigma, truncate, border)) in cases.enumerated() {
            let ours = Filters.gaussian(img, sigma: sigma, truncate: truncate, border: border).bytesRounded()
            let worst = zip(ours, ref[(k * 3072)..<((k + 1) * 3072)]).map { abs(Int($0) - Int($1)) }.max() ?? 0
            #expect(worst <= 1, "sigma \(sigma): largest difference \(worst)")
        }
    }
}
