import Testing
@testable import Engine
import Randomness
import CKernels

/// A training batch norm's statistics: taken by the convolution before it (`ConvEpilogue.moments`,
/// image by image as the output is stored) they equal those taken from the stored tensor, on every
/// convolution path; and the one-pass sums of x and x² keep float precision far from zero.
@Suite struct BatchMomentsTests {
    /// (kernel, stride, cin, cout, groups): direct kernels at 16 and 32 channels (32 x 32 runs
    /// Winograd in training), stride 2, a wide 1x1 (direct in a forward pass), depthwise (the
    /// epilogue pass after an undirected convolution), odd channel counts. The sgemm and grouped
    /// paths, which `conv2d` takes only when configured to, are in the next test.
    @Test(arguments: [
        (3, 1, 16, 16, 1), (3, 1, 32, 32, 1), (3, 2, 16, 32, 1), (1, 1, 128, 128, 1), (3, 1, 8, 8, 8), (3, 1, 5, 7, 1),
    ])
    func convolutionTakesTheBatchNormMoments(_ c: (Int, Int, Int, Int, Int)) {
        let (k, s, cin, cout, groups) = c
        var rng = SeededGenerator(seed: 21)
        let x = GradientCheck.random([3, 8, 8, cin], &rng), w = GradientCheck.random([k, k, cin / groups, cout], &rng, scale: 0.3)
        let gamma = GradientCheck.random([cout], &rng), beta = GradientCheck.random([cout], &rng)
        let oh = (8 + 2 * (k / 2) - k) / s + 1
        let skip = GradientCheck.random([3, oh, oh, cout], &rng), seed = GradientCheck.random([3, oh, oh, cout], &rng)
        for (relu, add) in [(false, false), (true, false), (true, true)] {
            func run(fused: Bool) -> [[Float]] {
                let xv = Variable(x, requiresGrad: true), wv = Variable(w, requiresGrad: true)
                let gv = Variable(gamma, requiresGrad: true), bv = Variable(beta, requiresGrad: true)
                let sv = Variable(skip, requiresGrad: true)
                let mean = Parameter(Tensor(repeating: 0.2, shape: [cout]), trainable: false)
                let variance = Parameter(Tensor(repeating: 1.5, shape: [cout]), trainable: false)
                var epilogue = ConvEpilogue()
                epilogue.moments = fused ? BatchMoments() : nil
                let h = fused ? conv2d(xv, wv, stride: s, padding: k / 2, groups: groups, epilogue: epilogue)
                              : conv2d(xv, wv, stride: s, padding: k / 2, groups: groups)
                let y = batchNorm(h, scale: gv, offset: bv, runningMean: mean, runningVariance: variance, momentum: 0.9,
                                  epsilon: 1e-3, training: true, relu: relu, residual: add ? sv : nil, across: nil,
                                  moments: epilogue.moments)
                GradientCheck.project(y, seed).backward()
                return [y.value.scalars, mean.value.scalars, variance.value.scalars, xv.grad?.scalars ?? [],
                        wv.grad?.scalars ?? [], gv.grad?.scalars ?? [], bv.grad?.scalars ?? [], sv.grad?.scalars ?? []]
            }
            let fused = run(fused: true), separate = run(fused: false)
            for (i, what) in ["output", "running mean", "running variance", "input gradient", "weight gradient",
                              "scale gradient", "offset gradient", "residual gradient"].enumerated() {
                #expect(fused[i].map(\.bitPattern) == separate[i].map(\.bitPattern), "\(what): \(c) relu=\(relu) add=\(add)")
            }
        }
    }

    /// The convolutions whose epilogue runs as a pass after the kernel (sgemm, forced here as
    /// `KernelConfiguration.gemmChannelProduct` would; grouped but not depthwise): the moments
    /// they record are, bit for bit, those of their stored output taken image by image.
    @Test(arguments: [(1, 128, 128, 1), (3, 8, 12, 2)])
    func undirectedConvolutionsRecordTheMomentsOfTheirOutput(_ c: (Int, Int, Int, Int)) {
        let (k, cin, cout, groups) = c
        var rng = SeededGenerator(seed: 22)
        let g = ConvGeometry(batch: 3, height: 6, width: 5, inChannels: cin, outChannels: cout, kernel: k, stride: 1,
                             padding: k / 2, groups: groups)
        let x = GradientCheck.random([3, 6, 5, cin], &rng), w = GradientCheck.random([k, k, cin / groups, cout], &rng)
        var y = [Float](repeating: 0, count: g.outputShape.reduce(1, *))
        var sums = [Double](repeating: .nan, count: 2 * cout * 3)
        x.scalars.withUnsafeBufferPointer { xp in
            w.scalars.withUnsafeBufferPointer { wp in
                y.withUnsafeMutableBufferPointer { yp in
                    sums.withUnsafeMutableBufferPointer { mp in
                        var e = ck_epilogue(a: nil, b: nil, skip: nil, relu: 1, moments: mp.baseAddress,
                                            image_rows: g.outHeight * g.outWidth)
                        withUnsafePointer(to: &e) {
                            ConvKernels.forward(g, x: xp.baseAddress!, w: wp.baseAddress!, y: yp.baseAddress!,
                                                path: groups == 1 ? .gemm : .automatic, epilogue: $0)
                        }
                    }
                }
            }
        }
        #expect(y.contains { $0 > 0 } && y.allSatisfy { $0 >= 0 }, "the epilogue's ReLU ran: \(c)")
        let after = BatchMoments.of(Tensor(shape: g.outputShape, scalars: y)).perImage
        #expect(sums.map(\.bitPattern) == after.map(\.bitPattern), "moments: \(c)")
    }

    /// Far from zero, at a CIFAR batch's row count (128 images of 32 x 32), the batch mean and
    /// unbiased variance (read back as the running statistics with momentum 0) against Double
    /// two-pass sums of the same floats: within one float ulp of the variance up to
    /// mean² / variance = 1e7 (channels at 1e4, 1e6 and 1e7, means 1,234.5). The cancellation in
    /// E[x²] - mean² grows past that: simulated, about 2 ulps at 1e8 and 6 at 3e8.
    @Test func statisticsKeepFloatPrecisionFarFromZero() {
        var rng = SeededGenerator(seed: 4)
        let n = 128, c = 3, center: Float = 1234.5
        let spread = [1e4, 1e6, 1e7].map { Float(Double(center) / $0.squareRoot()) }
        var x = Tensor(zeros: [n, 32, 32, c])
        for i in 0..<x.count { x.scalars[i] = center + spread[i % c] * rng.normal() }
        let mean = Parameter(Tensor(zeros: [c]), trainable: false), variance = Parameter(Tensor(zeros: [c]), trainable: false)
        _ = batchNorm(Variable(x), scale: Variable(Tensor(repeating: 1, shape: [c])), offset: Variable(Tensor(zeros: [c])),
                      runningMean: mean, runningVariance: variance, momentum: 0, epsilon: 1e-5, training: true)
        let rows = x.count / c
        for j in 0..<c {
            let values = stride(from: j, to: x.count, by: c).map { Double(x.scalars[$0]) }
            let m = values.reduce(0, +) / Double(rows)
            let v = values.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(rows - 1)
            #expect(abs(Double(mean.value.scalars[j]) - m) <= 1e-7 * abs(m), "mean of channel \(j): \(mean.value.scalars[j]) vs \(m)")
            #expect(abs(Double(variance.value.scalars[j]) - v) <= 0x1p-23 * v, "variance of channel \(j): \(variance.value.scalars[j]) vs \(v)")
        }
    }
}
