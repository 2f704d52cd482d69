import Foundation
import WeaveRuntime

/// Something in prose the weaver fills in after cmark has rendered the Markdown.
public enum ProseToken: Sendable, Equatable {
    /// `@fig:NAME`: becomes a link "Figure N".
    case figureRef(String)
    /// `@tbl:NAME`: becomes a link "Table N".
    case tableRef(String)
    /// `{{ artifact.path | filter }}`
    case value(artifact: String, path: [String], filter: ValueFilter, source: String)
    /// `$tex$` (inline) or `$$tex$$` (display), typeset by KaTeX.
    case math(String, display: Bool)
}

/// Prose with each token replaced by a placeholder word that cmark leaves alone. Pulling math
/// and references out *before* Markdown keeps `$a_i * b_i$` from turning into emphasis.
public struct PreparedProse: Sendable {
    /// The prose with every token replaced by its placeholder.
    public var markdown: String
    /// The tokens in order, each with its chapter location.
    public var tokens: [(token: ProseToken, location: SourceLocation)]

    /// The word that stands in for token `i` (a document-wide number).
    public static func placeholder(_ i: Int) -> String { "WEAVETOKEN\(i)X" }
}

/// Finds `@fig:`, `@tbl:`, `{{ }}` and `$math$` in prose, skipping code spans and fences.
public struct ProseScanner: Sendable {
    /// A scanner; it holds no state.
    public init() {}

    /// `firstToken` numbers placeholders after those of earlier text of the same document.
    public func scan(_ text: String, file: String, firstLine: Int, firstToken: Int = 0) throws -> PreparedProse {
        var out = ""
        var tokens: [(token: ProseToken, location: SourceLocation)] = []
        var errors: [WeaveError] = []
        let chars = Array(text)
        var i = 0
        var line = firstLine
        var atLineStart = true
        var openFence: Fence?

        func emit(_ token: ProseToken, at line: Int) {
            out += PreparedProse.placeholder(firstToken + tokens.count)
            tokens.append((token, SourceLocation(file: file, line: line)))
        }

        while i < chars.count {
            let c = chars[i]
            // Fenced code inside prose is copied verbatim, line by line.
            if atLineStart {
                var end = i
                while end < chars.count, chars[end] != "\n" { end += 1 }
                let lineText = String(chars[i..<end])
                // The line's newline is handled below like any other, which counts the line.
                if let fence = openFence {
                    if fence.isClosed(by: lineText) { openFence = nil }
                    out += lineText
                    i = end
                    atLineStart = false
                    continue
                } else if let fence = Fence(opening: lineText) {
                    openFence = fence
                    out += lineText
                    i = end
                    atLineStart = false
                    continue
                }
            }
            atLineStart = false
            switch c {
            case "\n":
                out.append(c); line += 1; i += 1; atLineStart = true
            case "\\" where i + 1 < chars.count:
                out.append(c); out.append(chars[i + 1])
                if chars[i + 1] == "\n" { line += 1; atLineStart = true }
                i += 2
            case "`":
                // A code span: copy up to the matching backtick run.
                let run = Self.run(of: "`", in: chars, at: i)
                var j = i + run
                var closedAt: Int?
                while j < chars.count {
                    if chars[j] == "`" {
                        let r = Self.run(of: "`", in: chars, at: j)
                        if r == run { closedAt = j; break }
                        j += r
                    } else { j += 1 }
                }
                let end = closedAt.map { $0 + run } ?? i + run
                let span = chars[i..<end]
                out += String(span)
                line += span.filter { $0 == "\n" }.count
                i = end
            case "$":
                let display = i + 1 < chars.count && chars[i + 1] == "$"
                if display {
                    guard let close = Self.find(["$", "$"], in: chars, from: i + 2) else {
                        errors.append(WeaveError("unclosed $$ display math", at: SourceLocation(file: file, line: line)))
                        out += "$$"; i += 2; continue
                    }
                    let tex = String(chars[(i + 2)..<close])
                    emit(.math(tex.trimmingCharacters(in: .whitespacesAndNewlines), display: true), at: line)
                    line += tex.filter { $0 == "\n" }.count
                    i = close + 2
                } else if let close = Self.inlineMathEnd(chars, from: i) {
                    emit(.math(String(chars[(i + 1)..<close]), display: false), at: line)
                    i = close + 1
                } else {
                    out.append(c); i += 1
                }
            case "{" where i + 1 < chars.count && chars[i + 1] == "{":
                guard let close = Self.find(["}", "}"], in: chars, from: i + 2) else {
                    errors.append(WeaveError("unclosed {{", at: SourceLocation(file: file, line: line)))
                    out += "{{"; i += 2; continue
                }
                let inner = String(chars[(i + 2)..<close])
                do {
                    emit(try Self.valueToken(inner), at: line)
                } catch let e as WeaveError {
                    errors.append(WeaveError(e.message, at: SourceLocation(file: file, line: line)))
                }
                line += inner.filter { $0 == "\n" }.count
                i = close + 2
            case "@" where (i == 0 || !(chars[i - 1].isLetter || chars[i - 1].isNumber)):
                let rest = String(chars[i..<min(chars.count, i + 5)])
                if rest == "@fig:" || rest == "@tbl:" {
                    var j = i + 5
                    var name = ""
                    while j < chars.count, chars[j].isASCII, chars[j].isLetter || chars[j].isNumber || chars[j] == "-" || chars[j] == "_" {
                        name.append(chars[j]); j += 1
                    }
                    // A trailing hyphen is punctuation ("see @fig:a-").
                    while name.hasSuffix("-") { name.removeLast(); j -= 1 }
                    if name.isEmpty {
                        errors.append(WeaveError("\(rest) without a name", at: SourceLocation(file: file, line: line)))
                        out += rest; i += 5; continue
                    }
                    emit(rest == "@fig:" ? .figureRef(name) : .tableRef(name), at: line)
                    i = j
                } else {
                    out.append(c); i += 1
                }
            default:
                out.append(c); i += 1
            }
        }
        if !errors.isEmpty { throw WeaveErrors(errors) }
        return PreparedProse(markdown: out, tokens: tokens)
    }

