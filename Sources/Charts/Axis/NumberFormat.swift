import Foundation

/// How numbers print on ticks, cells and colour bars. Locale-independent (the report must not
/// change with the machine) and with a true minus sign.
public enum NumberFormat: Sendable, Equatable, Hashable {
    /// Ticks: as many decimals as the tick step needs. Cells: up to 3 significant decimals.
    case automatic
    /// Exactly `digits` decimals (3.14159 with 2 -> "3.14").
    case fixed(Int)
    /// Value x 100 with a percent sign, `digits` decimals (0.973 -> "97.3%").
    case percent(Int)

    /// The value as a cell or annotation shows it.
    public func string(_ v: Double) -> String { string(v, stepDecimals: nil) }

    /// `stepDecimals`: on an axis, the decimals the tick step needs (set by `NiceTicks`).
    func string(_ v: Double, stepDecimals: Int?) -> String {
        guard v.isFinite else { return v.isNaN ? "–" : (v > 0 ? "∞" : "−∞") }
        switch self {
        case .fixed(let d): return NumberFormat.fixedString(v, d)
        case .percent(let d): return NumberFormat.fixedString(v * 100, d) + "%"
        case .automatic:
            if let d = stepDecimals { return NumberFormat.tickString(v, decimals: d) }
            if v == v.rounded(), abs(v) < 1e15 { return NumberFormat.fixedString(v, 0) }
            let d = abs(v) >= 100 ? 1 : (abs(v) >= 1 ? 2 : 3)
            var s = NumberFormat.fixedString(v, d)
            // Trailing zeros carry no information in a cell label.
            while s.contains("."), s.hasSuffix("0") { s.removeLast() }
            if s.hasSuffix(".") { s.removeLast() }
            return s
        }
    }

    /// Large tick values get a k/M suffix so a count axis stays narrow.
    static func tickString(_ v: Double, decimals: Int) -> String {
        let a = abs(v)
        if a >= 1e6, decimals == 0, (v / 1e5).rounded() == v / 1e5 {
            var s = fixedString(v / 1e6, 1)
            if s.hasSuffix(".0") { s.removeLast(2) }
            return s + "M"
        }
        if a >= 1e4, decimals == 0, (v / 100).rounded() == v / 100 {
            var s = fixedString(v / 1e3, 1)
            if s.hasSuffix(".0") { s.removeLast(2) }
            return s + "k"
        }
        return fixedString(v, decimals)
    }

    static func fixedString(_ v: Double, _ decimals: Int) -> String {
        var s = String(format: "%.\(max(0, min(decimals, 12)))f", v)
        if s.hasPrefix("-") {
            // "-0.0" is noise; otherwise use the typographic minus.
            if s.dropFirst().allSatisfy({ $0 == "0" || $0 == "." }) { s.removeFirst() } else { s = "−" + s.dropFirst() }
        }
        return s
    }
}
