/// Convolution kernels over raw buffers (NHWC input, HWIO weights, NHWC output).
///
/// Dense convolutions (groups == 1) lower to GEMM: an im2col of a few images at a time (so the
/// column buffer stays in cache and memory stays bounded) times the weight matrix [kh*kw*cin, cout].
/// Pointwise convolutions skip im2col entirely. Depthwise convolutions are direct loops with the
/// channel axis innermost (contiguous in NHWC, so they vectorise).
import CKernels

enum ConvKernels {
    /// How a convolution is computed. `.automatic` picks per geometry; tests force the others.
    /// `.direct` runs the direct kernels on the process's path (`ck_isa`); `.directOn(isa)` on a
    /// given one (a `ck_isa_t`, which the CPU must support): tests compare the paths.
    /// `.winogradOn(isa)` runs Winograd F(4x4, 3x3) (forward pass, input and weight gradients)
    /// wherever `ck_winograd_supported` allows (the direct kernels of `isa` elsewhere).
    enum Path: Sendable, CustomStringConvertible {
        case automatic, gemm, direct, directOn(ck_isa_t), winogradOn(ck_isa_t)
        static let directPortable = Path.directOn(CK_ISA_PORTABLE)

        /// The `ck_conv_geom.isa` value: -1 for the process's path.
        var isa: Int32 {
            switch self {
            case .directOn(let isa), .winogradOn(let isa): return Int32(bitPattern: isa.rawValue)
            default: return -1
            }
        }

        var description: String {
            switch self {
            case .automatic: return "automatic"
            case .gemm: return "gemm"
            case .direct: return "direct"
            case .directOn: return "direct " + isaName
            case .winogradOn: return "winograd " + isaName
            }
        }

        /// The name of the forced path's `isa` ("?" when the kernels do not know it).
        private var isaName: String { ck_isa_name(isa).map { String(cString: $0) } ?? "?" }
    }

    /// Dense convolutions with at least this many input x output channels go to im2col + sgemm
    /// under `.automatic` (`Int.max`: all direct). Benchmarks tune it; below `Int.max` a forward
    /// pass's outputs may depend on the batch (see `direct`).
    nonisolated(unsafe) static var gemmThreshold = Int.max

    /// Under `.automatic`, 3x3 stride-1 convolutions with at least this many input x output
    /// channels (and a Winograd kernel for their geometry) run Winograd F(4x4, 3x3) forward and
    /// for the input gradient in passes that are training or that gradients flow back through
    /// (FGSM). Benchmarks tune it (`engine-bench --winograd-channel-product`).
    ///
    /// The rule, measured with engine-bench (1 thread, CPU-ms per training step and per inference
    /// batch, two interleaved rounds on a shared AVX-512 machine, both paths) on ResNet-8 w16,
    /// ResNet-20 w16, ResNet-26 w32 and WRN-10-1: from 32 x 32 channels Winograd wins everywhere
    /// (ResNet-26 w32 training 1.25-1.5x). At 16 x 16 it would also speed training up on AVX2
    /// (+7-13%, level on AVX-512), but it fails the PyTorch parity test: ResNet-8's gradient of
    /// block0.conv2.weight came 8e-3 (relative) from PyTorch's float64 against 6e-6 with the
    /// direct kernels (issue 22's limit is 1e-3). Those layers train direct.
    nonisolated(unsafe) static var winogradThreshold = 32 * 32

    /// The same rule for forward passes that are not training and that no gradient flows back
    /// through (`conv2d(inference:)`: pseudo labels, evaluation), where rounding only moves the
    /// outputs by about 1e-6 of their size (`WinogradTests`): every supported layer, 16 x 16
    /// channels included
    /// (`engine-bench --winograd-inference-channel-product`). Measured with engine-bench (1
    /// thread, best of three interleaved 4 s runs, AMD Zen 5, 2026-12-02) against 32 x 32:
    /// inference ResNet-8 w16 +27% on AVX2 and +4% on AVX-512, ResNet-20 w16 +47% and +11%. It
    /// lost before inference ran in chunks of 16 images (`Layer.predict`).
    nonisolated(unsafe) static var winogradInferenceThreshold = 16 * 16