    /// `key.path | filter` -> token.
    static func valueToken(_ inner: String) throws -> ProseToken {
        let parts = inner.split(separator: "|", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        let key = parts.first ?? ""
        guard !key.isEmpty else { throw WeaveError("empty {{ }}") }
        let components = key.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard let artifact = components.first, isValidArtifactName(artifact), !components.contains("") else {
            throw WeaveError("bad result key '\(key)' in {{ }}")
        }
        var filter = ValueFilter.plain
        if parts.count == 2 {
            guard let f = ValueFilter(parsing: parts[1]) else {
                throw WeaveError("unknown filter '\(parts[1])' (known: \(ValueFilter.names.joined(separator: ", ")))")
            }
            filter = f
        }
        return .value(artifact: artifact, path: Array(components.dropFirst()), filter: filter, source: key)
    }

    static func run(of c: Character, in chars: [Character], at i: Int) -> Int {
        var j = i
        while j < chars.count, chars[j] == c { j += 1 }
        return j - i
    }

    static func find(_ pattern: [Character], in chars: [Character], from start: Int) -> Int? {
        var j = start
        while j + pattern.count <= chars.count {
            if chars[j] == "\\" { j += 2; continue }
            if Array(chars[j..<(j + pattern.count)]) == pattern { return j }
            j += 1
        }
        return nil
    }

    /// Pandoc's rule: `$` opens if followed by non-space, closes if preceded by non-space and not
    /// followed by a digit; one line only. So "costs $5 and $6" stays prose.
    static func inlineMathEnd(_ chars: [Character], from start: Int) -> Int? {
        guard start + 1 < chars.count, !chars[start + 1].isWhitespace else { return nil }
        var j = start + 1
        while j < chars.count, chars[j] != "\n" {
            if chars[j] == "\\" { j += 2; continue }
            if chars[j] == "$" {
                let before = chars[j - 1]
                let after: Character? = j + 1 < chars.count ? chars[j + 1] : nil
                if !before.isWhitespace, !(after?.isNumber ?? false), j > start + 1 { return j }
                return nil
            }
            j += 1
        }
        return nil
    }
}
