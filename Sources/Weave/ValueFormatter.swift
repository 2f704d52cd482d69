import Foundation

/// The `| filter` part of `{{ key | filter }}`: how a published number reads in prose.
public enum ValueFilter: Sendable, Equatable {
    /// No filter: whole numbers as integers, others to four significant digits, text as is.
    case plain
    /// 0.9731 -> "97.3%" (digits after the point).
    case percent(Int)
    /// 3.14159 -> "3.14".
    case fixed(Int)
    /// Rounded to a whole number.
    case int
    /// Whole number with thousands separators: 69257 -> "69,257".
    case thousands

    /// The filter spellings, listed in the error for an unknown filter.
    public static let names = ["percent", "percent(N)", "fixed(N)", "int", "thousands"]

    /// Parses a filter; nil for unknown names and for N outside 0...12. A bare `percent` is
    /// `percent(1)`; empty or `plain` is `.plain`.
    public init?(parsing text: String) {
        let t = text.trimmingCharacters(in: .whitespaces)
        func argument(_ name: String) -> Int?? {
            guard t.hasPrefix(name + "("), t.hasSuffix(")") else { return nil }
            let inner = t.dropFirst(name.count + 1).dropLast()
            guard let n = Int(inner), (0...12).contains(n) else { return .some(nil) }
            return .some(n)
        }
        switch t {
        case "", "plain": self = .plain
        case "percent": self = .percent(1)
        case "int": self = .int
        case "thousands": self = .thousands
        default:
            if let p = argument("percent") { guard let n = p else { return nil }; self = .percent(n) }
            else if let f = argument("fixed") { guard let n = f else { return nil }; self = .fixed(n) }
            else { return nil }
        }
    }

    /// Formats a value, or says why it cannot (an object where a number was expected).
    public func format(_ value: JSONValue) -> Result<String, WeaveError> {
        // Numbers published as text ("69257") still take number filters.
        var value = value
        if self != .plain, case .string(let s) = value, let n = Double(s.trimmingCharacters(in: .whitespaces)) {
            value = .number(n)
        }
        switch (self, value) {
        case (.plain, .string(let s)): return .success(s)
        case (.plain, .bool(let b)): return .success(b ? "true" : "false")
        case (.plain, .number(let n)): return .success(Self.plainNumber(n))
        case (.percent(let d), .number(let n)): return .success(String(format: "%.\(d)f%%", n * 100))
        case (.fixed(let d), .number(let n)): return .success(String(format: "%.\(d)f", n))
        case (.int, .number(let n)): return .success(String(Int(n.rounded())))
        case (.thousands, .number(let n)): return .success(Self.grouped(Int(n.rounded())))
        case (_, .array), (_, .object):
            return .failure(WeaveError("is a list or record, not a single value; add a path like .field"))
        case (_, .null):
            return .failure(WeaveError("is null"))
        default:
            return .failure(WeaveError("filter needs a number"))
        }
    }

    /// Integers print as integers; other numbers with four significant digits, which is what
    /// prose wants (use fixed(N) for more).
    static func plainNumber(_ n: Double) -> String {
        if n == n.rounded(), abs(n) < 1e15 { return String(Int(n)) }
        return String(format: "%.4g", n)
    }

    static func grouped(_ n: Int) -> String {
        let digits = String(abs(n))
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0, (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return (n < 0 ? "-" : "") + out
    }
}
