import Foundation

/// A small Swift highlighter for folded stage code: enough lexing to colour comments, strings,
/// numbers, keywords, types and attributes. Output is escaped HTML with `<span class=...>`.
public enum SwiftHighlighter {
    static let keywords: Set<String> = [
        "let", "var", "func", "return", "if", "else", "guard", "for", "in", "while", "repeat", "switch", "case",
        "default", "break", "continue", "struct", "class", "enum", "protocol", "extension", "import", "try", "throw",
        "throws", "rethrows", "catch", "do", "defer", "where", "as", "is", "nil", "true", "false", "self", "Self",
        "init", "static", "public", "private", "internal", "fileprivate", "some", "any", "inout", "mutating",
        "async", "await", "typealias", "associatedtype", "final", "lazy", "weak", "override", "subscript",
    ]

    /// `code` as escaped HTML with highlight spans; the text content is unchanged.
    public static func html(_ code: String) -> String {
        let chars = Array(code)
        var out = ""
        var i = 0
        func span(_ cls: String, _ text: String) { out += "<span class=\"\(cls)\">\(escapeHTML(text))</span>" }
        while i < chars.count {
            let c = chars[i]
            if c == "/", i + 1 < chars.count, chars[i + 1] == "/" {
                var j = i
                while j < chars.count, chars[j] != "\n" { j += 1 }
                span("com", String(chars[i..<j])); i = j
            } else if c == "/", i + 1 < chars.count, chars[i + 1] == "*" {
                var j = i + 2
                while j + 1 < chars.count, !(chars[j] == "*" && chars[j + 1] == "/") { j += 1 }
                j = min(chars.count, j + 2)
                span("com", String(chars[i..<j])); i = j
            } else if c == "\"" {
                let triple = i + 2 < chars.count && chars[i + 1] == "\"" && chars[i + 2] == "\""
                var j = i + (triple ? 3 : 1)
                while j < chars.count {
                    if chars[j] == "\\" { j += 2; continue }
                    if triple {
                        if j + 2 < chars.count, chars[j] == "\"", chars[j + 1] == "\"", chars[j + 2] == "\"" { j += 3; break }
                    } else if chars[j] == "\"" || chars[j] == "\n" { j += 1; break }
                    j += 1
                }
                j = min(j, chars.count)
                span("str", String(chars[i..<j])); i = j
            } else if c.isNumber {
                var j = i
                while j < chars.count, chars[j].isNumber || chars[j] == "." || chars[j] == "_" || chars[j] == "e" || chars[j].isHexDigit && chars[i] == "0" || chars[j] == "x" {
                    if chars[j] == ".", j + 1 < chars.count, !chars[j + 1].isNumber { break }
                    j += 1
                }
                span("num", String(chars[i..<j])); i = j
            } else if c.isLetter || c == "_" || c == "@" || c == "#" {
                var j = i + 1
                while j < chars.count, chars[j].isLetter || chars[j].isNumber || chars[j] == "_" { j += 1 }
                let word = String(chars[i..<j])
                if c == "@" || c == "#" { span("attr", word) }
                else if keywords.contains(word) { span("kw", word) }
                else if c.isUppercase { span("typ", word) }
                else if j < chars.count, chars[j] == "(" { span("fn", word) }
                else { out += escapeHTML(word) }
                i = j
            } else {
                out += escapeHTML(String(c)); i += 1
            }
        }
        return out
    }
}