    /// The same rule for weight gradients (`engine-bench --winograd-weight-channel-product`):
    /// every supported layer, 16 x 16 included (ResNet-20 w16 training 3% faster on AVX2 with
    /// them than without, level on AVX-512; measured with F(2x2, 3x3), before F(4x4, 3x3)).
    nonisolated(unsafe) static var winogradWeightThreshold = 16 * 16

    /// Fixed number of partial sums for weight gradients: independent of the thread count, so
    /// results are bit-identical whatever `Parallelism.threads` is.
    static let weightGradientChunks = 8

    static func cGeometry(_ g: ConvGeometry, isa: Int32) -> ck_conv_geom {
        ck_conv_geom(n: Int32(g.batch), h: Int32(g.height), w: Int32(g.width), cin: Int32(g.inChannels),
                     cout: Int32(g.outChannels), kh: Int32(g.kernelH), kw: Int32(g.kernelW),
                     sh: Int32(g.strideH), sw: Int32(g.strideW), pt: Int32(g.padTop), pl: Int32(g.padLeft),
                     pb: Int32(g.padBottom), pr: Int32(g.padRight), isa: isa)
    }

    /// Whether the direct kernels handle this geometry (dense; the gradients of big pointwise
    /// convolutions stay on sgemm).
    ///
    /// Forward passes (`forward`) of pointwise convolutions stay direct too: the direct kernels
    /// compute each image alone in a fixed order, so an image's output does not depend on the
    /// other images of its batch. OpenBLAS's sgemm does not promise that: its Haswell/Zen kernel
    /// rounds the last rows of a matrix differently from the others (measured on an AMD EPYC
    /// with OpenBLAS 0.3.21), so a pseudo label would depend on how the pool was batched or
    /// sharded. Gradients are taken over a fixed batch, where that does not matter.
    static func direct(_ g: ConvGeometry, _ path: Path, forward: Bool = false) -> Bool {
        guard g.groups == 1 else { return false }
        switch path {
        case .gemm: return false
        case .direct, .directOn, .winogradOn: return true
        case .automatic: break
        }
        if g.inChannels * g.outChannels >= gemmThreshold { return false }
        if !forward && g.kernelH == 1 && g.kernelW == 1 && g.inChannels * g.outChannels >= 128 * 128 && g.isPointwise { return false }
        return true
    }

    /// Whether a direct-kernel convolution `cg` (a forward pass, the transposed convolution of an
    /// input gradient, or a weight gradient's geometry) runs Winograd: forced by `.winogradOn`,
    /// else by the channel rule. `threshold`: `winogradThreshold`, `winogradInferenceThreshold`
    /// for a forward pass no gradient flows back through, `winogradWeightThreshold` for a weight
    /// gradient.
    static func winograd(_ cg: ck_conv_geom, _ path: Path, threshold: Int = winogradThreshold) -> Bool {
        guard withUnsafePointer(to: cg, { ck_winograd_supported($0) }) != 0 else { return false }
        switch path {
        case .winogradOn: return true
        case .automatic: return Int(cg.cin) * Int(cg.cout) >= threshold
        default: return false
        }
    }

