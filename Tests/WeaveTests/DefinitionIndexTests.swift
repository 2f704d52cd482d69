import Foundation
import Testing
import Weave

/// Which `define` declarations a stage reaches: over-approximate, never under.
@Suite struct DefinitionIndexTests {
    func reached(_ definitions: String, from code: String) -> [String] {
        DefinitionIndex(source: definitions).reached(from: code).keys.sorted()
    }

    @Test func declarationsAreSplitAtTopLevel() {
        let index = DefinitionIndex(source: """
        import Foundation
        /// Doc comments belong to no declaration.
        @inline(__always)
        func square(_ x: Double) -> Double {
            let y = x * x   // locals are not names
            return y
        }
        let (low, high) = (0.1, 0.9)
        var counter = 0, limit = 10
        enum Mode: String { case fast, slow = "s"; case careful }
        struct Recipe<T> where T: Sendable {
            var epochs: Int
            func scaled(by f: Double) -> Recipe { self }
        }
        let message = "a string with func inside \\("(nested)")"
        extension Array where Element == Double {
            func mean() -> Double { reduce(0, +) / Double(count) }
        }
        """)
        #expect(index.declarations.map(\.label) == ["import Foundation", "square", "high, low", "counter, limit", "Mode", "Recipe",
                                                   "message", "extension Array"])
        #expect(index.declarations.map(\.global) == [true, false, false, false, false, false, false, false])
        let names = Dictionary(uniqueKeysWithValues: index.declarations.map { ($0.label, $0.names) })
        #expect(names["square"] == ["square"])
        #expect(names["Mode"] == ["Mode", "fast", "slow", "careful"])
        #expect(names["Recipe"] == ["Recipe", "epochs", "scaled"])
        #expect(names["extension Array"]?.isSuperset(of: ["Array", "mean"]) == true)
    }

    @Test func stagesReachWhatTheyMentionTransitively() {
        let definitions = """
        func helper() -> Int { inner() + 1 }
        func inner() -> Int { 41 }
        func unused() -> Int { 0 }
        struct Point { var x: Double }
        extension Array where Element == Double { func mean() -> Double { reduce(0, +) / Double(count) } }
        """
        #expect(reached(definitions, from: "try publish(helper())") == ["helper", "inner"])
        #expect(reached(definitions, from: "let m = [1.0, 2.0].mean()") == ["extension Array"])
        #expect(reached(definitions, from: "print(\"\\(helper())\")") == ["helper", "inner"])  // in an interpolation
        #expect(reached(definitions, from: "try publish(1)") == [])
        // A member name reaches the type (the value may come from a call that names nothing).
        #expect(reached(definitions, from: "let p = make(); print(p.x)") == ["Point"])
    }

    /// What a name scan cannot follow is reached by every stage.
    @Test func invisibleEffectsAreGlobal() {
        for definitions in [
            "import Accelerate",
            "infix operator ~~",
            "func ~~ (a: Int, b: Int) -> Bool { a == b }",
            "struct V { static func + (a: V, b: V) -> V { a } }",
            "extension Double: @retroactive Identifiable { public var id: Double { self } }",
            "extension Double { init(text: Substring) { self = 0 } }",
            "extension Array { subscript(wrapping i: Int) -> Element { self[i % count] } }",
            "#if DEBUG\nlet debug = true\n#endif",
            "func broken( {",   // cannot be split
        ] {
            let index = DefinitionIndex(source: definitions)
            #expect(index.declarations.contains { $0.global }, "\(definitions)")
            #expect(!index.reached(from: "try publish(1)").isEmpty, "\(definitions)")
        }
    }

    @Test func commentsAndIndentationDoNotChangeADeclarationsDigest() {
        let a = DefinitionIndex(source: "func f() -> Int {\n    1\n}")
        let b = DefinitionIndex(source: "/// Doc.\nfunc f() -> Int {\n  /* one */ 1   // trailing\n}")
        let c = DefinitionIndex(source: "func f() -> Int { 2 }")
        #expect(a.reached(from: "f()") == b.reached(from: "f()"))
        #expect(a.reached(from: "f()") != c.reached(from: "f()"))
    }
}
