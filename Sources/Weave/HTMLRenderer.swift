import Foundation
import WeaveRuntime

/// The finished report and what goes beside it.
public struct RenderedReport: Sendable {
    /// The complete self-contained index.html.
    public var html: String
    /// `report/results.json`: every published JSON result by name.
    public var results: [String: JSONValue]
    /// Figure name -> `KeyParts.dataDigest` of each figure this build has (results.json's
    /// `@figure-data`, which `weave diff` compares).
    public var figureData: [String: String] = [:]
    /// Every figure that has an entry: name, SVG bytes and PNG bytes, to copy to figures/.
    public var figures: [(name: String, svg: Data, png: Data)]
    /// Problems found while filling in results (a path that does not exist, bad TeX).
    public var errors: [WeaveError]
}

/// Builds the one self-contained HTML file: chapters through cmark-gfm, stage code folded and
/// highlighted, outputs, numbered figures (inline SVG) and tables, typeset math, a table of
/// contents and the provenance appendix.
public struct HTMLRenderer {
    /// Prose, numbers and references.
    public var plan: DocumentPlan
    /// The stages, for their code and options.
    public var graph: StageGraph
    /// The build's results by stage name; outputs are read from their cache entries.
    public var results: [String: StageResult]
    /// What the appendix records about the build.
    public var provenance: Provenance
    /// Typesets `$...$` with KaTeX; nil reports every formula as an error ("no KaTeX").
    public var math: MathRenderer?
    /// Compile errors of the build; those inside a `define` block are shown at that block.
    var compileErrors: [WeaveError] = []

    /// A renderer for one build; nothing is read until `render()`.
    public init(plan: DocumentPlan, graph: StageGraph, results: [String: StageResult], provenance: Provenance, math: MathRenderer?) {
        self.plan = plan
        self.graph = graph
        self.results = results
        self.provenance = provenance
        self.math = math
    }

