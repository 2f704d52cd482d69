import CKernels

/// Batch normalisation over every axis but the last (channels, NHWC or [N, C]).
///
/// Training mode normalises with the batch's statistics and updates the running ones
/// TensorFlow's way: `running = momentum * running + (1 - momentum) * batch` (momentum 0.99 keeps
/// 99%). The running variance uses the unbiased batch variance, as TF and PyTorch do.
/// Inference mode normalises with the running statistics.
///
/// `relu: true` applies ReLU to the result in the same pass (and masks the gradient by
/// recomputing the pre-ReLU value from x): the same numbers as `relu(batchNorm(...))`, without
/// writing and re-reading the intermediate tensor. A `residual` (with `relu: true`) is added
/// before the ReLU, the closing `relu(bn(conv(h)) + skip)` of a post-activation residual block:
/// the same numbers as `relu(batchNorm(...) + residual)`.
///
/// `across` (training only) makes it synchronised batch norm over processes that each hold some
/// rows of one global batch: the per-channel sums of x and x² (and the row counts), and in the
/// backward pass the per-channel sums of dy and dy * xhat, are summed over the processes, so
/// every process normalises and back-propagates with the global batch's statistics: the same
/// numbers as one process holding every row, up to the order of the additions. The returned
/// scale and offset gradients stay this process's own share (the data-parallel gradient sum adds
/// them up). Nil: this process's rows alone.
public func batchNorm(_ x: Variable, scale: Variable, offset: Variable,
                      runningMean: Parameter, runningVariance: Parameter,
                      momentum: Float, epsilon: Float, training: Bool, relu: Bool = false,
                      residual: Variable? = nil, across processes: (any BatchStatisticsReducer)? = nil) -> Variable {
    batchNorm(x, scale: scale, offset: offset, runningMean: runningMean, runningVariance: runningVariance,
              momentum: momentum, epsilon: epsilon, training: training, relu: relu, residual: residual,
              across: processes, moments: nil)
}

/// A training batch norm's raw statistics of one tensor, per image (the leading axis): the
/// per-channel sums of x and of x² (`ck_bn_moments`, Double). The convolution that produces the
/// tensor records them (`ConvEpilogue.moments`) while its output is in cache, so the batch norm
/// after it does not read the tensor once more for its mean and variance.
final class BatchMoments {
    /// [images][2][channels]: each image's sums of x, then of x².
    private(set) var perImage: [Double] = []
    private(set) var images = 0, channels = 0

    func record(perImage sums: [Double], images n: Int, channels c: Int) {
        precondition(sums.count == 2 * n * c, "BatchMoments: \(sums.count) sums for \(n) images of \(c) channels")
        perImage = sums; images = n; channels = c
    }

    /// Each image's moments of `x` (NHWC or [N, C]), computed in parallel over images.
    static func of(_ x: Tensor) -> BatchMoments {
        let c = x.shape.last ?? 0, n = x.shape.first ?? 0
        let imageRows = x.count / max(n * c, 1)
        var sums = [Double](repeating: 0, count: 2 * n * c)
        x.scalars.withUnsafeBufferPointer { p in
            sums.withUnsafeMutableBufferPointer { sp in
                guard let px = p.baseAddress.map(UncheckedSendable.init), let ps = sp.baseAddress.map(UncheckedSendable.init) else { return }
                Parallelism.forRanges(n, minPerChunk: max(1, (1 << 15) / max(imageRows * c, 1))) { n0, n1 in
                    for i in n0..<n1 {
                        let m = ps.value + 2 * c * i
                        ck_bn_moments(px.value, c, i * imageRows, (i + 1) * imageRows, m, m + c)
                    }
                }
            }
        }
        let moments = BatchMoments()
        moments.record(perImage: sums, images: n, channels: c)
        return moments
    }

    /// The per-channel sums over every image (added in image order: the same for any thread
    /// count), then the rows they cover: [sum x (c), sum x² (c), rows].
    func totals(rows: Int) -> [Double] {
        var t = [Double](repeating: 0, count: 2 * channels + 1)
        for i in 0..<images {
            for k in 0..<(2 * channels) { t[k] += perImage[2 * channels * i + k] }
        }
        t[2 * channels] = Double(rows)
        return t
    }
}