    /// y = conv(x, w) by Winograd F(4x4, 3x3) (`ck_winograd_supported(cg)`): the weights
    /// transformed once, then chunks of images in parallel; per image, the epilogue as it stores.
    static func winogradForward(_ cg: ck_conv_geom, x: UnsafePointer<Float>, w: UnsafePointer<Float>,
                                y: UnsafeMutablePointer<Float>, epilogue: UnsafePointer<ck_epilogue>?,
                                weights source: WinogradWeightSource? = nil) {
        let batch = Int(cg.n)
        var geometry = cg
        let count = ck_winograd4_weights_count(&geometry)
        var own: UnsafeMutablePointer<Float>? = nil
        defer { own?.deallocate() }
        let u: UnsafePointer<Float>
        if let source {
            u = source.cache.weights(for: source.key, count: count) { ck_winograd4_weights(&geometry, w, $0) }
        } else {
            let p = UnsafeMutablePointer<Float>.allocate(capacity: count)
            own = p
            ck_winograd4_weights(&geometry, w, p)
            u = UnsafePointer(p)
        }
        let chunks = imageChunks(batch: batch)
        let xs = UncheckedSendable(x), us = UncheckedSendable(u), ys = UncheckedSendable(y)
        let es = UncheckedSendable(epilogue)
        Parallelism.forEachDynamic(chunks) { c in
            let n0 = c * batch / chunks, n1 = (c + 1) * batch / chunks
            let status = withUnsafePointer(to: cg) {
                ck_conv_forward_winograd($0, xs.value, us.value, ys.value, Int32(n0), Int32(n1), es.value)
            }
            precondition(status == 0, "ck_conv_forward_winograd refused a geometry ck_winograd_supported accepted")
        }
    }

    /// The input gradient of a stride-1 convolution as a forward convolution of dy: the kernel
    /// flipped and transposed (`ck_conv_flip_weights`, [kh, kw, cout, cin]), padding kh-1-pt
    /// (left kw-1-pl), output the input's size.
    static func transposedGeometry(_ g: ConvGeometry, isa: Int32) -> ck_conv_geom {
        let pt = g.kernelH - 1 - g.padTop, pl = g.kernelW - 1 - g.padLeft
        return ck_conv_geom(n: Int32(g.batch), h: Int32(g.outHeight), w: Int32(g.outWidth), cin: Int32(g.outChannels),
                            cout: Int32(g.inChannels), kh: Int32(g.kernelH), kw: Int32(g.kernelW), sh: 1, sw: 1,
                            pt: Int32(pt), pl: Int32(pl), pb: Int32(g.height - 1 + g.kernelH - g.outHeight - pt),
                            pr: Int32(g.width - 1 + g.kernelW - g.outWidth - pl), isa: isa)
    }

    static func directForward(_ g: ConvGeometry, x: UnsafePointer<Float>, w: UnsafePointer<Float>,
                              y: UnsafeMutablePointer<Float>, isa: Int32, epilogue: UnsafePointer<ck_epilogue>?,
                              path: Path = .automatic, inference: Bool = false,
                              winogradWeights: WinogradWeightSource? = nil) {
        let cg = cGeometry(g, isa: isa)
        if winograd(cg, path, threshold: inference ? winogradInferenceThreshold : winogradThreshold) {
            return winogradForward(cg, x: x, w: w, y: y, epilogue: epilogue, weights: winogradWeights)
        }
        let chunks = imageChunks(batch: g.batch)
        let xs = UncheckedSendable(x), ws = UncheckedSendable(w), ys = UncheckedSendable(y)
        let es = UncheckedSendable(epilogue)
        Parallelism.forEachDynamic(chunks) { c in
            let n0 = c * g.batch / chunks, n1 = (c + 1) * g.batch / chunks
            withUnsafePointer(to: cg) { ck_conv_forward($0, xs.value, ws.value, ys.value, Int32(n0), Int32(n1), es.value) }
        }
    }

    static func directBackwardInput(_ g: ConvGeometry, dy: UnsafePointer<Float>, w: UnsafePointer<Float>,
                                    dx: UnsafeMutablePointer<Float>, isa: Int32, path: Path = .automatic) {
        let cg = cGeometry(g, isa: isa)
        if g.strideH == 1 && g.strideW == 1 {
            let tg = transposedGeometry(g, isa: isa)
            if winograd(tg, path) {
                let flipped = UnsafeMutablePointer<Float>.allocate(capacity: g.kernelH * g.kernelW * g.inChannels * g.outChannels)
                defer { flipped.deallocate() }
                withUnsafePointer(to: cg) { ck_conv_flip_weights($0, w, flipped) }
                return winogradForward(tg, x: dy, w: flipped, y: dx, epilogue: nil)
            }
        }
        let chunks = imageChunks(batch: g.batch)
        let dys = UncheckedSendable(dy), fs = UncheckedSendable(w), dxs = UncheckedSendable(dx)
        Parallelism.forEachDynamic(chunks) { c in
            let n0 = c * g.batch / chunks, n1 = (c + 1) * g.batch / chunks
            withUnsafePointer(to: cg) { ck_conv_backward_input($0, dys.value, fs.value, dxs.value, Int32(n0), Int32(n1)) }
        }
    }

