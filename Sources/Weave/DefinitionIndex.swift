import Foundation

/// The top-level declarations of the `swift define` blocks and which of them a stage reaches,
/// so that a stage is keyed only on the definitions it can use: a new helper in a define block
/// re-runs no stage that does not mention it (issue 18, item 10).
///
/// A conservative identifier scan, not a compiler. A declaration is reached when code mentions
/// a name it declares (its own, its members' at the first level of its body, an extension's
/// type), and through what every reached declaration mentions in turn. What a name scan
/// cannot see is reached by every stage: imports, operators (also as `func ==` members),
/// precedence groups, macros, `#if` and other directives, extensions that add a conformance,
/// an initialiser or a subscript (they change calls that name nothing new), and text it cannot
/// split. In doubt a stage depends on more, never on less: over-invalidation costs a re-run,
/// under-invalidation a wrong result.
public struct DefinitionIndex: Sendable, Equatable {
    /// One top-level declaration (or directive) of a define block.
    public struct Declaration: Sendable, Equatable {
        /// How `weave list` names it: `accuracy`, `extension Tensor`, `import Foo`.
        public var label: String
        /// Mentioning any of these reaches it.
        public var names: Set<String>
        /// Identifiers its text mentions (anywhere, string interpolations and comments included).
        public var mentions: Set<String>
        /// Reached by every stage (see the type's comment for when).
        public var global: Bool
        /// Digest of its text without comments and whitespace runs (`SourceNormaliser`).
        public var digest: String
    }

    /// The declarations in source order (a directive or unsplittable text counts as one).
    public private(set) var declarations: [Declaration]

    /// Splits `source` (the define blocks' code) into top-level declarations.
    public init(source: String) {
        let chars = Array(source)
        guard let tokens = Self.tokens(chars) else {
            // Unbalanced or unterminated: one declaration every stage depends on.
            declarations = source.allSatisfy(\.isWhitespace) ? [] : [Declaration(
                label: "define blocks (not split)", names: [], mentions: Self.identifiers(in: source), global: true,
                digest: Digest.hex(SourceNormaliser.normalise(source)))]
            return
        }
        declarations = Self.items(tokens).map { Self.declaration($0, chars: chars) }
    }

    /// Label -> digest of every declaration `code` reaches (declarations sharing a label, such
    /// as overloads, fold into one digest in source order).
    public func reached(from code: String) -> [String: String] {
        var mentioned = Self.identifiers(in: code)
        var reached = Array(repeating: false, count: declarations.count)
        var grew = true
        while grew {
            grew = false
            for (i, d) in declarations.enumerated() where !reached[i] && (d.global || !d.names.isDisjoint(with: mentioned)) {
                reached[i] = true
                mentioned.formUnion(d.mentions)
                grew = true
            }
        }
        var digests: [String: String] = [:]
        for (i, d) in declarations.enumerated() where reached[i] {
            digests[d.label] = digests[d.label].map { Digest.hex("\($0)\n\(d.digest)") } ?? d.digest
        }
        return digests
    }

    // MARK: Scanning

    /// Every identifier-like word of `text`, wherever it stands (over-approximates uses).
    static func identifiers(in text: String) -> Set<String> {
        var found: Set<String> = []
        var word = ""
        var inNumber = false  // `0x89`, `1e5`: not words
        for c in text {
            if c.isLetter || c == "_" || c.isNumber {
                if word.isEmpty && c.isNumber { inNumber = true }
                if !inNumber { word.append(c) }
                continue
            }
            if !word.isEmpty { found.insert(word); word = "" }
            inNumber = false
        }
        if !word.isEmpty { found.insert(word) }
        return found
    }

    struct Token {
        enum Kind { case identifier, punctuation, literal, directive }
        var text: String
        var kind: Kind
        /// Character offsets in the source.
        var start: Int
        var end: Int
        /// First token on its line.
        var lineStart: Bool
        /// Bracket nesting around the token (a bracket itself counts at its outer level).
        var depth: Int
    }

    static let declaringKeywords: Set<String> = [
        "func", "var", "let", "struct", "class", "enum", "protocol", "extension", "typealias", "actor", "import",
        "operator", "precedencegroup", "macro", "init", "subscript", "deinit",
    ]
    static let modifiers: Set<String> = [
        "public", "private", "fileprivate", "internal", "open", "package", "final", "static", "indirect", "nonisolated",
        "dynamic", "lazy", "weak", "unowned", "mutating", "nonmutating", "override", "required", "convenience",
        "optional", "prefix", "postfix", "infix", "consuming", "borrowing", "distributed", "isolated",
    ]
    /// Keywords whose declarations `weave list` cannot follow by name.
    static let alwaysGlobal: Set<String> = ["import", "operator", "precedencegroup", "macro", "init", "subscript", "deinit"]

