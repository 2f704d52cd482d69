import Foundation

/// What an axis shows, before it knows how long it will be.
struct AxisModel: Sendable {
    enum Kind: Sendable { case numeric, categorical([String]) }
    var label: String?
    var kind: Kind
    /// Extent of the data (numeric axes), including error bars and bands.
    var dataLow: Double = 0
    var dataHigh: Double = 1
    /// Bars and histograms start at zero; lines need not.
    var includeZero = false
    /// A caller-fixed range overrides the nice bounds (accuracy axes pinned to 0...100, say).
    var fixedRange: ClosedRange<Double>?
    var format: NumberFormat = .automatic
    /// True: the axis ends on ticks (value axes, where gridlines should frame the data).
    /// False: the axis ends just beyond the data (x of a line chart: severities 1...5 should
    /// not become 0...6).
    var niceBounds = true
    /// Counts such as epochs and severities: no ticks between whole numbers.
    var integerValues = false

    static func numeric(_ label: String?, low: Double, high: Double, includeZero: Bool = false,
                        fixed: ClosedRange<Double>? = nil, format: NumberFormat = .automatic, niceBounds: Bool = true) -> AxisModel {
        AxisModel(label: label, kind: .numeric, dataLow: low, dataHigh: high, includeZero: includeZero,
                  fixedRange: fixed, format: format, niceBounds: niceBounds)
    }

    static func categorical(_ label: String?, _ categories: [String]) -> AxisModel {
        AxisModel(label: label, kind: .categorical(categories))
    }

    var isCategorical: Bool { if case .categorical = kind { return true } else { return false } }
}

struct Tick: Sendable, Equatable {
    var value: Double
    /// Empty when the label was thinned out to avoid a collision (the tick mark stays).
    var label: String
}

/// An axis fitted to a length: bounds, ticks and how its labels are set.
struct ResolvedAxis: Sendable {
    var low: Double
    var high: Double
    var ticks: [Tick]
    var rotated: Bool = false
    var categorical: Bool = false
    /// Categorical y axes list their first category at the top, as a table would.
    var reversed: Bool = false

    /// Maps a data value onto `start...end` in points (start = the low end of the axis).
    func position(_ v: Double, from start: Double, to end: Double) -> Double {
        let t = high == low ? 0.5 : (v - low) / (high - low)
        return reversed ? end + (start - end) * t : start + (end - start) * t
    }
}

enum AxisOrientation { case horizontal, vertical }

/// Tick-label fitting: labels never overlap. Numeric axes ask for fewer nice ticks until the
/// labels fit; categorical axes turn labels a quarter turn, then label every k-th category.
enum AxisFitter {
    static let labelGap = 6.0
    static let maxRotatedLabel = 130.0

    static func fit(_ model: AxisModel, length: Double, orientation: AxisOrientation, canvas: Canvas) -> ResolvedAxis {
        switch model.kind {
        case .categorical(let names):
            return fitCategorical(names, length: length, orientation: orientation, canvas: canvas)
        case .numeric:
            return fitNumeric(model, length: length, orientation: orientation, canvas: canvas)
        }
    }

