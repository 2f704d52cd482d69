import CKernels
import Foundation
import Testing
@testable import Engine
import Randomness

/// Winograd F(4x4, 3x3) (forward, input and weight gradients of 3x3 stride-1 convolutions) on every vector path this CPU runs, against the Double reference and the direct
/// kernels; its determinism (repeat, thread count, vector width).
@Suite(.serialized) struct WinogradTests {
    /// (batch, height, width, cin, cout, padding): 3x3 stride 1.
    typealias Case = (Int, Int, Int, Int, Int, Int)

    static let cases: [Case] = [
        (1, 1, 1, 16, 16, 1),      // one pixel: a single tile, 15 of its 16 outputs past the edge
        (2, 2, 2, 16, 7, 1),       // one tile; cout below a vector (masked)
        (1, 5, 7, 32, 20, 1),      // odd height and width (partial tiles), cout 16 + 4
        (3, 8, 8, 64, 64, 1),      // 8x8 stage: images grouped into one tile block
        (2, 9, 6, 16, 33, 1),      // cout 33: masked last vector at both widths
        (1, 6, 5, 128, 10, 1),     // widest input tile
        (2, 7, 7, 16, 32, 0),      // no padding (5x5 out); the input gradient pads by 2
        (1, 3, 4, 20, 16, 1),      // cin 20 has no tile: forward direct, input gradient Winograd (cout 16)
        (2, 32, 32, 16, 16, 1),    // 32x32 stage: several tile blocks per image
        (1, 16, 16, 32, 64, 1),
        (1, 4, 4, 16, 16, 2),      // padding 2 (6x6 out)
        (2, 10, 11, 32, 24, 1),    // 4x4 tiles: 2 and 3 rows/columns of the last ones past the edge
    ]

    /// The vector paths this CPU runs (Winograd has none on the portable path).
    static let isas: [ck_isa_t] = [CK_ISA_AVX512, CK_ISA_AVX2].filter { ck_isa_supported(Int32(bitPattern: $0.rawValue)) != 0 }

    static func geometry(_ c: Case) -> ConvGeometry {
        ConvGeometry(batch: c.0, height: c.1, width: c.2, inChannels: c.3, outChannels: c.4, kernel: 3, stride: 1,
                     padding: c.5, groups: 1)
    }

    static func inputs(_ g: ConvGeometry, seed: UInt64) -> (x: [Float], w: [Float], dy: [Float]) {
        var rng = SeededGenerator(seed: seed)
        return (KernelTests.random(g.inputShape.reduce(1, *), &rng), KernelTests.random(g.weightShape.reduce(1, *), &rng),
                KernelTests.random(g.outputShape.reduce(1, *), &rng))
    }

