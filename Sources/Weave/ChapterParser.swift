import Foundation

/// Splits a chapter into prose and Swift blocks. Only fences matter here; the prose itself is
/// left to cmark-gfm. Every error carries the chapter line so the author can jump to it.
public struct ChapterParser: Sendable {
    /// A parser; it holds no state.
    public init() {}

    /// Reads `chapters/*.md` in file-name order (the order of the report).
    public func parseFolder(_ folder: URL, relativeTo root: URL) throws -> [Chapter] {
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path)
            .filter { $0.hasSuffix(".md") && !$0.hasPrefix(".") }
            .sorted()
        guard !names.isEmpty else { throw WeaveErrors([WeaveError("no chapters (*.md) in \(folder.path)")]) }
        var chapters: [Chapter] = []
        var errors: [WeaveError] = []
        for name in names {
            let url = folder.appendingPathComponent(name)
            let text = try String(contentsOf: url, encoding: .utf8)
            do {
                chapters.append(try parse(text, file: Self.relativePath(url, to: root)))
            } catch let e as WeaveErrors {
                errors += e.errors
            }
        }
        if !errors.isEmpty { throw WeaveErrors(errors) }
        return chapters
    }

    static func relativePath(_ url: URL, to root: URL) -> String {
        let path = url.standardizedFileURL.path
        let base = root.standardizedFileURL.path
        if path.hasPrefix(base + "/") { return String(path.dropFirst(base.count + 1)) }
        return path
    }

    /// Parses one chapter. Collects every error it can rather than stopping at the first.
    public func parse(_ text: String, file: String) throws -> Chapter {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map {
            $0.hasSuffix("\r") ? String($0.dropLast()) : String($0)
        }
        var blocks: [Block] = []
        var errors: [WeaveError] = []
        var prose: [String] = []
        var proseStart = 1
        var index = 0

        func flushProse() {
            if prose.contains(where: { !$0.trimmingCharacters(in: .whitespaces).isEmpty }) {
                blocks.append(.markdown(prose.joined(separator: "\n"), line: proseStart))
            }
            prose = []
        }

        while index < lines.count {
            let line = lines[index]
            let lineNumber = index + 1
            guard let fence = Fence(opening: line) else {
                if prose.isEmpty { proseStart = lineNumber }
                prose.append(line)
                index += 1
                continue
            }
            // Find the closing fence.
            var end = index + 1
            while end < lines.count, !fence.isClosed(by: lines[end]) { end += 1 }
            let location = SourceLocation(file: file, line: lineNumber)
            guard end < lines.count else {
                errors.append(WeaveError("unclosed code fence \(fence.marker) (opened here)", at: location))
                break
            }
            let body = lines[(index + 1)..<end].map { fence.stripIndent($0) }.joined(separator: "\n")
            let words = fence.info.split(whereSeparator: { $0 == " " || $0 == "\t" })
            if words.first == "swift" {
                flushProse()
                do {
                    blocks.append(try block(info: fence.info, code: body, location: location))
                } catch let e as WeaveError {
                    errors.append(e)
                }
            } else {
                // Other fences are prose to cmark (shell snippets, output samples, ...).
                if prose.isEmpty { proseStart = lineNumber }
                prose += lines[index...end]
            }
            index = end + 1
        }
        flushProse()
        if !errors.isEmpty { throw WeaveErrors(errors) }
        return Chapter(file: file, blocks: blocks)
    }

    /// Turns a `swift ...` info string into a block.
    func block(info: String, code: String, location: SourceLocation) throws -> Block {
        let options = try InfoString.parse(info, at: location)
        let codeLine = location.line + 1
        if options.isEmpty { return .listing(code: code, location: location) }
        let kinds = StageKind.allCases.filter { options[$0.rawValue] != nil }
        let known = Set(["stage", "figure", "table", "needs", "caption", "hide", "seeds", "expensive", "define",
                         "files", "env", "timeout"])
            .union(StageResources.optionNames)
        if let unknown = options.keys.filter({ !known.contains($0) }).sorted().first {
            throw WeaveError("unknown option '\(unknown)' in ```swift info string (known: \(known.sorted().joined(separator: ", ")))", at: location)
        }
        if options["define"] != nil {
            guard kinds.isEmpty else { throw WeaveError("'define' blocks cannot also be a stage, figure or table", at: location) }
            if let extra = options.keys.first(where: { $0 != "define" && $0 != "hide" }) {
                throw WeaveError("option '\(extra)' does not apply to a define block", at: location)
            }
            return .definitions(code: code, location: location, codeLine: codeLine, hidden: options["hide"] != nil)
        }
        guard kinds.count == 1, let kind = kinds.first else {
            if kinds.isEmpty {
                throw WeaveError("a ```swift block with options needs one of stage=NAME, figure=NAME, table=NAME or define", at: location)
            }
            throw WeaveError("a block is one of stage=, figure=, table=, not several", at: location)
        }
        guard let nameValue = options[kind.rawValue], let name = nameValue, !name.isEmpty else {
            throw WeaveError("\(kind.rawValue)= needs a name", at: location)
        }
        guard Self.isValidName(name) else {
            throw WeaveError("bad \(kind.rawValue) name '\(name)': use letters, digits, '-' and '_', starting with a letter", at: location)
        }
        var needs: [String] = []
        if let needsValue = options["needs"] {
            guard let list = needsValue, !list.isEmpty else { throw WeaveError("needs= is empty", at: location) }
            needs = list.split(separator: ",", omittingEmptySubsequences: false).map { String($0) }
            for need in needs where !Self.isValidName(need) {
                throw WeaveError(need.isEmpty ? "empty name in needs=\(list)" : "bad name '\(need)' in needs=", at: location)
            }
            if Set(needs).count != needs.count { throw WeaveError("needs= lists a name twice", at: location) }
        }
        var caption: String?
        if let captionValue = options["caption"] {
            guard kind.isPresentation else { throw WeaveError("caption= is for figures and tables", at: location) }
            caption = captionValue ?? ""
        }
        var seeds = 1
        if let seedsValue = options["seeds"] {
            guard let text = seedsValue, let n = Int(text), (1...1000).contains(n) else {
                throw WeaveError("seeds= must be a whole number from 1 to 1000", at: location)
            }
            guard kind == .compute else { throw WeaveError("seeds= is for compute stages", at: location) }
            seeds = n
        }
        func list(_ key: String) throws -> [String] {
            guard let value = options[key] else { return [] }
            guard let text = value, !text.isEmpty else { throw WeaveError("\(key)= is empty", at: location) }
            let items = text.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            if items.contains(where: \.isEmpty) { throw WeaveError("empty entry in \(key)=\(text)", at: location) }
            return items
        }
        let files = try list("files")
        let environment = try list("env")
        for name in environment where !name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }) {
            throw WeaveError("bad environment variable name '\(name)' in env=", at: location)
        }
        var timeout: Double?
        if let value = options["timeout"] {
            guard let text = value, let seconds = Double(text), seconds > 0, seconds.isFinite else {
                throw WeaveError("timeout= must be a positive number of seconds", at: location)
            }
            timeout = seconds
        }
        for flag in ["hide", "expensive"] {
            if let value = options[flag], value != nil {
                throw WeaveError("\(flag) is a flag and takes no value", at: location)
            }
        }
        var stage = Stage(name: name, kind: kind, needs: needs, code: code, location: location, codeLine: codeLine,
                          caption: caption, hidden: options["hide"] != nil, seeds: seeds,
                          expensive: options["expensive"] != nil, files: files, environment: environment,
                          timeout: timeout)
        stage.resources = try StageResources.parse(options, kind: kind, at: location)
        return .stage(stage)
    }

    /// Stage names are also artifact names, file names and HTML ids.
    static func isValidName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, CharacterSet.letters.contains(first), first.isASCII else { return false }
        return name.unicodeScalars.allSatisfy {
            ($0.isASCII && CharacterSet.alphanumerics.contains($0)) || $0 == "-" || $0 == "_"
        }
    }
}

