import CKernels
import Foundation
import Testing
@testable import Engine
import Randomness

/// The fast convolution kernels (direct on every kernel path the CPU runs: AVX-512, AVX2,
/// portable; im2col + sgemm, depthwise, grouped) against a naive reference, on many geometries;
/// the vector paths against each other; and determinism across thread counts.
@Suite(.serialized) struct KernelTests {
    /// (batch, height, width, cin, cout, kernel, stride, padding (-1: SAME), groups)
    typealias Case = (Int, Int, Int, Int, Int, Int, Int, Int, Int)

    static let cases: [Case] = [
        (2, 7, 6, 3, 16, 3, 1, 1, 1),      // stem-like, odd sizes
        (1, 9, 9, 16, 32, 3, 2, 1, 1),     // stride 2, batch 1
        (3, 8, 8, 32, 64, 1, 2, 0, 1),     // 1x1 stride-2 shortcut
        (2, 5, 7, 5, 7, 3, 1, -1, 1),      // odd channels (masked vectors), SAME
        (2, 6, 6, 17, 33, 3, 2, -1, 1),    // SAME with stride 2 (asymmetric padding)
        (1, 11, 13, 16, 16, 3, 1, 1, 1),
        (2, 4, 4, 70, 80, 1, 1, 0, 1),     // pointwise, several channel blocks
        (1, 8, 8, 130, 140, 1, 1, 0, 1),   // big pointwise (sgemm)
        (2, 32, 32, 16, 16, 3, 1, 1, 1),   // full-width tiles
        (2, 16, 16, 32, 32, 3, 1, 1, 1),
        (2, 8, 8, 64, 64, 3, 1, 1, 1),
        (1, 16, 16, 16, 32, 3, 2, 1, 1),
        (2, 5, 5, 4, 4, 5, 1, 2, 1),       // kernel as large as the image
        (1, 3, 3, 2, 3, 3, 2, 1, 1),
        (2, 6, 5, 3, 20, 3, 1, 0, 1),      // no padding
        (2, 8, 8, 16, 16, 3, 1, 1, 16),    // depthwise 3x3
        (2, 9, 9, 24, 24, 5, 2, -1, 24),   // depthwise 5x5 stride 2
        (1, 7, 7, 8, 8, 5, 1, -1, 8),      // depthwise 5x5
        (2, 6, 6, 8, 12, 3, 1, 1, 4),      // grouped
        (1, 5, 5, 6, 6, 3, 2, 1, 2),       // grouped stride 2
        (2, 8, 8, 16, 32, 3, 2, -1, 1),    // padded NHWC copy, SAME stride 2 (bottom/right only)
        (1, 6, 7, 32, 16, 5, 1, -1, 1),    // padded NHWC copy, 5x5, more padding than one column
        (2, 7, 9, 16, 48, 3, 1, 1, 1),     // packed weights, a short last 32-channel block
        (1, 6, 6, 128, 40, 2, 1, 0, 1),    // packed weights, 2x2 column sharing
        (2, 6, 6, 24, 32, 3, 1, 1, 1),     // input gradient through packed 32-channel weights
        (2, 9, 10, 32, 20, 3, 1, 1, 1),    // a masked last block at both vector widths (16 + 4, 20)
    ]

    /// The direct kernels on each path this CPU runs (vector paths first).
    static let directPaths: [ConvKernels.Path] = [CK_ISA_AVX512, CK_ISA_AVX2, CK_ISA_PORTABLE]
        .filter { ck_isa_supported(Int32(bitPattern: $0.rawValue)) != 0 }
        .map { ConvKernels.Path.directOn($0) }

    static func random(_ n: Int, _ rng: inout SeededGenerator) -> [Float] {
        (0..<n).map { _ in rng.normal() }
    }

    static func geometry(_ c: Case) -> ConvGeometry {
        ConvGeometry(batch: c.0, height: c.1, width: c.2, inChannels: c.3, outChannels: c.4, kernel: c.5,
                     stride: c.6, padding: c.7 < 0 ? nil : c.7, groups: c.8)
    }

