import Foundation

/// Cairo's SVG surface names elements with counters (`surface5`, `glyph0-1`, `clip2`), and some
/// of those counters are process-global: the same chart drawn after another one gets different
/// ids. Renumbering every id in order of first appearance makes equal charts byte-identical no
/// matter what else the process rendered.
public enum SVGNormalizer {
    static func normalize(_ data: Data, prefix: String = "") -> Data {
        guard let text = String(data: data, encoding: .utf8) else { return data }
        return Data(normalize(text, prefix: prefix).utf8)
    }

    /// `prefix` namespaces the ids, for SVGs inlined side by side in one HTML page (ids are
    /// document-global there: a second figure's `#glyph1` would draw the first figure's glyph).
    public static func normalize(_ svg: String, prefix: String = "") -> String {
        // Definitions: id="name". The new name keeps the alphabetic stem (readable, and distinct
        // stems can never collide) and replaces the digits with a per-stem counter.
        let definition = /id="([A-Za-z_][A-Za-z_]*)([0-9][0-9A-Za-z_\-]*)"/
        var renamed: [String: String] = [:]
        var counters: [String: Int] = [:]
        for match in svg.matches(of: definition) {
            let stem = String(match.output.1)
            let old = stem + String(match.output.2)
            if renamed[old] != nil { continue }
            let n = counters[stem, default: 0] + 1
            counters[stem] = n
            renamed[old] = "\(prefix)\(stem)\(n)"
        }
        // Images in figures are dataset samples: show their pixels, never a smoothed blur
        // (cairo's nearest-neighbour filter does not reach the SVG).
        let style = "<image style=\"image-rendering:optimizeSpeed;image-rendering:pixelated\" "
        let svg = svg.replacingOccurrences(of: style, with: "<image ").replacingOccurrences(of: "<image ", with: style)
        if renamed.isEmpty { return svg }
        // One pass over definitions and references (`#name` followed by a quote or a paren), so a
        // new name can never be renamed again.
        let token = /(id="|#)([A-Za-z_][0-9A-Za-z_\-]*)(?=["\)])/
        return svg.replacing(token) { match in
            let name = String(match.output.2)
            return String(match.output.1) + (renamed[name] ?? name)
        }
    }
}

extension Figure {
    /// The SVG with every id prefixed (`"fig3-"` gives `fig3-glyph1`), for inlining several
    /// figures into one HTML document. Deterministic like `svg()`. The prefix must itself be a
    /// valid XML name start (a letter or underscore first).
    public func svg(idPrefix: String) throws -> Data {
        SVGNormalizer.normalize(try svg(), prefix: idPrefix)
    }
}