    /// Swift tokens without comments; nil when a comment, string or bracket is not closed.
    static func tokens(_ s: [Character]) -> [Token]? {
        var tokens: [Token] = []
        var i = 0
        var lineStart = true
        var depth = 0
        func at(_ k: Int) -> Character? { k < s.count ? s[k] : nil }
        func add(_ kind: Token.Kind, _ start: Int, _ end: Int, depth d: Int) {
            tokens.append(Token(text: String(s[start..<end]), kind: kind, start: start, end: end, lineStart: lineStart, depth: d))
            lineStart = false
        }
        while i < s.count {
            let c = s[i]
            if c.isNewline { lineStart = true; i += 1; continue }
            if c.isWhitespace { i += 1; continue }
            if c == "/", at(i + 1) == "/" {
                while i < s.count, !s[i].isNewline { i += 1 }
                continue
            }
            if c == "/", at(i + 1) == "*" {
                var nesting = 0
                repeat {
                    guard i < s.count else { return nil }
                    if s[i] == "/", at(i + 1) == "*" { nesting += 1; i += 2 }
                    else if s[i] == "*", at(i + 1) == "/" { nesting -= 1; i += 2 }
                    else { if s[i].isNewline { lineStart = true }; i += 1 }
                } while nesting > 0
                continue
            }
            if c == "\"" || (c == "#" && Self.opensRawString(s, i)) {
                guard let end = skipString(s, i) else { return nil }
                add(.literal, i, end, depth: depth)
                i = end
                continue
            }
            if c.isLetter || c == "_" {
                var j = i
                while j < s.count, s[j].isLetter || s[j].isNumber || s[j] == "_" { j += 1 }
                add(.identifier, i, j, depth: depth)
                i = j
                continue
            }
            if c == "`" {
                var j = i + 1
                while j < s.count, s[j] != "`", !s[j].isNewline { j += 1 }
                guard at(j) == "`" else { return nil }
                tokens.append(Token(text: String(s[(i + 1)..<j]), kind: .identifier, start: i, end: j + 1, lineStart: lineStart, depth: depth))
                lineStart = false
                i = j + 1
                continue
            }
            if c.isNumber {
                var j = i
                while j < s.count, s[j].isLetter || s[j].isNumber || s[j] == "_" || s[j] == "." { j += 1 }
                add(.literal, i, j, depth: depth)
                i = j
                continue
            }
            if c == "#", let next = at(i + 1), next.isLetter {
                var j = i + 1
                while j < s.count, s[j].isLetter || s[j].isNumber || s[j] == "_" { j += 1 }
                add(.directive, i, j, depth: depth)
                i = j
                continue
            }
            if "({[".contains(c) {
                add(.punctuation, i, i + 1, depth: depth)
                depth += 1
            } else if ")}]".contains(c) {
                depth -= 1
                guard depth >= 0 else { return nil }
                add(.punctuation, i, i + 1, depth: depth)
            } else {
                add(.punctuation, i, i + 1, depth: depth)
            }
            i += 1
        }
        return depth == 0 ? tokens : nil
    }

    static func opensRawString(_ s: [Character], _ i: Int) -> Bool {
        var k = i
        while k < s.count, s[k] == "#" { k += 1 }
        return k < s.count && s[k] == "\""
    }

    /// End of the string literal starting at `i` (`"`, `"""`, `#"..."#`), interpolations
    /// (which may hold strings) included; nil when it does not end.
    static func skipString(_ s: [Character], _ i: Int) -> Int? {
        var k = i
        var hashes = 0
        while k < s.count, s[k] == "#" { hashes += 1; k += 1 }
        guard k < s.count, s[k] == "\"" else { return nil }
        let triple = k + 2 < s.count && s[k + 1] == "\"" && s[k + 2] == "\""
        var j = k + (triple ? 3 : 1)
        while j < s.count {
            let c = s[j]
            if c == "\\" {
                var m = j + 1
                var h = 0
                while h < hashes, m < s.count, s[m] == "#" { h += 1; m += 1 }
                if h == hashes, m < s.count, s[m] == "(" {
                    guard let end = skipInterpolation(s, m) else { return nil }
                    j = end
                } else {
                    j = h == hashes ? m + 1 : j + 1
                }
                continue
            }
            if c == "\"", !triple || (j + 2 < s.count && s[j + 1] == "\"" && s[j + 2] == "\"") {
                var m = j + (triple ? 3 : 1)
                var closing = 0
                while closing < hashes, m < s.count, s[m] == "#" { closing += 1; m += 1 }
                if closing == hashes { return m }
            }
            if !triple, c.isNewline { return nil }
            j += 1
        }
        return nil
    }

    /// End of `\( ... )` starting at its `(`.
    static func skipInterpolation(_ s: [Character], _ open: Int) -> Int? {
        var depth = 0
        var j = open
        while j < s.count {
            let c = s[j]
            if c == "\"" || (c == "#" && opensRawString(s, j)) {
                guard let end = skipString(s, j) else { return nil }
                j = end
                continue
            }
            if c == "(" { depth += 1 }
            if c == ")" { depth -= 1; if depth == 0 { return j + 1 } }
            j += 1
        }
        return nil
    }