    /// Naive reference: the definition of the convolution, in Double.
    static func reference(_ g: ConvGeometry, x: [Float], w: [Float], dy: [Float]) -> (y: [Float], dx: [Float], dw: [Float]) {
        var y = [Double](repeating: 0, count: g.outputShape.reduce(1, *))
        var dx = [Double](repeating: 0, count: x.count), dw = [Double](repeating: 0, count: w.count)
        let ipg = g.inPerGroup, opg = g.outPerGroup
        for n in 0..<g.batch { for oy in 0..<g.outHeight { for ox in 0..<g.outWidth { for co in 0..<g.outChannels {
            let o = ((n * g.outHeight + oy) * g.outWidth + ox) * g.outChannels + co
            let grp = co / opg
            for ky in 0..<g.kernelH { for kx in 0..<g.kernelW {
                let iy = oy * g.strideH - g.padTop + ky, ix = ox * g.strideW - g.padLeft + kx
                guard iy >= 0, iy < g.height, ix >= 0, ix < g.width else { continue }
                for ci in 0..<ipg {
                    let xi = ((n * g.height + iy) * g.width + ix) * g.inChannels + grp * ipg + ci
                    let wi = ((ky * g.kernelW + kx) * ipg + ci) * g.outChannels + co
                    y[o] += Double(x[xi]) * Double(w[wi])
                    dx[xi] += Double(dy[o]) * Double(w[wi])
                    dw[wi] += Double(dy[o]) * Double(x[xi])
                }
            } }
        } } } }
        return (y.map(Float.init), dx.map(Float.init), dw.map(Float.init))
    }

    static func run(_ g: ConvGeometry, x: [Float], w: [Float], dy: [Float], path: ConvKernels.Path)
        -> (y: [Float], dx: [Float], dw: [Float]) {
        var y = [Float](repeating: .nan, count: g.outputShape.reduce(1, *))
        var dx = [Float](repeating: .nan, count: x.count)
        var dw = [Float](repeating: 0.5, count: w.count)  // backwardWeight accumulates
        x.withUnsafeBufferPointer { xp in w.withUnsafeBufferPointer { wp in dy.withUnsafeBufferPointer { dyp in
            y.withUnsafeMutableBufferPointer { ConvKernels.forward(g, x: xp.baseAddress!, w: wp.baseAddress!, y: $0.baseAddress!, path: path) }
            dx.withUnsafeMutableBufferPointer { ConvKernels.backwardInput(g, dy: dyp.baseAddress!, w: wp.baseAddress!, dx: $0.baseAddress!, path: path) }
            dw.withUnsafeMutableBufferPointer { ConvKernels.backwardWeight(g, x: xp.baseAddress!, dy: dyp.baseAddress!, dw: $0.baseAddress!, path: path) }
        } } }
        return (y, dx, dw.map { $0 - 0.5 })
    }

    static func maxError(_ a: [Float], _ b: [Float]) -> Float {
        precondition(a.count == b.count)
        var worst: Float = 0, scale: Float = 1
        for i in 0..<a.count { scale = max(scale, abs(b[i])) }
        for i in 0..<a.count {
            let e = abs(a[i] - b[i])
            worst = max(worst, e.isNaN ? .infinity : e)
        }
        return worst / scale
    }

    @Test func threadCountDefaultsToTheBLASBudget() {
        #expect(Parallelism.defaultThreads(environment: ["OPENBLAS_NUM_THREADS": "1"]) == 1)
        #expect(Parallelism.defaultThreads(environment: ["OPENBLAS_NUM_THREADS": "3"]) == 3)
        let cores = max(1, ProcessInfo.processInfo.activeProcessorCount)
        #expect(Parallelism.defaultThreads(environment: ["OPENBLAS_NUM_THREADS": "lots"]) == cores)
        #expect(Parallelism.defaultThreads(environment: [:]) == cores)
    }