    @Test func supportedGeometries() {
        for isa in Self.isas {
            let i = Int32(bitPattern: isa.rawValue)
            let g = Self.geometry((2, 8, 8, 32, 48, 1))
            #expect(ConvKernels.winograd(ConvKernels.cGeometry(g, isa: i), .winogradOn(isa)))
            #expect(ConvKernels.winograd(ConvKernels.transposedGeometry(g, isa: i), .winogradOn(isa)) == false,
                    "the input gradient has cin 48: no tile")
            #expect(!ConvKernels.winograd(ConvKernels.cGeometry(g, isa: i), .directOn(isa)))
            let strided = ConvGeometry(batch: 1, height: 8, width: 8, inChannels: 16, outChannels: 16, kernel: 3, stride: 2,
                                       padding: 1, groups: 1)
            #expect(!ConvKernels.winograd(ConvKernels.cGeometry(strided, isa: i), .winogradOn(isa)))
            let fiveByFive = ConvGeometry(batch: 1, height: 8, width: 8, inChannels: 16, outChannels: 16, kernel: 5, stride: 1,
                                          padding: 2, groups: 1)
            #expect(!ConvKernels.winograd(ConvKernels.cGeometry(fiveByFive, isa: i), .winogradOn(isa)))
        }
        let portable = ConvKernels.cGeometry(Self.geometry((1, 8, 8, 16, 16, 1)), isa: Int32(bitPattern: CK_ISA_PORTABLE.rawValue))
        #expect(!ConvKernels.winograd(portable, .winogradOn(CK_ISA_PORTABLE)))
    }

    /// Forward, input and weight gradients within 1e-4 (relative to the largest value) of the
    /// Double reference, and of the direct kernels on the same path.
    @Test(arguments: cases)
    func matchesTheReferenceAndTheDirectKernels(_ c: Case) {
        let g = Self.geometry(c)
        let (x, w, dy) = Self.inputs(g, seed: UInt64(c.1 * 100 + c.3 + c.4))
        let ref = KernelTests.reference(g, x: x, w: w, dy: dy)
        for isa in Self.isas {
            let got = KernelTests.run(g, x: x, w: w, dy: dy, path: .winogradOn(isa))
            let direct = KernelTests.run(g, x: x, w: w, dy: dy, path: .directOn(isa))
            let ey = KernelTests.maxError(got.y, ref.y), edx = KernelTests.maxError(got.dx, ref.dx)
            let edw = KernelTests.maxError(got.dw, ref.dw)
            print("winograd \(c) \(ConvKernels.Path.winogradOn(isa)): forward \(ey), input gradient \(edx), weight gradient \(edw) (relative to the reference's largest value)")
            #expect(ey < 1e-4, "forward \(c) \(isa)")
            #expect(edx < 1e-4, "input gradient \(c) \(isa)")
            #expect(KernelTests.maxError(got.y, direct.y) < 1e-4, "forward against direct \(c) \(isa)")
            #expect(KernelTests.maxError(got.dx, direct.dx) < 1e-4, "input gradient against direct \(c) \(isa)")
            #expect(edw < 1e-4, "weight gradient \(c) \(isa)")
            #expect(KernelTests.maxError(got.dw, direct.dw) < 1e-4, "weight gradient against direct \(c) \(isa)")
        }
    }

    /// The epilogue (scale, shift, residual, ReLU) as the direct kernels apply it.
    @Test func appliesTheEpilogue() {
        let g = Self.geometry((3, 8, 8, 64, 32, 1))
        var rng = SeededGenerator(seed: 5)
        let (x, w, _) = Self.inputs(g, seed: 6)
        let a = KernelTests.random(32, &rng), b = KernelTests.random(32, &rng)
        let skip = KernelTests.random(g.outputShape.reduce(1, *), &rng)
        func forward(_ path: ConvKernels.Path) -> [Float] {
            var y = [Float](repeating: .nan, count: g.outputShape.reduce(1, *))
            x.withUnsafeBufferPointer { xp in w.withUnsafeBufferPointer { wp in a.withUnsafeBufferPointer { ap in
                b.withUnsafeBufferPointer { bp in skip.withUnsafeBufferPointer { sp in y.withUnsafeMutableBufferPointer { yp in
                    var e = ck_epilogue(a: ap.baseAddress, b: bp.baseAddress, skip: sp.baseAddress, relu: 1, moments: nil, image_rows: 0)
                    ConvKernels.forward(g, x: xp.baseAddress!, w: wp.baseAddress!, y: yp.baseAddress!, path: path, epilogue: &e)
                } } }
            } } }
            return y
        }
        for isa in Self.isas {
            let got = forward(.winogradOn(isa)), want = forward(.directOn(isa))
            #expect(KernelTests.maxError(got, want) < 1e-4, "\(isa)")
            #expect(got.contains(0) && got.contains { $0 > 0 }, "the ReLU clips some outputs and keeps others")
        }
    }

    /// The same call twice, 1 or 2 threads, AVX-512 or AVX2: the same bits.
    @Test(arguments: cases)
    func isDeterministic(_ c: Case) {
        let g = Self.geometry(c)
        let (x, w, dy) = Self.inputs(g, seed: 9)
        var results: [(y: [Float], dx: [Float], dw: [Float])] = []
        for isa in Self.isas {
            for threads in [1, 2, 2] {
                Parallelism.threads = threads
                results.append(KernelTests.run(g, x: x, w: w, dy: dy, path: .winogradOn(isa)))
            }
        }
        Parallelism.threads = 1
        for r in results.dropFirst() {
            #expect(r.y == results[0].y && r.dx == results[0].dx && r.dw == results[0].dw, "\(c)")
        }
    }
}