    /// Top-level items: a new one starts at a line whose first token begins a declaration
    /// (attribute, modifier, declaring keyword, directive) once the current one has its keyword;
    /// other lines continue it (`.chained()`, `where ...`, `-> T`).
    static func items(_ tokens: [Token]) -> [[Token]] {
        var items: [[Token]] = []
        var current: [Token] = []
        var hasKeyword = false
        func close() {
            if !current.isEmpty { items.append(current) }
            current = []
            hasKeyword = false
        }
        for t in tokens {
            if t.depth == 0 {
                if t.kind == .punctuation && t.text == ";" { close(); continue }
                let begins = t.kind == .directive || t.text == "@"
                    || (t.kind == .identifier && (declaringKeywords.contains(t.text) || modifiers.contains(t.text)))
                if t.kind == .directive || (t.lineStart && begins && hasKeyword) { close() }
                if t.kind == .directive || (t.kind == .identifier && declaringKeywords.contains(t.text)) { hasKeyword = true }
            }
            current.append(t)
        }
        close()
        return items
    }

    static func declaration(_ item: [Token], chars: [Character]) -> Declaration {
        let text = String(chars[item[0].start..<(item.last?.end ?? item[0].start)])
        let normalised = SourceNormaliser.normalise(text)
        var names: Set<String> = []
        var global = false
        let firstLine = normalised.split(separator: "\n").first.map { String($0.prefix(60)) } ?? ""
        var label = firstLine
        let top = item.indices.filter { item[$0].depth == 0 }
        func identifier(after index: Int) -> String? {
            index + 1 < item.count && item[index + 1].kind == .identifier ? item[index + 1].text : nil
        }
        if let k = top.first(where: { item[$0].kind == .identifier && declaringKeywords.contains(item[$0].text) }),
           !item[..<k].contains(where: { $0.kind == .directive }) {
            let keyword = item[k].text
            if alwaysGlobal.contains(keyword)
                || item[..<k].contains(where: { ["prefix", "postfix", "infix"].contains($0.text) }) { global = true }
            switch keyword {
            case "extension":
                // The header up to the body: the extended type (and its generic constraints).
                let body = top.first { $0 > k && item[$0].text == "{" } ?? item.count
                let header = item[(k + 1)..<body]
                let whereIndex = header.firstIndex { $0.kind == .identifier && $0.text == "where" } ?? body
                // Its members are reached by name; the extended type too, for good measure.
                names.formUnion(item[(k + 1)..<whereIndex].filter { $0.kind == .identifier }.map(\.text))
                if item[(k + 1)..<whereIndex].contains(where: { $0.depth == 0 && $0.text == ":" }) { global = true }
                label = "extension " + (header.first { $0.kind == .identifier }?.text ?? "")
                global = global || memberNames(item, into: &names, inExtension: true)
            case "let", "var":
                names.formUnion(patternNames(item, after: k))
                label = names.sorted().joined(separator: ", ")
            default:
                if alwaysGlobal.contains(keyword) { break }
                if let name = identifier(after: k) {
                    names.insert(name)
                    label = name
                } else if keyword == "func" {
                    global = true  // an operator
                }
                if ["struct", "class", "enum", "protocol", "actor"].contains(keyword) {
                    global = memberNames(item, into: &names, inExtension: false) || global
                }
            }
        } else {
            global = true  // a directive, or text the scan does not understand
        }
        if label.isEmpty { label = firstLine }
        return Declaration(label: label, names: names, mentions: identifiers(in: text), global: global,
                           digest: Digest.hex(normalised))
    }

    /// Adds the names declared at the first level inside a type or extension body (members,
    /// enum cases, nested types). Returns true when a member makes the declaration global: an
    /// operator anywhere, or an initialiser or subscript in an extension.
    static func memberNames(_ item: [Token], into names: inout Set<String>, inExtension: Bool) -> Bool {
        var global = false
        let members: Set<String> = ["func", "var", "let", "case", "struct", "class", "enum", "protocol", "typealias",
                                    "actor", "associatedtype"]
        for (i, t) in item.enumerated() where t.kind == .identifier && t.depth >= 1 {
            if t.text == "func", i + 1 < item.count, item[i + 1].kind != .identifier { global = true }
            if inExtension, t.depth == 1, t.text == "init" || t.text == "subscript" { global = true }
            guard t.depth == 1, members.contains(t.text) else { continue }
            names.formUnion(patternNames(item, after: i))
        }
        return global
    }

    /// Names a `let`/`var`/`case`/type keyword at `k` declares: the next identifier, the
    /// identifiers of a tuple pattern, and each `, name` at its level on the same line.
    static func patternNames(_ item: [Token], after k: Int) -> Set<String> {
        var names: Set<String> = []
        let level = item[k].depth
        var i = k + 1
        guard i < item.count else { return names }
        if item[i].kind == .identifier {
            names.insert(item[i].text)
        } else if item[i].text == "(" {
            i += 1
            while i < item.count, item[i].depth > level {
                if item[i].kind == .identifier { names.insert(item[i].text) }
                i += 1
            }
        }
        i += 1
        while i < item.count, !item[i].lineStart, item[i].depth >= level {
            if item[i].depth == level, item[i].text == ",", i + 1 < item.count, item[i + 1].kind == .identifier {
                names.insert(item[i + 1].text)
            }
            if item[i].depth == level, item[i].text == "{" { break }
            i += 1
        }
        return names
    }
}