/// `batchNorm` with the moments of `x` already taken (training; nil: taken here).
func batchNorm(_ x: Variable, scale: Variable, offset: Variable,
               runningMean: Parameter, runningVariance: Parameter,
               momentum: Float, epsilon: Float, training: Bool, relu: Bool = false,
               residual: Variable? = nil, across processes: (any BatchStatisticsReducer)?,
               moments given: BatchMoments?) -> Variable {
    let c = x.shape.last ?? 0
    precondition(scale.shape == [c] && offset.shape == [c], "batchNorm: scale/offset must be [\(c)]")
    precondition(residual == nil || relu, "batchNorm: a residual is fused only with the ReLU after it")
    precondition(residual.map { $0.shape == x.shape } ?? true, "batchNorm: residual \(residual?.shape ?? []) does not match \(x.shape)")
    let xv = x.value
    let m = xv.count / max(c, 1)
    let processes = training ? processes : nil
    // The rows the statistics are taken over: m, or with `processes` every process's rows.
    var rows = m
    var mean = [Float](repeating: 0, count: c), invStd = [Float](repeating: 0, count: c)
    if training {
        precondition(processes != nil || m > 1, "batchNorm: training needs more than one value per channel, got shape \(x.shape)")
        // One pass in Double per channel: the sums of x and x² (each square exact), taken per
        // image and added in image order, so the values do not depend on the thread count or on
        // whether the convolution before took them. Synchronised, the sums and row counts are
        // added over the processes in one allreduce. The cancellation in var = E[x²] - mean²
        // keeps the variance within a float ulp up to mean² / variance = 1e7 at a CIFAR batch
        // (BatchMomentsTests); past that it loses a few ulps (about 2 at 1e8, simulated).
        let moments = given ?? BatchMoments.of(xv)
        precondition(moments.channels == c && moments.images == xv.shape.first,
                     "batchNorm: moments of \(moments.images) images x \(moments.channels) channels do not fit \(x.shape)")
        var totals = moments.totals(rows: m)
        processes?.allReduceSum(&totals)
        rows = Int(totals[2 * c])
        precondition(rows > 1, "batchNorm: training needs more than one value per channel, got shape \(x.shape)")
        for j in 0..<c {
            let meanD = totals[j] / Double(rows)
            let variance = max(0, totals[c + j] / Double(rows) - meanD * meanD)
            mean[j] = Float(meanD)
            invStd[j] = Float(1 / (variance + Double(epsilon)).squareRoot())
            runningMean.value.scalars[j] = momentum * runningMean.value.scalars[j] + (1 - momentum) * mean[j]
            let unbiased = Float(variance * Double(rows) / Double(rows - 1))
            runningVariance.value.scalars[j] = momentum * runningVariance.value.scalars[j] + (1 - momentum) * unbiased
        }
    } else {
        (mean, invStd) = inferenceStatistics(runningMean: runningMean, runningVariance: runningVariance, epsilon: epsilon)
    }
    let (a, b) = normalizingAffine(gamma: scale.value.scalars, beta: offset.value.scalars, mean: mean, invStd: invStd)
    let skip = residual?.value.scalars ?? []
    let y = Tensor(shape: xv.shape) { out in
        xv.scalars.withUnsafeBufferPointer { p in
            a.withUnsafeBufferPointer { ap in
                b.withUnsafeBufferPointer { bp in
                    skip.withUnsafeBufferPointer { sp in
                        let px = UncheckedSendable(p.baseAddress!), po = UncheckedSendable(out.baseAddress!)
                        let pa = UncheckedSendable(ap.baseAddress!), pb = UncheckedSendable(bp.baseAddress!)
                        let ps = UncheckedSendable(residual == nil ? nil : sp.baseAddress)
                        Parallelism.forRanges(m, minPerChunk: max(1, (1 << 15) / max(c, 1))) { r0, r1 in
                            if let s = ps.value { ck_bn_apply_add_relu(px.value, c, r0, r1, pa.value, pb.value, s, po.value) }
                            else if relu { ck_bn_apply_relu(px.value, c, r0, r1, pa.value, pb.value, po.value) }
                            else { ck_bn_apply(px.value, c, r0, r1, pa.value, pb.value, po.value) }
                        }
                    }
                }
            }
        }
    }
    let isTraining = training, maskFromInput = relu && residual == nil, totalRows = rows
    let parents = [x, scale, offset] + (residual.map { [$0] } ?? [])
    return Variable(y, parents: parents) { upstream in
        // With a residual, the ReLU's mask comes from the output (the sum is not kept); the
        // residual's gradient is the masked one, stored by the pass that takes the sums below,
        // and the batch norm continues without a ReLU.
        var masked: Tensor? = nil
        // Per-channel sums of dy and dy * xhat (fixed chunks, combined in order).
        var sumDyD = [Double](repeating: 0, count: c), sumDyXhatD = [Double](repeating: 0, count: c)
        upstream.scalars.withUnsafeBufferPointer { g in
            xv.scalars.withUnsafeBufferPointer { p in
                mean.withUnsafeBufferPointer { mp in
                    invStd.withUnsafeBufferPointer { ip in
                        a.withUnsafeBufferPointer { ap in
                            b.withUnsafeBufferPointer { bp in
                                let pg = UncheckedSendable(g.baseAddress!), px = UncheckedSendable(p.baseAddress!)
                                let pm = UncheckedSendable(mp.baseAddress!), pi = UncheckedSendable(ip.baseAddress!)
                                let pa = UncheckedSendable(ap.baseAddress!), pb = UncheckedSendable(bp.baseAddress!)
                                if residual != nil {
                                    masked = Tensor(shape: upstream.shape) { out in
                                        y.scalars.withUnsafeBufferPointer { yp in
                                            let py = UncheckedSendable(yp.baseAddress!), po = UncheckedSendable(out.baseAddress!)
                                            BNReduction.run2(rows: m, channels: c, into: &sumDyD, &sumDyXhatD) { r0, r1, o1, o2 in
                                                ck_bn_masked_backward_sums(px.value, pg.value, py.value, c, r0, r1, pm.value,
                                                                           pi.value, po.value, o1, o2)
                                            }
                                        }
                                    }
                                    return
                                }
                                BNReduction.run2(rows: m, channels: c, into: &sumDyD, &sumDyXhatD) { r0, r1, o1, o2 in
                                    if maskFromInput {
                                        ck_bn_relu_backward_sums(px.value, pg.value, c, r0, r1, pm.value, pi.value,
                                                                 pa.value, pb.value, o1, o2)
                                    } else {
                                        ck_bn_backward_sums(px.value, pg.value, c, r0, r1, pm.value, pi.value, o1, o2)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        let dy = masked ?? upstream
        let sumDy = sumDyD.map { Float($0) }, sumDyXhat = sumDyXhatD.map { Float($0) }
        // The input gradient needs the global batch's sums; scale and offset get this process's.
        var globalDy = sumDy, globalDyXhat = sumDyXhat
        if let processes {
            var buffer = sumDyD + sumDyXhatD
            processes.allReduceSum(&buffer)
            globalDy = buffer[0..<c].map { Float($0) }
            globalDyXhat = buffer[c..<(2 * c)].map { Float($0) }
        }
        var dx: Tensor? = nil
        if x.requiresGrad && !isTraining && !maskFromInput {
            dx = channelScaled(dy, by: a)  // inference, no ReLU: dx = a * dy
        } else if x.requiresGrad {
            dx = Tensor(shape: xv.shape) { out in
                dy.scalars.withUnsafeBufferPointer { g in
                    xv.scalars.withUnsafeBufferPointer { p in
                        // Inference mode treats mean and invStd as constants: k1 = k2 = 0.
                        let invM = isTraining ? 1 / Float(totalRows) : 0
                        var k1 = [Float](repeating: 0, count: c), k2 = [Float](repeating: 0, count: c)
                        for j in 0..<c {
                            k1[j] = globalDy[j] * invM
                            k2[j] = globalDyXhat[j] * invM
                        }
                        let pg = UncheckedSendable(g.baseAddress!), px = UncheckedSendable(p.baseAddress!)
                        let po = UncheckedSendable(out.baseAddress!)
                        mean.withUnsafeBufferPointer { mp in invStd.withUnsafeBufferPointer { ip in
                            a.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { bp in
                                k1.withUnsafeBufferPointer { k1p in k2.withUnsafeBufferPointer { k2p in
                                    let pm = UncheckedSendable(mp.baseAddress!), pi = UncheckedSendable(ip.baseAddress!)
                                    let pa = UncheckedSendable(ap.baseAddress!), pk1 = UncheckedSendable(k1p.baseAddress!)
                                    let pb = UncheckedSendable(bp.baseAddress!), pk2 = UncheckedSendable(k2p.baseAddress!)
                                    Parallelism.forRanges(m, minPerChunk: max(1, (1 << 15) / max(c, 1))) { r0, r1 in
                                        if maskFromInput {
                                            ck_bn_relu_backward_input(px.value, pg.value, c, r0, r1, pm.value, pi.value,
                                                                      pa.value, pb.value, pk1.value, pk2.value, po.value)
                                        } else {
                                            ck_bn_backward_input(px.value, pg.value, c, r0, r1, pm.value, pi.value,
                                                                 pa.value, pk1.value, pk2.value, po.value)
                                        }
                                    }
                                } }
                            } }
                        } }
                    }
                }
            }
        }
        return [dx, Tensor(shape: [c], scalars: sumDyXhat), Tensor(shape: [c], scalars: sumDy)] + (masked.map { [$0] } ?? [])
    }
}

/// Inference mode's mean and 1 / sqrt(variance + epsilon): the running statistics.
func inferenceStatistics(runningMean: Parameter, runningVariance: Parameter,
                         epsilon: Float) -> (mean: [Float], invStd: [Float]) {
    let c = runningMean.value.count
    var mean = [Float](repeating: 0, count: c), invStd = [Float](repeating: 0, count: c)
    for j in 0..<c {
        mean[j] = runningMean.value.scalars[j]
        invStd[j] = 1 / (runningVariance.value.scalars[j] + epsilon).squareRoot()
    }
    return (mean, invStd)
}

/// Batch norm as y = x * a + b per channel: a = gamma * invStd, b = beta - mean * a.
func normalizingAffine(gamma: [Float], beta: [Float], mean: [Float], invStd: [Float]) -> (a: [Float], b: [Float]) {
    let c = gamma.count
    var a = [Float](repeating: 0, count: c), b = [Float](repeating: 0, count: c)
    for j in 0..<c { a[j] = gamma[j] * invStd[j]; b[j] = beta[j] - mean[j] * a[j] }
    return (a, b)
}

/// g[r][j] * a[j] for an [m, c] (or NHWC) tensor: the gradient through a per-channel scale, such
/// as an inference-mode batch norm's.
func channelScaled(_ g: Tensor, by a: [Float]) -> Tensor {
    let c = a.count
    return Tensor(shape: g.shape) { out in
        g.scalars.withUnsafeBufferPointer { gp in
            for r in 0..<(gp.count / max(c, 1)) {
                for j in 0..<c { out[r * c + j] = gp[r * c + j] * a[j] }
            }
        }
    }
}

/// Per-channel reductions over rows, cut into a fixed number of chunks (independent of the
/// thread count) whose partial sums are combined in chunk order: deterministic results.
enum BNReduction {
    static let chunks = 8

    static func run2(rows m: Int, channels c: Int, into t1: inout [Double], _ t2: inout [Double],
                     _ body: (Int, Int, UnsafeMutablePointer<Double>, UnsafeMutablePointer<Double>) -> Void) {
        let k = min(chunks, m)
        let partial = UnsafeMutablePointer<Double>.allocate(capacity: 2 * k * c)
        defer { partial.deallocate() }
        let pp = UncheckedSendable(partial)
        Parallelism.forEach(k) { i in body(i * m / k, (i + 1) * m / k, pp.value + i * c, pp.value + (k + i) * c) }
        for j in 0..<c { t1[j] = 0; t2[j] = 0 }
        for i in 0..<k { for j in 0..<c { t1[j] += partial[i * c + j]; t2[j] += partial[(k + i) * c + j] } }
    }
}