    /// Chunks of images for the per-image direct kernels: several per thread, handed out as
    /// threads free up, so a slow core does not hold up the layer. Each image's output is the
    /// same whichever chunk computes it.
    static func imageChunks(batch: Int) -> Int {
        Parallelism.threads <= 1 ? 1 : min(batch, 4 * Parallelism.threads)
    }

    static func directBackwardWeight(_ g: ConvGeometry, x: UnsafePointer<Float>, dy: UnsafePointer<Float>,
                                     dw: UnsafeMutablePointer<Float>, isa: Int32, path: Path = .automatic) {
        let cg = cGeometry(g, isa: isa)
        let size = g.kernelH * g.kernelW * g.inChannels * g.outChannels
        let chunks = min(g.batch, weightGradientChunks)
        let partial = UnsafeMutablePointer<Float>.allocate(capacity: chunks * size)
        partial.initialize(repeating: 0, count: chunks * size)
        defer { partial.deallocate() }
        let xs = UncheckedSendable(x), dys = UncheckedSendable(dy), ps = UncheckedSendable(partial)
        let useWinograd = winograd(cg, path, threshold: winogradWeightThreshold)
        Parallelism.forEach(chunks) { c in
            let n0 = c * g.batch / chunks, n1 = (c + 1) * g.batch / chunks
            withUnsafePointer(to: cg) {
                if useWinograd {
                    let status = ck_conv_backward_weight_winograd($0, xs.value, dys.value, ps.value + c * size, Int32(n0), Int32(n1))
                    precondition(status == 0, "ck_conv_backward_weight_winograd refused a geometry ck_winograd_supported accepted")
                } else {
                    ck_conv_backward_weight($0, xs.value, dys.value, ps.value + c * size, Int32(n0), Int32(n1))
                }
            }
        }
        // Combine the partial sums in chunk order (deterministic).
        for c in 0..<chunks {
            let p = partial + c * size
            for i in 0..<size { dw[i] += p[i] }
        }
    }

    /// Rows of the column buffer handled per GEMM call.
    static let rowsPerChunk = 4096

    static func imagesPerChunk(_ g: ConvGeometry) -> Int {
        max(1, rowsPerChunk / max(1, g.outHeight * g.outWidth))
    }

    // MARK: im2col / col2im for one group-less chunk of images

    /// Column rows for images [n0, n0+count): row (n, oy, ox), columns (ky, kx, ci).
    static func im2col(_ g: ConvGeometry, x: UnsafePointer<Float>, n0: Int, count: Int,
                       col: UnsafeMutablePointer<Float>) {
        let oh = g.outHeight, ow = g.outWidth, c = g.inChannels
        let rowLen = g.kernelH * g.kernelW * c
        for n in 0..<count {
            let img = x + (n0 + n) * g.height * g.width * c
            for oy in 0..<oh {
                for ox in 0..<ow {
                    var dst = col + ((n * oh + oy) * ow + ox) * rowLen
                    for ky in 0..<g.kernelH {
                        let iy = oy * g.strideH - g.padTop + ky
                        for kx in 0..<g.kernelW {
                            let ix = ox * g.strideW - g.padLeft + kx
                            if iy >= 0 && iy < g.height && ix >= 0 && ix < g.width {
                                dst.update(from: img + (iy * g.width + ix) * c, count: c)
                            } else {
                                dst.update(repeating: 0, count: c)
                            }
                            dst += c
                        }
                    }
                }
            }
        }
    }