/// A CommonMark code fence: up to three spaces, then three or more backticks or tildes.
struct Fence {
    var character: Character
    var count: Int
    var indent: Int
    var info: String

    var marker: String { String(repeating: character, count: count) }

    init?(opening line: String) {
        let indent = line.prefix(while: { $0 == " " }).count
        guard indent <= 3 else { return nil }
        let rest = line.dropFirst(indent)
        guard let c = rest.first, c == "`" || c == "~" else { return nil }
        let count = rest.prefix(while: { $0 == c }).count
        guard count >= 3 else { return nil }
        let info = rest.dropFirst(count).trimmingCharacters(in: .whitespaces)
        if c == "`" && info.contains("`") { return nil }  // an inline code span, not a fence
        self.character = c
        self.count = count
        self.indent = indent
        self.info = info
    }

    func isClosed(by line: String) -> Bool {
        let indent = line.prefix(while: { $0 == " " }).count
        guard indent <= 3 else { return false }
        let rest = line.dropFirst(indent)
        let run = rest.prefix(while: { $0 == character }).count
        return run >= count && rest.dropFirst(run).allSatisfy { $0 == " " || $0 == "\t" }
    }

    /// Content lines lose up to the fence's own indentation, as CommonMark says.
    func stripIndent(_ line: String) -> String {
        let n = min(indent, line.prefix(while: { $0 == " " }).count)
        return String(line.dropFirst(n))
    }
}

/// `swift stage=a needs=b,c caption="A \"quoted\" caption" hide`: key[=value] words, values
/// optionally double-quoted with backslash escapes.
enum InfoString {
    /// Options after the language word; a flag maps to nil.
    static func parse(_ info: String, at location: SourceLocation) throws -> [String: String?] {
        var options: [String: String?] = [:]
        var chars = Array(info)
        // Skip the language word.
        var i = 0
        while i < chars.count, !chars[i].isWhitespace { i += 1 }
        chars = Array(chars[i...])
        i = 0
        while i < chars.count {
            while i < chars.count, chars[i].isWhitespace { i += 1 }
            guard i < chars.count else { break }
            var key = ""
            while i < chars.count, !chars[i].isWhitespace, chars[i] != "=" { key.append(chars[i]); i += 1 }
            var value: String?
            if i < chars.count, chars[i] == "=" {
                i += 1
                var v = ""
                if i < chars.count, chars[i] == "\"" {
                    i += 1
                    var closed = false
                    while i < chars.count {
                        if chars[i] == "\\", i + 1 < chars.count { v.append(chars[i + 1]); i += 2; continue }
                        if chars[i] == "\"" { closed = true; i += 1; break }
                        v.append(chars[i]); i += 1
                    }
                    guard closed else { throw WeaveError("unterminated quoted value for \(key)=", at: location) }
                    if i < chars.count, !chars[i].isWhitespace {
                        throw WeaveError("expected a space after the quoted value of \(key)=", at: location)
                    }
                } else {
                    while i < chars.count, !chars[i].isWhitespace { v.append(chars[i]); i += 1 }
                }
                value = v
            }
            guard !key.isEmpty else { throw WeaveError("'=' without a key in the info string", at: location) }
            if options[key] != nil { throw WeaveError("option '\(key)' given twice", at: location) }
            options[key] = .some(value)
        }
        return options
    }
}
