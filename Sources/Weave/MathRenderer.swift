import Foundation
import ProcessRunner
import SystemSupport

/// Typesets TeX with Debian's KaTeX at build time (no JavaScript in the report).
///
/// All formulas of a build go to one `node` process (a process per formula would cost seconds
/// on a long report), and results are kept in the cache folder by formula, so a prose-only
/// edit typesets only new formulas.
public struct MathRenderer: Sendable {
    /// Folder for typeset formulas, one file per formula (keyed by its TeX and display mode).
    public var cacheFolder: URL
    /// Where Debian puts node modules (katex, and commander for its CLI).
    public var nodePath: String
    /// KaTeX's stylesheet, inlined into the report.
    var cssFile: URL
    /// KaTeX's fonts, embedded into the report as data URLs.
    var fontFolder: URL

    /// A renderer using Debian's KaTeX and node paths unless given others.
    public init(cacheFolder: URL, nodePath: String = "/usr/share/nodejs",
                cssFile: URL = URL(fileURLWithPath: "/usr/share/javascript/katex/katex.min.css"),
                fontFolder: URL = URL(fileURLWithPath: "/usr/share/javascript/katex/fonts")) {
        self.cacheFolder = cacheFolder
        self.nodePath = nodePath
        self.cssFile = cssFile
        self.fontFolder = fontFolder
    }

    /// One formula's result.
    public enum Rendered: Sendable, Equatable {
        /// KaTeX's HTML for the formula.
        case html(String)
        /// Why it could not be typeset (KaTeX's parse error, or node missing).
        case error(String)
    }

    static let script = """
    const katex = require('katex');
    let input = '';
    process.stdin.on('data', d => input += d);
    process.stdin.on('end', () => {
      const out = JSON.parse(input).map(item => {
        try { return { html: katex.renderToString(item.tex, { displayMode: item.display, throwOnError: true }) }; }
        catch (e) { return { error: String(e.message || e) }; }
      });
      process.stdout.write(JSON.stringify(out));
    });
    """

    struct Item: Codable { var tex: String; var display: Bool }
    struct Output: Codable { var html: String?; var error: String? }

    /// Typesets each formula (`display`: block rather than inline), reusing cached results; one
    /// result per formula, in order. Never throws: failures come back as `.error`.
    public func render(_ formulas: [(tex: String, display: Bool)]) -> [Rendered] {
        var results: [Rendered?] = formulas.map { cached($0.tex, $0.display).map { .html($0) } }
        let missing = formulas.indices.filter { results[$0] == nil }
        if !missing.isEmpty {
            let items = missing.map { Item(tex: formulas[$0].tex, display: formulas[$0].display) }
            let rendered = run(items)
            for (k, index) in missing.enumerated() {
                switch rendered[k] {
                case .html(let html):
                    results[index] = .html(html)
                    try? AtomicFile.write(Data((Digest.hex(html) + "\n" + html).utf8), to: cacheURL(formulas[index].tex, formulas[index].display))
                case let other:
                    results[index] = other
                }
            }
        }
        return results.map { $0 ?? .error("not rendered") }
    }

    /// Where a formula's typeset HTML is kept (v2: the first line is the checksum of the rest).
    public func cacheURL(_ tex: String, _ display: Bool) -> URL {
        cacheFolder.appendingPathComponent("v2-" + Digest.hex("\(display ? "D" : "I")\(tex)") + ".html")
    }

    /// The typeset formula, verified against its checksum like every cache entry; a damaged
    /// file is removed and the formula typeset again.
    func cached(_ tex: String, _ display: Bool) -> String? {
        let url = cacheURL(tex, display)
        guard let text = try? String(contentsOf: url, encoding: .utf8) else { return nil }
        guard let newline = text.firstIndex(of: "\n"), Digest.hex(String(text[text.index(after: newline)...])) == String(text[..<newline]) else {
            try? FileManager.default.removeItem(at: url)
            return nil
        }
        return String(text[text.index(after: newline)...])
    }

    func run(_ items: [Item]) -> [Rendered] {
        let failure = { (message: String) in items.map { _ in Rendered.error(message) } }
        do {
            var env = ProcessInfo.processInfo.environment
            env["NODE_PATH"] = [nodePath, env["NODE_PATH"]].compactMap { $0 }.joined(separator: ":")
            let result = try ProcessRunner.run(["node", "-e", Self.script], in: cacheFolder.deletingLastPathComponent(),
                                       environment: env, stdin: try JSONEncoder().encode(items))
            guard result.status == 0 else {
                return failure("KaTeX (node, NODE_PATH=\(nodePath)) failed: \(result.stderr.prefix(300))")
            }
            let outputs = try JSONDecoder().decode([Output].self, from: Data(result.stdout.utf8))
            return outputs.map { o in o.html.map { .html($0) } ?? .error(o.error ?? "unknown KaTeX error") }
        } catch {
            return failure("KaTeX unavailable: \(error)")
        }
    }

    /// KaTeX's stylesheet with its WOFF2 fonts inlined as data URIs (other formats dropped:
    /// every browser that matters reads WOFF2). Without the package, an empty stylesheet:
    /// formulas then fall back to the browser's fonts, still readable.
    public func stylesheet() -> String {
        guard let css = try? String(contentsOf: cssFile, encoding: .utf8) else { return "" }
        let pattern = #"src:url\(fonts/([A-Za-z0-9_-]+)\.woff2\)[^;}]*"#
        guard let regex = try? NSRegularExpression(pattern: pattern) else { return css }
        var result = ""
        var last = css.startIndex
        for match in regex.matches(in: css, range: NSRange(css.startIndex..., in: css)) {
            guard let whole = Range(match.range, in: css), let nameRange = Range(match.range(at: 1), in: css) else { continue }
            result += css[last..<whole.lowerBound]
            let font = fontFolder.appendingPathComponent(String(css[nameRange]) + ".woff2")
            if let data = try? Data(contentsOf: font) {
                result += "src:url(data:font/woff2;base64,\(data.base64EncodedString())) format('woff2')"
            } else {
                result += "src:local('\(css[nameRange])')"
            }
            last = whole.upperBound
        }
        result += css[last...]
        return result
    }
}
