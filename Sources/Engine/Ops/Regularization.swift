import Randomness

/// Where a process's rows sit in a global batch split over processes: local row i is global row
/// `indices[i]` of `count`. Masks are drawn for all `count` rows and each process keeps its own,
/// so they are the same whatever the number of processes.
public struct GlobalRows: Sendable, Equatable {
    /// Global row of each local row, in local order.
    public var indices: [Int]
    /// Rows of the global batch.
    public var count: Int
    /// Local row i is global row `indices[i]` of `count` (each index below `count`).
    public init(indices: [Int], count: Int) { self.indices = indices; self.count = count }

    /// `perRow` values per global row drawn by `draw`, in global order; returns this process's rows.
    func localValues(perRow: Int, _ draw: () -> Float) -> [Float] {
        let all = (0..<(count * perRow)).map { _ in draw() }
        var local: [Float] = []
        local.reserveCapacity(indices.count * perRow)
        for r in indices { local += all[(r * perRow)..<((r + 1) * perRow)] }
        return local
    }
}

/// Inverted dropout: zeroes each value with probability `rate` and scales survivors by 1/(1-rate).
/// `globalRows`: the mask of the global batch's rows (data-parallel training), nil: of x's.
public func dropout(_ x: Variable, rate: Float, rng: inout SeededGenerator, globalRows: GlobalRows? = nil) -> Variable {
    guard rate > 0 else { return x }
    precondition(rate < 1, "dropout: rate must be below 1, got \(rate)")
    let keep = 1 - rate, scale = 1 / keep
    if let globalRows {
        precondition(globalRows.indices.count == x.shape[0], "dropout: \(globalRows.indices.count) global rows for \(x.shape[0])")
        return applyMask(x, globalRows.localValues(perRow: x.value.count / max(x.shape[0], 1)) { rng.uniform() < keep ? scale : 0 })
    }
    var mask = [Float](repeating: 0, count: x.value.count)
    for i in 0..<mask.count { mask[i] = rng.uniform() < keep ? scale : 0 }
    return applyMask(x, mask)
}

/// Stochastic depth on a residual branch: each sample's branch survives with probability
/// `survival` (scaled by 1/survival), else is dropped whole (Huang et al. 2016; EfficientNet's
/// drop_connect). `globalRows`: draw for the global batch's rows (data-parallel training).
public func dropPath(_ x: Variable, survival: Float, rng: inout SeededGenerator, globalRows: GlobalRows? = nil) -> Variable {
    guard survival < 1 else { return x }
    precondition(survival > 0, "dropPath: survival must be positive, got \(survival)")
    let n = x.shape[0], per = x.value.count / max(n, 1)
    precondition(globalRows.map { $0.indices.count == n } ?? true, "dropPath: global rows do not match \(n) rows")
    let keeps = globalRows.map { $0.localValues(perRow: 1) { rng.uniform() < survival ? 1 / survival : 0 } }
    var mask = [Float](repeating: 0, count: x.value.count)
    for i in 0..<n {
        let v: Float = keeps?[i] ?? (rng.uniform() < survival ? 1 / survival : 0)
        for j in 0..<per { mask[i * per + j] = v }
    }
    return applyMask(x, mask)
}

private func applyMask(_ x: Variable, _ mask: [Float]) -> Variable {
    let y = Tensor(shape: x.shape) { out in
        x.value.scalars.withUnsafeBufferPointer { p in
            for i in 0..<out.count { out[i] = p[i] * mask[i] }
        }
    }
    return Variable(y, parents: [x]) { g in
        [Tensor(shape: g.shape) { out in
            g.scalars.withUnsafeBufferPointer { gp in
                for i in 0..<out.count { out[i] = gp[i] * mask[i] }
            }
        }]
    }
}