    /// Scatter-adds column gradients back into dx for images [n0, n0+count).
    static func col2im(_ g: ConvGeometry, col: UnsafePointer<Float>, n0: Int, count: Int,
                       dx: UnsafeMutablePointer<Float>) {
        let oh = g.outHeight, ow = g.outWidth, c = g.inChannels
        let rowLen = g.kernelH * g.kernelW * c
        for n in 0..<count {
            let img = dx + (n0 + n) * g.height * g.width * c
            for oy in 0..<oh {
                for ox in 0..<ow {
                    var src = col + ((n * oh + oy) * ow + ox) * rowLen
                    for ky in 0..<g.kernelH {
                        let iy = oy * g.strideH - g.padTop + ky
                        for kx in 0..<g.kernelW {
                            let ix = ox * g.strideW - g.padLeft + kx
                            if iy >= 0 && iy < g.height && ix >= 0 && ix < g.width {
                                let d = img + (iy * g.width + ix) * c
                                for i in 0..<c { d[i] += src[i] }
                            }
                            src += c
                        }
                    }
                }
            }
        }
    }

    // MARK: Forward

    /// y = conv(x, w), then the epilogue if any: per image inside the direct kernels (while the
    /// image's output is in cache), else one pass over y afterwards. `inference`: the pass is not
    /// training and no gradient flows back through it (`winogradInferenceThreshold` applies).
    /// `winogradWeights`: where a Winograd convolution takes its transformed weights (nil: it
    /// transforms them itself).
    static func forward(_ g: ConvGeometry, x: UnsafePointer<Float>, w: UnsafePointer<Float>,
                        y: UnsafeMutablePointer<Float>, path: Path = .automatic,
                        epilogue: UnsafePointer<ck_epilogue>? = nil, inference: Bool = false,
                        winogradWeights: WinogradWeightSource? = nil) {
        WorkCounter.add(g.macs)
        if direct(g, path, forward: true) {
            return directForward(g, x: x, w: w, y: y, isa: path.isa, epilogue: epilogue, path: path, inference: inference,
                                 winogradWeights: winogradWeights)
        }
        undirectedForward(g, x: x, w: w, y: y)
        guard let epilogue else { return }
        // Whole images per call (the epilogue's moments are per image).
        let c = g.outChannels, imageRows = g.outHeight * g.outWidth
        let es = UncheckedSendable(epilogue), ys = UncheckedSendable(y)
        Parallelism.forRanges(g.batch, minPerChunk: max(1, (1 << 15) / max(c * imageRows, 1))) { n0, n1 in
            ck_epilogue_rows(es.value, ys.value, c, n0 * imageRows, n1 * imageRows)
        }
    }

    private static func undirectedForward(_ g: ConvGeometry, x: UnsafePointer<Float>, w: UnsafePointer<Float>,
                                          y: UnsafeMutablePointer<Float>) {
        if g.isDepthwise { return depthwiseForward(g, x: x, w: w, y: y) }
        if g.groups != 1 { return groupedForward(g, x: x, w: w, y: y) }
        let k = g.kernelH * g.kernelW * g.inChannels
        if g.isPointwise {
            sgemm(m: g.batch * g.height * g.width, n: g.outChannels, k: k, a: x, lda: k, b: w, ldb: g.outChannels,
                  c: y, ldc: g.outChannels)
            return
        }
        let per = imagesPerChunk(g), rowsPerImage = g.outHeight * g.outWidth
        let col = UnsafeMutablePointer<Float>.allocate(capacity: per * rowsPerImage * k)
        defer { col.deallocate() }
        var n0 = 0
        while n0 < g.batch {
            let cnt = min(per, g.batch - n0)
            im2col(g, x: x, n0: n0, count: cnt, col: col)
            sgemm(m: cnt * rowsPerImage, n: g.outChannels, k: k, a: col, lda: k, b: w, ldb: g.outChannels,
                  c: y + n0 * rowsPerImage * g.outChannels, ldc: g.outChannels)
            n0 += cnt
        }
    }

    // MARK: Backward

