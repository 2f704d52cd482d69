import Foundation

/// What changed between two builds' `results.json` (`weave diff`): numbers that moved beyond a
/// tolerance, values of other types that differ, results that appeared or went, and figures
/// whose data changed (`@figure-data`). For CI: the command exits 1 when anything is listed.
public struct ResultsDiff: Sendable, Equatable {
    /// The field of `results.json` holding figure name -> `KeyParts.dataDigest`.
    public static let figureDataField = "@figure-data"

    /// One difference at a dotted path (`teacher.accuracy`, `runs.0.loss`).
    public enum Change: Sendable, Equatable, CustomStringConvertible {
        /// A number moved by more than the tolerance: path, old, new.
        case moved(String, Double, Double)
        /// A non-number (or a number turned into something else) differs.
        case changed(String, String, String)
        /// A path present only in the new results.
        case added(String)
        /// A path present only in the old results.
        case removed(String)
        /// A figure's data: name, and "data changed", "new" or "gone".
        case figure(String, String)

        /// One line: `path: old -> new (+delta)`, `path: new` or `path: gone`.
        public var description: String {
            switch self {
            case .moved(let path, let old, let new):
                return "\(path): \(ResultsDiff.format(old)) -> \(ResultsDiff.format(new)) (\(new - old >= 0 ? "+" : "")\(ResultsDiff.format(new - old)))"
            case .changed(let path, let old, let new): return "\(path): \(old) -> \(new)"
            case .added(let path): return "\(path): new"
            case .removed(let path): return "\(path): gone"
            case .figure(let name, let what): return "figure \(name): \(what)"
            }
        }
    }

    /// Every difference, in walk order (object keys sorted, array items by index); empty when equal.
    public var changes: [Change]
    /// What could not be compared and why (not changes: they do not set the exit code).
    public var notes: [String] = []

    /// Compares `old` with `new`; numbers within `tolerance` (absolute) count as equal. Figures
    /// are compared when both carry `@figure-data` (files from before it was recorded do not).
    public init(old: JSONValue, new: JSONValue, tolerance: Double = 0) {
        var changes: [Change] = []
        var old = old, new = new
        let oldFigures = Self.takeFigureData(&old), newFigures = Self.takeFigureData(&new)
        Self.walk(old, new, path: "", tolerance: tolerance, into: &changes)
        if let oldFigures, let newFigures {
            for name in Set(oldFigures.keys).union(newFigures.keys).sorted() {
                switch (oldFigures[name], newFigures[name]) {
                case (.some(let a), .some(let b)) where a != b: changes.append(.figure(name, "data changed"))
                case (.none, .some): changes.append(.figure(name, "new"))
                case (.some, .none): changes.append(.figure(name, "gone"))
                default: break
                }
            }
        } else if oldFigures != nil || newFigures != nil {
            notes.append("figures not compared: the \(oldFigures == nil ? "old" : "new") results.json has no \(Self.figureDataField) (written before weave recorded figure data)")
        }
        self.changes = changes
    }

    /// Removes and returns the figure data digests of a results object (nil: none recorded).
    static func takeFigureData(_ value: inout JSONValue) -> [String: JSONValue]? {
        guard case .object(var fields) = value, let field = fields.removeValue(forKey: figureDataField) else { return nil }
        value = .object(fields)
        if case .object(let figures) = field { return figures }
        return [:]
    }

    /// Reads two `results.json` files; throws naming the file that is missing or not JSON.
    public init(oldFile: URL, newFile: URL, tolerance: Double = 0) throws {
        func load(_ url: URL) throws -> JSONValue {
            guard let data = try? Data(contentsOf: url) else { throw WeaveError("cannot read \(url.path)") }
            do { return try JSONValue.decode(data) } catch { throw WeaveError("\(url.path) is not JSON: \(error)") }
        }
        self.init(old: try load(oldFile), new: try load(newFile), tolerance: tolerance)
    }

    static func walk(_ a: JSONValue, _ b: JSONValue, path: String, tolerance: Double, into changes: inout [Change]) {
        func child(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }
        switch (a, b) {
        case (.object(let x), .object(let y)):
            for key in Set(x.keys).union(y.keys).sorted() {
                switch (x[key], y[key]) {
                case (.some(let u), .some(let v)): walk(u, v, path: child(key), tolerance: tolerance, into: &changes)
                case (.some, .none): changes.append(.removed(child(key)))
                case (.none, .some): changes.append(.added(child(key)))
                case (.none, .none): break
                }
            }
        case (.array(let x), .array(let y)):
            for i in 0..<max(x.count, y.count) {
                if i < x.count, i < y.count { walk(x[i], y[i], path: child(String(i)), tolerance: tolerance, into: &changes) }
                else if i < x.count { changes.append(.removed(child(String(i)))) }
                else { changes.append(.added(child(String(i)))) }
            }
        case (.number(let x), .number(let y)):
            if !(abs(x - y) <= tolerance) { changes.append(.moved(path, x, y)) }
        default:
            if a != b { changes.append(.changed(path, text(a), text(b))) }
        }
    }

    static func text(_ v: JSONValue) -> String {
        guard let data = try? JSONEncoder().encode(v) else { return "?" }
        return String(decoding: data, as: UTF8.self)
    }

    static func format(_ x: Double) -> String {
        x == x.rounded() && abs(x) < 1e15 ? String(Int64(x)) : String(format: "%.6g", x)
    }
}