    private static func fitNumeric(_ model: AxisModel, length: Double, orientation: AxisOrientation, canvas: Canvas) -> ResolvedAxis {
        var lo = model.dataLow, hi = model.dataHigh
        if !lo.isFinite || !hi.isFinite { lo = 0; hi = 1 }
        if model.includeZero { lo = min(lo, 0); hi = max(hi, 0) }
        if let fixed = model.fixedRange { lo = fixed.lowerBound; hi = fixed.upperBound }
        // Preferred spacing: wide enough to read, dense enough to estimate values.
        // Start dense and thin out until labels have room: short labels ("1".."5") get every
        // tick, long ones ("0.030") fewer.
        let densest = orientation == .horizontal ? 28.0 : 30.0
        var count = max(2, Int(length / densest))
        var best: ResolvedAxis?
        // Tight bounds: 3% of the span beyond the data, so end markers are not cut by the frame.
        let span = hi - lo > 0 ? hi - lo : max(abs(lo), 1)
        let tight = (lo - 0.03 * span, hi + 0.03 * span)
        var previousStep = 0.0
        while count >= 1 {
            let nice = NiceTicks(covering: lo, hi, count: count, minimumStep: model.integerValues ? 1 : 0)
            // Neighbouring counts often round to the same nice step: measure each step once.
            if nice.step == previousStep { count -= 1; continue }
            previousStep = nice.step
            let low = model.fixedRange?.lowerBound ?? (model.niceBounds ? nice.lower : tight.0)
            let high = model.fixedRange?.upperBound ?? (model.niceBounds ? nice.upper : tight.1)
            let values = nice.values.filter { $0 >= low - nice.step * 1e-6 && $0 <= high + nice.step * 1e-6 }
            let ticks = values.map { Tick(value: $0, label: model.format.string($0, stepDecimals: nice.decimals)) }
            let axis = ResolvedAxis(low: low, high: high, ticks: ticks)
            if best == nil { best = axis }
            if fits(axis, length: length, orientation: orientation, canvas: canvas) { return axis }
            best = axis
            count -= 1
        }
        // Even two ticks collide (a tiny axis): keep the end labels only.
        var axis = best ?? ResolvedAxis(low: lo, high: hi, ticks: [])
        for i in axis.ticks.indices where i != 0 && i != axis.ticks.count - 1 { axis.ticks[i].label = "" }
        // Still colliding (an axis shorter than two labels): one label is better than a smudge.
        if !fits(axis, length: length, orientation: orientation, canvas: canvas) {
            for i in axis.ticks.indices.dropFirst() { axis.ticks[i].label = "" }
        }
        return axis
    }

    private static func fits(_ axis: ResolvedAxis, length: Double, orientation: AxisOrientation, canvas: Canvas) -> Bool {
        let labelled = axis.ticks.filter { !$0.label.isEmpty }
        guard labelled.count >= 2 else { return true }
        let spacing = abs(axis.position(labelled[1].value, from: 0, to: length) - axis.position(labelled[0].value, from: 0, to: length))
        for t in labelled {
            let m = canvas.measure(t.label, .tick)
            // Room to read, not just room to print: labels need white space about as wide as
            // themselves along x, and a line's height between them along y.
            let needed = orientation == .horizontal ? max(m.width + 2 * labelGap, 2 * m.width) : m.height + 10
            if needed > spacing { return false }
        }
        return true
    }

    private static func fitCategorical(_ names: [String], length: Double, orientation: AxisOrientation, canvas: Canvas) -> ResolvedAxis {
        let n = max(names.count, 1)
        let band = length / Double(n)
        var axis = ResolvedAxis(low: -0.5, high: Double(n) - 0.5,
                                ticks: names.enumerated().map { Tick(value: Double($0.offset), label: $0.element) },
                                categorical: true, reversed: orientation == .vertical)
        let height = canvas.measure("Ag", .tick).height
        switch orientation {
        case .horizontal:
            let widest = names.map { canvas.measure($0, .tick).width }.max() ?? 0
            if widest + labelGap <= band { return axis }
            axis.rotated = true
            for i in axis.ticks.indices {
                axis.ticks[i].label = canvas.fitting(axis.ticks[i].label, .tick, width: maxRotatedLabel)
            }
            thin(&axis, every: Int(((height + 2) / band).rounded(.up)))
        case .vertical:
            thin(&axis, every: Int(((height + 2) / band).rounded(.up)))
        }
        return axis
    }

    private static func thin(_ axis: inout ResolvedAxis, every k: Int) {
        guard k > 1 else { return }
        for i in axis.ticks.indices where i % k != 0 { axis.ticks[i].label = "" }
    }
}