    /// Renders the report. Problems (a missing result, bad TeX) become error cards in the page and
    /// entries in the result's `errors`; it does not throw.
    public func render() -> RenderedReport {
        var (published, errors) = publishedValues()
        var figures: [(String, Data, Data)] = []

        // Token replacements (math typeset in one batch).
        let mathItems = plan.tokens.enumerated().compactMap { i, t -> (Int, String, Bool)? in
            if case .math(let tex, let display) = t.token { return (i, tex, display) } else { return nil }
        }
        var replacement: [String] = Array(repeating: "", count: plan.tokens.count)
        if !mathItems.isEmpty {
            let rendered = math?.render(mathItems.map { ($0.1, $0.2) }) ?? mathItems.map { _ in .error("no KaTeX") }
            for (k, item) in mathItems.enumerated() {
                switch rendered[k] {
                case .html(let html):
                    replacement[item.0] = item.2 ? "<div class=\"math display\">\(html)</div>" : html
                case .error(let message):
                    errors.append(WeaveError("math: \(message)", at: plan.tokens[item.0].location))
                    replacement[item.0] = "<code class=\"math-error\" title=\"\(escapeHTML(message))\">\(escapeHTML(item.1))</code>"
                }
            }
        }
        for (i, (token, location)) in plan.tokens.enumerated() {
            switch token {
            case .figureRef(let name):
                replacement[i] = "<a class=\"xref\" href=\"#fig-\(name)\">Figure \(plan.figureNumbers[name] ?? 0)</a>"
            case .tableRef(let name):
                replacement[i] = "<a class=\"xref\" href=\"#tbl-\(name)\">Table \(plan.tableNumbers[name] ?? 0)</a>"
            case .value(let artifact, let path, let filter, let source):
                switch published[artifact] {
                case .some(.some(let value)):
                    guard let v = value.value(at: path) else {
                        errors.append(WeaveError("result '\(source)': '\(artifact)' has no field \(path.joined(separator: "."))", at: location))
                        replacement[i] = missing(source, "no such field")
                        continue
                    }
                    switch filter.format(v) {
                    case .success(let text): replacement[i] = "<span class=\"value\" title=\"\(escapeHTML(source))\">\(escapeHTML(text))</span>"
                    case .failure(let e):
                        errors.append(WeaveError("result '\(source)' \(e.message)", at: location))
                        replacement[i] = missing(source, e.message)
                    }
                case .some(.none):
                    // Its stage failed or was not built: the failure is reported at the stage.
                    replacement[i] = missing(source, "not available in this build")
                case .none:
                    errors.append(WeaveError("result '\(source)' was not published by any stage", at: location))
                    replacement[i] = missing(source, "not published")
                }
            case .math:
                break
            }
        }

        var body = ""
        var toc: [(level: Int, id: String, text: String)] = []
        var usedIDs: Set<String> = []
        for chapterPlan in plan.chapters {
            var markdown = ""
            var blockHTML: [String] = []
            for (b, block) in chapterPlan.chapter.blocks.enumerated() {
                if case .markdown = block, let prose = chapterPlan.prose[b] {
                    markdown += prose.markdown + "\n\n"
                    continue
                }
                let html: String
                switch block {
                case .stage(let stage):
                    html = stageHTML(stage, caption: chapterPlan.captions[stage.name], figures: &figures)
                case .listing(let code, _):
                    html = "<pre class=\"listing\"><code class=\"swift\">\(SwiftHighlighter.html(code))</code></pre>"
                case .definitions(let code, let location, let codeLine, let hidden):
                    let lines = codeLine...(codeLine + code.split(separator: "\n", omittingEmptySubsequences: false).count)
                    let broken = compileErrors.filter { $0.location?.file == location.file && $0.location.map { lines.contains($0.line) } == true }
                    let card = broken.isEmpty ? "" : """
                        <div class="card error-card"><p><strong>definitions did not compile</strong> \
                        <span class="where">\(escapeHTML(location.description))</span></p>\
                        <pre>\(escapeHTML(broken.map(\.description).joined(separator: "\n")))</pre></div>
                        """
                    html = card + (hidden ? "" : "<details class=\"code\"><summary>definitions · \(escapeHTML(location.description))</summary><pre><code class=\"swift\">\(SwiftHighlighter.html(code))</code></pre></details>")
                case .markdown:
                    html = ""
                }
                markdown += "\n\nWEAVEBLOCK\(blockHTML.count)X\n\n"
                blockHTML.append(Self.defusePlaceholders(html))
            }
            var html = Markdown.html(markdown)
            html = Self.substitute(html, prefix: "WEAVEBLOCK", with: blockHTML) { _ in true }
            // Tokens before headings, so that a value in a heading reads right in the contents.
            // Display math replaces its whole paragraph.
            html = Self.substitute(html, prefix: "WEAVETOKEN", with: replacement) { i in
                if case .math(_, true) = plan.tokens[i].token { return true } else { return false }
            }
            // Headings get ids for the table of contents.
            html = addHeadingIDs(html, toc: &toc, used: &usedIDs)
            body += "<section class=\"chapter\" data-file=\"\(escapeHTML(chapterPlan.chapter.file))\">\n\(html)</section>\n"
        }

        let title = toc.first(where: { $0.level == 1 })?.text ?? "Report"
        var html = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        html += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        html += "<title>\(title)</title>\n<style>\n\(ReportStyle.css)\n"
        if !mathItems.isEmpty, let css = math?.stylesheet() { html += css + "\n" }
        html += "</style>\n</head>\n<body>\n"
        html += "<p class=\"scale\">Scale <b>\(escapeHTML(provenance.scale))</b> · seed \(provenance.seed) · built \(Self.dateFormatter.string(from: provenance.date))</p>\n"
        html += failureBanner(errors: errors)
        html += tocHTML(toc)
        html += "<main>\n\(body)</main>\n"
        html += provenanceHTML()
        html += "</body>\n</html>\n"
        var flat: [String: JSONValue] = [:]
        for (k, v) in published { if let v { flat[k] = v } }
        var figureData: [String: String] = [:]
        for name in graph.order where graph[name]?.kind == .figure {
            if let result = results[name], result.status.succeeded, let parts = result.entry?.manifest.parts {
                figureData[name] = parts.dataDigest
            }
        }
        return RenderedReport(html: html, results: flat, figureData: figureData, figures: figures, errors: errors)
    }