    /// dx = conv^T(dy, w). Overwrites dx.
    static func backwardInput(_ g: ConvGeometry, dy: UnsafePointer<Float>, w: UnsafePointer<Float>,
                              dx: UnsafeMutablePointer<Float>, path: Path = .automatic) {
        if direct(g, path) { return directBackwardInput(g, dy: dy, w: w, dx: dx, isa: path.isa, path: path) }
        if g.isDepthwise { return depthwiseBackwardInput(g, dy: dy, w: w, dx: dx) }
        if g.groups != 1 { return groupedBackwardInput(g, dy: dy, w: w, dx: dx) }
        let k = g.kernelH * g.kernelW * g.inChannels
        if g.isPointwise {
            sgemm(transB: true, m: g.batch * g.height * g.width, n: k, k: g.outChannels, a: dy, lda: g.outChannels,
                  b: w, ldb: g.outChannels, c: dx, ldc: k)
            return
        }
        dx.update(repeating: 0, count: g.batch * g.height * g.width * g.inChannels)
        let per = imagesPerChunk(g), rowsPerImage = g.outHeight * g.outWidth
        let col = UnsafeMutablePointer<Float>.allocate(capacity: per * rowsPerImage * k)
        defer { col.deallocate() }
        var n0 = 0
        while n0 < g.batch {
            let cnt = min(per, g.batch - n0)
            sgemm(transB: true, m: cnt * rowsPerImage, n: k, k: g.outChannels,
                  a: dy + n0 * rowsPerImage * g.outChannels, lda: g.outChannels, b: w, ldb: g.outChannels,
                  c: col, ldc: k)
            col2im(g, col: col, n0: n0, count: cnt, dx: dx)
            n0 += cnt
        }
    }

    /// dw += conv-gradient(x, dy). Accumulates into dw.
    static func backwardWeight(_ g: ConvGeometry, x: UnsafePointer<Float>, dy: UnsafePointer<Float>,
                               dw: UnsafeMutablePointer<Float>, path: Path = .automatic) {
        if direct(g, path) { return directBackwardWeight(g, x: x, dy: dy, dw: dw, isa: path.isa, path: path) }
        if g.isDepthwise { return depthwiseBackwardWeight(g, x: x, dy: dy, dw: dw) }
        if g.groups != 1 { return groupedBackwardWeight(g, x: x, dy: dy, dw: dw) }
        let k = g.kernelH * g.kernelW * g.inChannels
        if g.isPointwise {
            sgemm(transA: true, m: k, n: g.outChannels, k: g.batch * g.height * g.width, a: x, lda: k,
                  b: dy, ldb: g.outChannels, beta: 1, c: dw, ldc: g.outChannels)
            return
        }
        let per = imagesPerChunk(g), rowsPerImage = g.outHeight * g.outWidth
        let col = UnsafeMutablePointer<Float>.allocate(capacity: per * rowsPerImage * k)
        defer { col.deallocate() }
        var n0 = 0
        while n0 < g.batch {
            let cnt = min(per, g.batch - n0)
            im2col(g, x: x, n0: n0, count: cnt, col: col)
            sgemm(transA: true, m: k, n: g.outChannels, k: cnt * rowsPerImage, a: col, lda: k,
                  b: dy + n0 * rowsPerImage * g.outChannels, ldb: g.outChannels, beta: 1, c: dw, ldc: g.outChannels)
            n0 += cnt
        }
    }

    // MARK: Depthwise (groups == cin == cout), weights [kh, kw, 1, c]