    @Test(arguments: cases)
    func convolutionMatchesTheReference(_ c: Case) {
        let g = Self.geometry(c)
        var rng = SeededGenerator(seed: UInt64(c.0 * 1000 + c.1 * 100 + c.3 + c.4 + c.5))
        let x = Self.random(g.inputShape.reduce(1, *), &rng)
        let w = Self.random(g.weightShape.reduce(1, *), &rng)
        let dy = Self.random(g.outputShape.reduce(1, *), &rng)
        let ref = Self.reference(g, x: x, w: w, dy: dy)
        for path in [ConvKernels.Path.automatic, .gemm, .direct] + Self.directPaths {
            for threads in [1, 2] {
                Parallelism.threads = threads
                let got = Self.run(g, x: x, w: w, dy: dy, path: path)
                #expect(Self.maxError(got.y, ref.y) < 1e-4, "forward \(c) \(path) threads \(threads)")
                #expect(Self.maxError(got.dx, ref.dx) < 1e-4, "input gradient \(c) \(path) threads \(threads)")
                #expect(Self.maxError(got.dw, ref.dw) < 1e-4, "weight gradient \(c) \(path) threads \(threads)")
            }
        }
        Parallelism.threads = 1
    }

    /// The AVX2 kernels (8-wide) compute every output element in the AVX-512 ones' (16-wide)
    /// order of operations, so the two give the same bits: forward, input and weight gradients.
    @Test(arguments: cases)
    func vectorPathsGiveTheSameBits(_ c: Case) {
        let vector = Self.directPaths.filter { $0.isa != Int32(bitPattern: CK_ISA_PORTABLE.rawValue) }
        guard vector.count == 2 else { return }  // a CPU without AVX-512 has one vector path
        let g = Self.geometry(c)
        var rng = SeededGenerator(seed: 11)
        let x = Self.random(g.inputShape.reduce(1, *), &rng)
        let w = Self.random(g.weightShape.reduce(1, *), &rng)
        let dy = Self.random(g.outputShape.reduce(1, *), &rng)
        let a = Self.run(g, x: x, w: w, dy: dy, path: vector[0])
        let b = Self.run(g, x: x, w: w, dy: dy, path: vector[1])
        #expect(a.y == b.y, "forward \(c)")
        #expect(a.dx == b.dx, "input gradient \(c)")
        #expect(a.dw == b.dw, "weight gradient \(c)")
    }

    /// Same inputs, 1 or 2 threads: bit-identical outputs and gradients.
    @Test func convolutionIsDeterministicAcrossThreadCounts() {
        for c in Self.cases {
            let g = Self.geometry(c)
            var rng = SeededGenerator(seed: 3)
            let x = Self.random(g.inputShape.reduce(1, *), &rng)
            let w = Self.random(g.weightShape.reduce(1, *), &rng)
            let dy = Self.random(g.outputShape.reduce(1, *), &rng)
            Parallelism.threads = 1
            let one = Self.run(g, x: x, w: w, dy: dy, path: .automatic)
            Parallelism.threads = 2
            let two = Self.run(g, x: x, w: w, dy: dy, path: .automatic)
            Parallelism.threads = 1
            #expect(one.y == two.y && one.dx == two.dx && one.dw == two.dw, "\(c)")
        }
    }

    /// Training steps of a small ResNet and EfficientNet (all kernels: direct conv, depthwise,
    /// batch norm, swish, ReLU, linear) give bit-identical weights on 1 and 2 threads.
    @Test func trainingIsBitIdenticalAcrossThreadCounts() {
        func train(threads: Int, spec: ModelSpec) -> [[Float]] {
            Parallelism.threads = threads
            defer { Parallelism.threads = 1 }
            var rng = SeededGenerator(seed: 21)
            let model = spec.build(rng: &rng)
            var x = Tensor(zeros: [6, 16, 16, 3])
            for i in 0..<x.count { x.scalars[i] = rng.normal() }
            let labels = (0..<6).map { _ in rng.int(below: 10) }
            var opt = SGD(momentum: 0.9, nesterov: true, weightDecay: 5e-4)
            for step in 0..<3 {
                model.zeroGradients()
                let ctx = ForwardContext(training: true, rng: SeededGenerator(seed: UInt64(step)))
                softmaxCrossEntropy(logits: model(Variable(x), ctx), labels: labels).backward()
                opt.step(model.parameters, learningRate: 0.05)
            }
            return model.parameters.map { $0.value.scalars }
        }
        for spec in [ModelSpec.resnet(depth: 8, width: 16), .efficientNet(width: 0.25, depth: 0.25)] {
            #expect(train(threads: 1, spec: spec) == train(threads: 2, spec: spec), "\(spec)")
        }
    }
}