    /// Code and output that happen to contain the renderer's own placeholder words must show
    /// them, not have values substituted in: the first letter becomes a character reference.
    static func defusePlaceholders(_ html: String) -> String {
        guard html.contains("WEAVE") else { return html }
        return html.replacingOccurrences(of: "WEAVETOKEN", with: "&#87;EAVETOKEN")
            .replacingOccurrences(of: "WEAVEBLOCK", with: "&#87;EAVEBLOCK")
    }

    /// Replaces every `PREFIX<n>X` with `values[n]` in one pass (a search per placeholder over a
    /// long chapter costs seconds). Where `ownParagraph(n)`, a `<p>` wrapping only the
    /// placeholder goes too: blocks and display math are not inline content.
    public static func substitute(_ html: String, prefix: String, with values: [String], ownParagraph: (Int) -> Bool) -> String {
        let bytes = Array(html.utf8)
        let marker = Array(prefix.utf8)
        let open = Array("<p>".utf8), close = Array("</p>".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = 0
        func matches(_ pattern: [UInt8], at position: Int) -> Bool {
            position >= 0 && position + pattern.count <= bytes.count && Array(bytes[position..<(position + pattern.count)]) == pattern
        }
        while i < bytes.count {
            if bytes[i] == marker[0], matches(marker, at: i) {
                var j = i + marker.count
                var n = 0
                var digits = 0
                while j < bytes.count, bytes[j] >= 48, bytes[j] <= 57 { n = n * 10 + Int(bytes[j] - 48); j += 1; digits += 1 }
                if digits > 0, j < bytes.count, bytes[j] == UInt8(ascii: "X"), n < values.count {
                    let end = j + 1
                    if ownParagraph(n), out.count >= open.count, Array(out.suffix(open.count)) == open, matches(close, at: end) {
                        out.removeLast(open.count)
                        out += Array(values[n].utf8)
                        i = end + close.count
                    } else {
                        out += Array(values[n].utf8)
                        i = end
                    }
                    continue
                }
            }
            out.append(bytes[i])
            i += 1
        }
        return String(decoding: out, as: UTF8.self)
    }

    func missing(_ source: String, _ why: String) -> String {
        "<span class=\"missing\" title=\"\(escapeHTML(why))\">[\(escapeHTML(source)): \(escapeHTML(why))]</span>"
    }

    /// Artifact name -> value (nil inner: published by a stage that is unavailable now).
    /// Two stages publishing one name would make `{{ name }}` ambiguous: that is an error.
    func publishedValues() -> (values: [String: JSONValue?], errors: [WeaveError]) {
        var values: [String: JSONValue?] = [:]
        var producer: [String: String] = [:]
        var ambiguous: Set<String> = []
        var errors: [WeaveError] = []
        for name in graph.order {
            guard let result = results[name] else { continue }
            if let entry = result.entry, result.status.succeeded {
                for (artifact, url) in Scheduler.artifacts(of: entry).sorted(by: { $0.key < $1.key })
                where url.pathExtension == "json" && url.path.contains("/\(StageProtocol.artifactsFolder)/") {
                    if let other = producer[artifact], other != name {
                        errors.append(WeaveError("'\(artifact)' is published by both \(other) and \(name)", at: graph[name]?.location))
                        ambiguous.insert(artifact)
                    }
                    producer[artifact] = name
                    // An ambiguous name shows as unavailable, not as whichever stage came last.
                    values[artifact] = ambiguous.contains(artifact) ? .some(nil) : (try? Data(contentsOf: url)).flatMap { try? JSONValue.decode($0) }
                }
            } else {
                // Names it would have published, so references read "not available", not "unknown".
                values[name] = values[name] ?? .some(nil)
                for artifact in DocumentPlan.publishedNames([graph[name]].compactMap { $0 }) where values[artifact] == nil {
                    values[artifact] = .some(nil)
                }
            }
        }
        return (values, errors)
    }

    // MARK: Stages

    func stageHTML(_ stage: Stage, caption: PreparedProse?, figures: inout [(String, Data, Data)]) -> String {
        let result = results[stage.name]
        let status = result?.status ?? .skipped
        let anchor = stage.kind == .figure ? "fig-\(stage.name)" : stage.kind == .table ? "tbl-\(stage.name)" : "stage-\(stage.name)"
        var html = ""
        let code = stage.hidden ? "" : codeHTML(stage, result: result)
        switch status {
        case .failed(let message):
            let printed = result?.output.map { $0.isEmpty ? "" : "<pre class=\"output\">\(escapeHTML(Self.abridged($0)))</pre>" } ?? ""
            return """
            <div class="card error-card" id="\(anchor)"><p><strong>\(stage.kind.rawValue) \(escapeHTML(stage.name)) failed</strong> \
            <span class="where">\(escapeHTML(stage.location.description))</span></p><pre>\(escapeHTML(message))</pre>\(code)\(printed)</div>
            """
        case .notRun(let why):
            return """
            <div class="card notrun-card" id="\(anchor)"><p><strong>\(stage.kind.rawValue) \(escapeHTML(stage.name)) not run</strong> \
            <span class="where">\(escapeHTML(stage.location.description))</span>: \(escapeHTML(why))</p>\(code)</div>
            """
        case .skipped:
            return """
            <div class="card notrun-card" id="\(anchor)"><p><strong>\(stage.kind.rawValue) \(escapeHTML(stage.name))</strong> \
            was not built in this run (<code>weave build</code> builds it).</p>\(code)</div>
            """
        case .cached, .ran:
            break
        }
        guard let entry = result?.entry else { return "" }
        let out = entry.output
        let stdout = (try? Data(contentsOf: out.appendingPathComponent("stdout.txt"))).map { String(decoding: $0, as: UTF8.self) } ?? ""
        let outputHTML = stdout.isEmpty ? "" : "<pre class=\"output\">\(escapeHTML(Self.abridged(stdout)))</pre>"
        let captionHTML = caption.map { Markdown.inlineHTML($0.markdown) } ?? ""
        switch stage.kind {
        case .compute:
            html = "<div class=\"stage\" id=\"\(anchor)\">\(code)\(outputHTML)</div>"
        case .figure:
            let svg = (try? Data(contentsOf: out.appendingPathComponent(StageProtocol.figureSVG))) ?? Data()
            let png = (try? Data(contentsOf: out.appendingPathComponent(StageProtocol.figurePNG))) ?? Data()
            figures.append((stage.name, svg, png))
            let number = plan.figureNumbers[stage.name] ?? 0
            html = """
            <figure class="figure" id="\(anchor)"><div class="svg">\(Self.inlineSVG(svg, prefix: "f\(number)-"))</div>\
            <figcaption><a href="#\(anchor)">Figure \(number)</a>. \(captionHTML)</figcaption>\(code)\(outputHTML)</figure>
            """
        case .table:
            let number = plan.tableNumbers[stage.name] ?? 0
            var tableHTML = "<p class=\"missing\">table missing</p>"
            if let data = try? Data(contentsOf: out.appendingPathComponent(StageProtocol.tableFile)),
               let table = try? JSONDecoder().decode(Table.self, from: data) {
                tableHTML = Self.tableHTML(table)
            }
            html = """
            <figure class="table" id="\(anchor)"><figcaption><a href="#\(anchor)">Table \(number)</a>. \(captionHTML)</figcaption>\
            \(tableHTML)\(code)\(outputHTML)</figure>
            """
        }
        return html
    }

    /// Long logs (a line per training step) would swamp the report: keep the head and the tail.
    public static func abridged(_ text: String, head: Int = 20, tail: Int = 100) -> String {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.count > head + tail + 10 else { return text }
        return (lines.prefix(head) + ["… \(lines.count - head - tail) lines omitted …"] + lines.suffix(tail)).joined(separator: "\n")
    }

    func codeHTML(_ stage: Stage, result: StageResult?) -> String {
        var summary = "\(stage.kind.rawValue) <b>\(escapeHTML(stage.name))</b>"
        if !stage.needs.isEmpty { summary += " · needs \(stage.needs.map(escapeHTML).joined(separator: ", "))" }
        if stage.seeds > 1 { summary += " · \(stage.seeds) seeds" }
        switch result?.status {
        case .cached: summary += " · cached"
        case .ran: summary += " · ran"
        default: break
        }
        if let d = result?.duration { summary += " · \(ProgressDisplay.duration(d))" }
        summary += " · <span class=\"where\">\(escapeHTML(stage.location.description))</span>"
        return "<details class=\"code\"><summary>\(summary)</summary><pre><code class=\"swift\">\(SwiftHighlighter.html(stage.code))</code></pre></details>"
    }

    static func tableHTML(_ table: Table) -> String {
        func align(_ i: Int) -> String {
            guard let a = table.alignments, i < a.count else { return "" }
            return " style=\"text-align:\(a[i] == "right" ? "right" : a[i] == "center" ? "center" : "left")\""
        }
        var html = "<table><thead><tr>"
        for (i, c) in table.columns.enumerated() { html += "<th\(align(i))>\(escapeHTML(c))</th>" }
        html += "</tr></thead><tbody>"
        for row in table.rows {
            html += "<tr>" + row.enumerated().map { "<td\(align($0.offset))>\(escapeHTML($0.element))</td>" }.joined() + "</tr>"
        }
        return html + "</tbody></table>"
    }

    /// Cairo's SVG, ready to inline: without the XML prolog, and with every id prefixed so that
    /// two figures' glyph and clip ids cannot collide in one page.
    public static func inlineSVG(_ data: Data, prefix: String) -> String {
        var svg = String(decoding: data, as: UTF8.self)
        if let start = svg.range(of: "<svg") { svg = String(svg[start.lowerBound...]) }
        let rules: [(String, String)] = [
            (##"id="([^"]+)""##, "id=\"\(prefix)$1\""),
            (##"url\(#([^)]+)\)"##, "url(#\(prefix)$1)"),
            (##"href="#([^"]+)""##, "href=\"#\(prefix)$1\""),
        ]
        for (pattern, template) in rules {
            guard let regex = try? NSRegularExpression(pattern: pattern) else { continue }
            svg = regex.stringByReplacingMatches(in: svg, range: NSRange(svg.startIndex..., in: svg), withTemplate: template)
        }
        return svg
    }

    // MARK: Table of contents and appendix

    func addHeadingIDs(_ html: String, toc: inout [(level: Int, id: String, text: String)], used: inout Set<String>) -> String {
        guard let regex = try? NSRegularExpression(pattern: #"<h([1-4])>(.*?)</h\1>"#, options: [.dotMatchesLineSeparators]) else { return html }
        var out = ""
        var last = html.startIndex
        for m in regex.matches(in: html, range: NSRange(html.startIndex..., in: html)) {
            guard let whole = Range(m.range, in: html), let l = Range(m.range(at: 1), in: html),
                  let inner = Range(m.range(at: 2), in: html), let level = Int(html[l]) else { continue }
            let content = String(html[inner])
            let text = content.replacingOccurrences(of: "<[^>]+>", with: "", options: .regularExpression)
            var id = Self.slug(text)
            var n = 2
            while used.contains(id) { id = "\(Self.slug(text))-\(n)"; n += 1 }
            used.insert(id)
            toc.append((level, id, text))
            out += html[last..<whole.lowerBound] + "<h\(level) id=\"\(id)\">\(content)</h\(level)>"
            last = whole.upperBound
        }
        return out + html[last...]
    }

    static func slug(_ text: String) -> String {
        let s = text.lowercased().map { $0.isLetter || $0.isNumber ? String($0) : "-" }.joined()
        let collapsed = s.split(separator: "-").joined(separator: "-")
        return collapsed.isEmpty ? "section" : collapsed
    }

    func tocHTML(_ toc: [(level: Int, id: String, text: String)]) -> String {
        // Chapter titles (level 1) and their sections; the first title names the whole report.
        let entries = toc.dropFirst(toc.first?.level == 1 ? 1 : 0).filter { $0.level <= 3 }
        guard !entries.isEmpty else { return "" }
        var html = "<nav class=\"toc\"><h2>Contents</h2><ul>\n"
        for e in entries {
            html += "<li class=\"toc\(e.level)\"><a href=\"#\(e.id)\">\(e.text)</a></li>\n"
        }
        return html + "<li class=\"toc1\"><a href=\"#provenance\">Provenance</a></li>\n</ul></nav>\n"
    }

    /// At the top of a report with failed or unrun stages, or with `errors` found while
    /// rendering (an artifact two stages publish, a bad value reference, bad TeX): what they are,
    /// stages linked to their cards, so nobody reads a partly failed report as a whole one.
    func failureBanner(errors: [WeaveError] = []) -> String {
        var items: [String] = []
        for name in graph.order {
            guard let stage = graph[name] else { continue }
            let what: String
            switch results[name]?.status {
            case .failed(let message): what = "failed: " + (message.split(separator: "\n").first.map(String.init) ?? "")
            case .notRun(let why): what = "not run: " + why
            default: continue
            }
            let anchor = stage.kind == .figure ? "fig-\(name)" : stage.kind == .table ? "tbl-\(name)" : "stage-\(name)"
            items.append("<li><a href=\"#\(anchor)\">\(stage.kind.rawValue) \(escapeHTML(name))</a> \(escapeHTML(what))</li>")
        }
        let blocks = items.count
        items += errors.map { "<li>\(escapeHTML($0.description))</li>" }
        guard !items.isEmpty else { return "" }
        var what: [String] = []
        if blocks > 0 { what.append("\(blocks) block\(blocks == 1 ? "" : "s") failed or did not run") }
        if !errors.isEmpty { what.append("\(errors.count) error\(errors.count == 1 ? "" : "s") in the report") }
        return "<div class=\"failure-banner\" id=\"failures\"><strong>This build is incomplete: \(what.joined(separator: "; ")).</strong>\n<ul>\n"
            + items.joined(separator: "\n") + "\n</ul></div>\n"
    }

    func provenanceHTML() -> String {
        let p = provenance
        var html = "<section class=\"appendix\" id=\"provenance\"><h2>Provenance</h2>\n<table class=\"provenance\"><tbody>\n"
        let rows: [(String, String)] = [
            ("Commit", p.commit), ("Toolchain", p.toolchain),
            ("BLAS", "OpenBLAS kernel \(p.blasKernel), \(p.blasThreads) thread\(p.blasThreads == 1 ? "" : "s") per stage, \(p.jobs) stage\(p.jobs == 1 ? "" : "s") at a time" + (p.jobs > 1 ? " (idle cores lent to the stages still running)" : "")),
            ("Engine kernels", "\(p.enginePath) for the stages run in this build; each stage's row says which path computed its result (numbers from another path can differ in the last digits)"),
            ("Scale", p.scale), ("Seed", String(p.seed)), ("Host", p.host),
            ("Built", Self.dateFormatter.string(from: p.date)),
        ]
        for (k, v) in rows { html += "<tr><th>\(k)</th><td>\(escapeHTML(v))</td></tr>\n" }
        html += "</tbody></table>\n<table class=\"stages\"><thead><tr><th>Stage</th><th>Kind</th><th>Where</th><th>Key</th><th>Seed</th><th>Duration</th><th>Made with</th><th>Run</th></tr></thead><tbody>\n"
        for name in graph.order {
            guard let stage = graph[name] else { continue }
            let r = results[name]
            let run: String
            switch r?.status {
            case .cached: run = "cache hit"
            case .ran: run = "fresh run"
            case .failed: run = "failed"
            case .notRun: run = "not run"
            case .skipped, .none: run = "not built"
            }
            let key = r?.key ?? ""
            let seeds = stage.seeds > 1 ? "\(p.seed)…\(p.seed &+ UInt64(stage.seeds - 1))" : String(p.seed)
            html += "<tr><td><a href=\"#\(stage.kind == .figure ? "fig" : stage.kind == .table ? "tbl" : "stage")-\(name)\">\(escapeHTML(name))</a></td>"
            html += "<td>\(stage.kind.rawValue)</td><td>\(escapeHTML(stage.location.description))</td>"
            html += "<td><code title=\"\(key)\">\(key.prefix(12))</code></td><td>\(seeds)</td>"
            // The threads of the build that made the result (a cache hit may come from another).
            var madeWith = ""
            if let m = r?.entry?.manifest {
                madeWith = m.threads.map { "\($0) thread\($0 == 1 ? "" : "s")" + (m.jobs.map { ", \($0) at a time" } ?? "") } ?? "threads not recorded"
                madeWith += ", kernels " + (m.enginePath ?? "not recorded")
                if r?.status == .cached { madeWith += ", \(Self.dateFormatter.string(from: m.created))" }
            }
            html += "<td>\(r?.duration.map { ProgressDisplay.duration($0) } ?? "")</td><td>\(madeWith)</td><td>\(run)</td></tr>\n"
        }
        return html + "</tbody></table>\n</section>\n"
    }

    static var dateFormatter: ISO8601DateFormatter {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        return f
    }
}