    static func depthwiseForward(_ g: ConvGeometry, x: UnsafePointer<Float>, w: UnsafePointer<Float>,
                                 y: UnsafeMutablePointer<Float>) {
        let c = g.inChannels, oh = g.outHeight, ow = g.outWidth
        let xs = UncheckedSendable(x), ws = UncheckedSendable(w), ys = UncheckedSendable(y)
        let chunks = min(g.batch, Parallelism.threads)
        Parallelism.forEach(chunks) { chunk in
        let x = xs.value, w = ws.value, y = ys.value
        for n in (chunk * g.batch / chunks)..<((chunk + 1) * g.batch / chunks) {
            let img = x + n * g.height * g.width * c
            for oy in 0..<oh {
                for ox in 0..<ow {
                    let out = y + ((n * oh + oy) * ow + ox) * c
                    out.update(repeating: 0, count: c)
                    for ky in 0..<g.kernelH {
                        let iy = oy * g.strideH - g.padTop + ky
                        if iy < 0 || iy >= g.height { continue }
                        for kx in 0..<g.kernelW {
                            let ix = ox * g.strideW - g.padLeft + kx
                            if ix < 0 || ix >= g.width { continue }
                            let src = img + (iy * g.width + ix) * c
                            let wk = w + (ky * g.kernelW + kx) * c
                            for i in 0..<c { out[i] += src[i] * wk[i] }
                        }
                    }
                }
            }
        }
        }
    }

    static func depthwiseBackwardInput(_ g: ConvGeometry, dy: UnsafePointer<Float>, w: UnsafePointer<Float>,
                                       dx: UnsafeMutablePointer<Float>) {
        let c = g.inChannels, oh = g.outHeight, ow = g.outWidth
        dx.update(repeating: 0, count: g.batch * g.height * g.width * c)
        let dys = UncheckedSendable(dy), ws = UncheckedSendable(w), dxs = UncheckedSendable(dx)
        let chunks = min(g.batch, Parallelism.threads)
        Parallelism.forEach(chunks) { chunk in
        let dy = dys.value, w = ws.value, dx = dxs.value
        for n in (chunk * g.batch / chunks)..<((chunk + 1) * g.batch / chunks) {
            let img = dx + n * g.height * g.width * c
            for oy in 0..<oh {
                for ox in 0..<ow {
                    let d = dy + ((n * oh + oy) * ow + ox) * c
                    for ky in 0..<g.kernelH {
                        let iy = oy * g.strideH - g.padTop + ky
                        if iy < 0 || iy >= g.height { continue }
                        for kx in 0..<g.kernelW {
                            let ix = ox * g.strideW - g.padLeft + kx
                            if ix < 0 || ix >= g.width { continue }
                            let dst = img + (iy * g.width + ix) * c
                            let wk = w + (ky * g.kernelW + kx) * c
                            for i in 0..<c { dst[i] += d[i] * wk[i] }
                        }
                    }
                }
            }
        }
        }
    }

    static func depthwiseBackwardWeight(_ g: ConvGeometry, x: UnsafePointer<Float>, dy: UnsafePointer<Float>,
                                        dw: UnsafeMutablePointer<Float>) {
        let c = g.inChannels, oh = g.outHeight, ow = g.outWidth
        // Fixed chunks of images, each into its own partial sum, combined in chunk order.
        let size = g.kernelH * g.kernelW * c
        let chunks = min(g.batch, weightGradientChunks)
        let partial = UnsafeMutablePointer<Float>.allocate(capacity: chunks * size)
        partial.initialize(repeating: 0, count: chunks * size)
        defer { partial.deallocate() }
        let xs = UncheckedSendable(x), dys = UncheckedSendable(dy), ps = UncheckedSendable(partial)
        Parallelism.forEach(chunks) { chunk in
        let x = xs.value, dy = dys.value, dw = ps.value + chunk * size
        for n in (chunk * g.batch / chunks)..<((chunk + 1) * g.batch / chunks) {
            let img = x + n * g.height * g.width * c
            for oy in 0..<oh {
                for ox in 0..<ow {
                    let d = dy + ((n * oh + oy) * ow + ox) * c
                    for ky in 0..<g.kernelH {
                        let iy = oy * g.strideH - g.padTop + ky
                        if iy < 0 || iy >= g.height { continue }
                        for kx in 0..<g.kernelW {
                            let ix = ox * g.strideW - g.padLeft + kx
                            if ix < 0 || ix >= g.width { continue }
                            let src = img + (iy * g.width + ix) * c
                            let wk = dw + (ky * g.kernelW + kx) * c
                            for i in 0..<c { wk[i] += d[i] * src[i] }
                        }
                    }
                }
            }
        }
        }
        for k in 0..<chunks {
            let p = partial + k * size
            for i in 0..<size { dw[i] += p[i] }
        }
    }

