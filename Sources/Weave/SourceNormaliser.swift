/// Source text reduced to what a compiler sees, for library keys: an edited comment or a
/// re-indented line must not re-run a 30-minute report.
///
/// Works for Swift and C: `//` and (nested) `/* */` comments are dropped; outside string and
/// character literals a run of whitespace becomes one line break if it held one, else one space;
/// leading and trailing whitespace goes. Literals (`"..."`, Swift `"""` blocks, `#"..."#` raw
/// strings, C `'c'`) are copied byte for byte, so a changed message still changes the key.
/// When in doubt it keeps text: a missed normalisation costs a re-run, never a stale result.
public enum SourceNormaliser {
    /// The normalised text; equal for sources that differ only in comments and layout.
    public static func normalise(_ text: String) -> String {
        let s = Array(text.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(s.count)
        var i = 0
        // Pending whitespace between tokens: 0 none, 1 space, 2 line break.
        var gap = 0
        func flushGap() {
            if !out.isEmpty { if gap == 2 { out.append(10) } else if gap == 1 { out.append(32) } }
            gap = 0
        }
        func at(_ k: Int) -> UInt8 { k < s.count ? s[k] : 0 }
        while i < s.count {
            let c = s[i]
            if c == 32 || c == 9 || c == 13 || c == 12 { gap = max(gap, 1); i += 1; continue }
            if c == 10 { gap = 2; i += 1; continue }
            if c == 47, at(i + 1) == 47 {                       // line comment: up to the line break
                while i < s.count, s[i] != 10 { i += 1 }
                continue
            }
            if c == 47, at(i + 1) == 42 {                       // block comment, nested as in Swift
                var depth = 0
                var sawBreak = false
                repeat {
                    if at(i) == 47, at(i + 1) == 42 { depth += 1; i += 2 }
                    else if at(i) == 42, at(i + 1) == 47 { depth -= 1; i += 2 }
                    else { if at(i) == 10 { sawBreak = true }; i += 1 }
                } while depth > 0 && i < s.count
                gap = max(gap, sawBreak ? 2 : 1)
                continue
            }
            flushGap()
            // String literals: copied verbatim up to their end (raw strings by their # count).
            if c == 35 || c == 34 || c == 39 {
                var hashes = 0
                var k = i
                while at(k) == 35 { hashes += 1; k += 1 }
                if at(k) == 34 || (c == 39 && hashes == 0) {
                    let quote = at(k)
                    let triple = quote == 34 && at(k + 1) == 34 && at(k + 2) == 34
                    let opener = triple ? 3 : 1
                    var j = k + opener
                    while j < s.count {
                        if hashes == 0, s[j] == 92 { j += 2; continue }        // escape
                        if s[j] == quote, !triple || (at(j + 1) == 34 && at(j + 2) == 34) {
                            var m = j + (triple ? 3 : 1)
                            var closing = 0
                            while closing < hashes, at(m) == 35 { closing += 1; m += 1 }
                            if closing == hashes { j = m; break }
                        }
                        if !triple, s[j] == 10 { j += 1; break }                 // unterminated: stop at the line
                        j += 1
                    }
                    out += s[i..<min(j, s.count)]
                    i = j
                    continue
                }
            }
            out.append(c)
            i += 1
        }
        return String(decoding: out, as: UTF8.self)
    }
}
