import Foundation
import Testing
import Weave

@Suite struct ProseTests {
    func scan(_ text: String, line: Int = 1) throws -> PreparedProse {
        try ProseScanner().scan(text, file: "chapters/01.md", firstLine: line)
    }

    @Test func findsReferencesValuesAndMath() throws {
        let p = try scan("See @fig:acc-curve, and @tbl:t1.\nAccuracy {{ teacher.test.top1 | percent(2) }} and $x_i^2$.\n$$\\sum_i x_i$$")
        #expect(p.tokens.map(\.token) == [
            .figureRef("acc-curve"), .tableRef("t1"),
            .value(artifact: "teacher", path: ["test", "top1"], filter: .percent(2), source: "teacher.test.top1"),
            .math("x_i^2", display: false), .math("\\sum_i x_i", display: true),
        ])
        #expect(p.tokens.map(\.location.line) == [1, 1, 2, 2, 3])
        #expect(p.markdown.hasPrefix("See WEAVETOKEN0X, and WEAVETOKEN1X."))
    }

    @Test func codeSpansFencesAndEscapesAreLeftAlone() throws {
        let p = try scan("Use `{{ x }}` and `@fig:a` literally, \\$5 and $6 too.\n\n```\n{{ y }} $z$\n```\nprice $3 or $4")
        #expect(p.tokens.isEmpty)
        #expect(p.markdown.contains("`{{ x }}`"))
    }

    @Test func emailsAreNotReferences() throws {
        #expect(try scan("write to me@fig:x.org").tokens.isEmpty)
    }

    @Test func trailingHyphenIsPunctuation() throws {
        #expect(try scan("(@fig:plot-)").tokens.map(\.token) == [.figureRef("plot")])
    }

    @Test func malformedValuesNameTheirLine() {
        let e1 = firstError { _ = try scan("a\nb {{ x | bogus }}", line: 10) }
        #expect(e1?.location?.line == 11)
        #expect(e1?.message.contains("unknown filter 'bogus'") == true)
        let e2 = firstError { _ = try scan("a {{ x ", line: 3) }
        #expect(e2?.message.contains("unclosed {{") == true)
        #expect(e2?.location?.line == 3)
        let e3 = firstError { _ = try scan("{{ a..b }}") }
        #expect(e3?.message.contains("bad result key") == true)
    }

    @Test func filtersFormat() {
        func f(_ filter: String, _ value: JSONValue) -> String? {
            guard let parsed = ValueFilter(parsing: filter) else { return nil }
            return try? parsed.format(value).get()
        }
        #expect(f("", .number(0.9731)) == "0.9731")
        #expect(f("", .number(42)) == "42")
        #expect(f("", .string("SkylakeX")) == "SkylakeX")
        #expect(f("percent", .number(0.9731)) == "97.3%")
        #expect(f("percent(2)", .number(0.9731)) == "97.31%")
        #expect(f("fixed(1)", .number(3.14159)) == "3.1")
        #expect(f("int", .number(2.6)) == "3")
        #expect(f("thousands", .number(531131)) == "531,131")
        #expect(f("thousands", .number(-1234567)) == "-1,234,567")
        #expect(ValueFilter(parsing: "fixed(x)") == nil)
        #expect(ValueFilter(parsing: "percent(99)") == nil)
        #expect(f("percent", .string("x")) == nil)
        #expect(f("thousands", .string("69257")) == "69,257")
        #expect(f("", .string("007")) == "007")
        #expect(f("", .object([:])) == nil)
    }

    @Test func documentPlanNumbersFiguresAndChecksReferences() throws {
        let one = try parse("""
        See @fig:b then @fig:a and @tbl:t; {{ numbers.mean }} and {{ extra | int }}.

        \(fence)swift stage=numbers
        try publish(1)
        try publish("extra", 2)
        \(fence)

        \(fence)swift figure=a needs=numbers caption="Caption with {{ numbers | int }}."
        Fig()
        \(fence)
        """, file: "chapters/01.md")
        let two = try parse("\(fence)swift figure=b\nFig()\n\(fence)\n\(fence)swift table=t\nT()\n\(fence)", file: "chapters/02.md")
        let graph = try StageGraph(chapters: [one, two])
        let plan = try DocumentPlan(chapters: [one, two], graph: graph)
        #expect(plan.figureNumbers == ["a": 1, "b": 2])
        #expect(plan.tableNumbers == ["t": 1])
        #expect(plan.chapters[0].captions["a"] != nil)
        #expect(plan.tokens.count == 6)
        // Placeholders are numbered across the document.
        #expect(plan.chapters[0].captions["a"]?.markdown.contains("WEAVETOKEN5X") == true)
    }

    @Test func unknownReferencesStopTheBuildWithTheirLine() throws {
        let chapter = try parse("""
        Intro.

        See @fig:nope and @tbl:numbers and {{ ghost.value }} and @fig:numbers.

        \(fence)swift stage=numbers
        try publish(1)
        \(fence)
        """)
        let graph = try StageGraph(chapters: [chapter])
        let errors = allErrors { _ = try DocumentPlan(chapters: [chapter], graph: graph) }
        #expect(errors.map(\.message) == [
            "unknown figure @fig:nope", "@tbl:numbers is not a table",
            "unknown result 'ghost.value' in {{ }}: no stage publishes 'ghost'", "@fig:numbers is not a figure",
        ])
        #expect(errors.allSatisfy { $0.location?.description == "chapters/01-test.md:3" })
    }
}