    // MARK: General grouped convolution (rare: correctness over speed)

    static func groupedForward(_ g: ConvGeometry, x: UnsafePointer<Float>, w: UnsafePointer<Float>,
                               y: UnsafeMutablePointer<Float>) {
        let oh = g.outHeight, ow = g.outWidth, ipg = g.inPerGroup, opg = g.outPerGroup
        for n in 0..<g.batch { for oy in 0..<oh { for ox in 0..<ow {
            let out = y + ((n * oh + oy) * ow + ox) * g.outChannels
            out.update(repeating: 0, count: g.outChannels)
            for ky in 0..<g.kernelH {
                let iy = oy * g.strideH - g.padTop + ky
                if iy < 0 || iy >= g.height { continue }
                for kx in 0..<g.kernelW {
                    let ix = ox * g.strideW - g.padLeft + kx
                    if ix < 0 || ix >= g.width { continue }
                    let src = x + ((n * g.height + iy) * g.width + ix) * g.inChannels
                    for co in 0..<g.outChannels {
                        let grp = co / opg
                        var s: Float = 0
                        for ci in 0..<ipg {
                            s += src[grp * ipg + ci] * w[((ky * g.kernelW + kx) * ipg + ci) * g.outChannels + co]
                        }
                        out[co] += s
                    }
                }
            }
        } } }
    }

    static func groupedBackwardInput(_ g: ConvGeometry, dy: UnsafePointer<Float>, w: UnsafePointer<Float>,
                                     dx: UnsafeMutablePointer<Float>) {
        let oh = g.outHeight, ow = g.outWidth, ipg = g.inPerGroup, opg = g.outPerGroup
        dx.update(repeating: 0, count: g.batch * g.height * g.width * g.inChannels)
        for n in 0..<g.batch { for oy in 0..<oh { for ox in 0..<ow {
            let d = dy + ((n * oh + oy) * ow + ox) * g.outChannels
            for ky in 0..<g.kernelH {
                let iy = oy * g.strideH - g.padTop + ky
                if iy < 0 || iy >= g.height { continue }
                for kx in 0..<g.kernelW {
                    let ix = ox * g.strideW - g.padLeft + kx
                    if ix < 0 || ix >= g.width { continue }
                    let dst = dx + ((n * g.height + iy) * g.width + ix) * g.inChannels
                    for co in 0..<g.outChannels {
                        let grp = co / opg
                        for ci in 0..<ipg {
                            dst[grp * ipg + ci] += d[co] * w[((ky * g.kernelW + kx) * ipg + ci) * g.outChannels + co]
                        }
                    }
                }
            }
        } } }
    }

    static func groupedBackwardWeight(_ g: ConvGeometry, x: UnsafePointer<Float>, dy: UnsafePointer<Float>,
                                      dw: UnsafeMutablePointer<Float>) {
        let oh = g.outHeight, ow = g.outWidth, ipg = g.inPerGroup, opg = g.outPerGroup
        for n in 0..<g.batch { for oy in 0..<oh { for ox in 0..<ow {
            let d = dy + ((n * oh + oy) * ow + ox) * g.outChannels
            for ky in 0..<g.kernelH {
                let iy = oy * g.strideH - g.padTop + ky
                if iy < 0 || iy >= g.height { continue }
                for kx in 0..<g.kernelW {
                    let ix = ox * g.strideW - g.padLeft + kx
                    if ix < 0 || ix >= g.width { continue }
                    let src = x + ((n * g.height + iy) * g.width + ix) * g.inChannels
                    for co in 0..<g.outChannels {
                        let grp = co / opg
                        for ci in 0..<ipg {
                            dw[((ky * g.kernelW + kx) * ipg + ci) * g.outChannels + co] += d[co] * src[grp * ipg + ci]
                        }
                    }
                }
            }
        } } }
    }
}
