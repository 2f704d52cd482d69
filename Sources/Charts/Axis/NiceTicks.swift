import Foundation

/// Tick positions on steps of 1, 2 or 5 times a power of ten (Heckbert 1990, "Nice numbers for
/// graph labels"), which people read without arithmetic.
public struct NiceTicks: Sendable, Equatable {
    /// Distance between neighbouring ticks: 1, 2 or 5 times a power of ten (or `minimumStep`).
    public var step: Double
    /// Tick values in increasing order, multiples of `step`; a value within rounding of zero is 0.
    public var values: [Double]
    /// The first tick: the axis's lower bound (0 if there are no ticks).
    public var lower: Double { values.first ?? 0 }
    /// The last tick: the axis's upper bound (0 if there are no ticks).
    public var upper: Double { values.last ?? 0 }

    /// Ticks covering `low...high` with about `count` intervals; the first and last tick enclose
    /// the data, so they double as the axis bounds.
    public init(covering low: Double, _ high: Double, count: Int, minimumStep: Double = 0) {
        var lo = low, hi = high
        if !(lo.isFinite && hi.isFinite) { lo = 0; hi = 1 }
        if lo > hi { swap(&lo, &hi) }
        if hi - lo < 1e-12 * max(1, abs(lo)) {
            // A flat series still needs a visible axis: pad around the value.
            let pad = lo == 0 ? 1 : abs(lo) * 0.1
            lo -= pad; hi += pad
        }
        let step = max(NiceTicks.niceStep((hi - lo) / Double(max(count, 1))), minimumStep)
        // Integer tick indices avoid accumulating 0.1 + 0.2 drift; tiny epsilons let a value that
        // sits on a tick (up to rounding) count as on it.
        let first = (lo / step + 1e-9).rounded(.down)
        let last = (hi / step - 1e-9).rounded(.up)
        var values: [Double] = []
        var i = first
        // The cap only guards against pathological input; real axes have a handful of ticks.
        while i <= last + 0.5, values.count < 10_000 {
            let v = i * step
            values.append(abs(v) < step * 1e-9 ? 0 : v)
            i += 1
        }
        self.step = step
        self.values = values
    }

    /// The 1, 2 or 5 x 10^k nearest to `raw` (by ratio). Nearest rather than next-larger keeps
    /// the tick count near the request: 0...100 in 4 becomes steps of 20, not of 50.
    static func niceStep(_ raw: Double) -> Double {
        guard raw > 0, raw.isFinite else { return 1 }
        let magnitude = pow(10, (log10(raw)).rounded(.down))
        let candidates = [1.0, 2, 5, 10].map { $0 * magnitude }
        return candidates.min { abs(log($0 / raw)) < abs(log($1 / raw)) } ?? magnitude
    }

    /// Decimals needed so that every tick on this step prints distinctly.
    public var decimals: Int { max(0, Int((-log10(step) - 1e-9).rounded(.up))) }

    /// Tick labels as an axis prints them: the step's decimals, a true minus, k/M for big counts.
    public var labels: [String] { values.map { NumberFormat.automatic.string($0, stepDecimals: decimals) } }
}
