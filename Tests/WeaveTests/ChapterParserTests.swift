import Foundation
import Testing
import Weave

@Suite struct ChapterParserTests {
    @Test func splitsProseStagesFiguresTablesAndListings() throws {
        let text = """
        # Title

        Some prose.

        \(fence)swift stage=data
        try publish("data", [1, 2, 3])
        \(fence)

        \(fence)swift figure=plot needs=data caption="A \\"quoted\\" caption." hide
        Plot()
        \(fence)

        \(fence)swift table=summary needs=data,plot-input caption="Numbers."
        Table(columns: [], rows: [])
        \(fence)

        \(fence)swift
        let shown = 1
        \(fence)

        \(fence)swift stage=repeat seeds=3 expensive
        print(seed)
        \(fence)

        \(fence)sh
        ./build.sh
        \(fence)
        """
        let chapter = try parse(text)
        let stages = chapter.stages
        #expect(stages.map(\.name) == ["data", "plot", "summary", "repeat"])
        #expect(stages.map(\.kind) == [.compute, .figure, .table, .compute])
        #expect(stages[0].location.line == 5)
        #expect(stages[0].codeLine == 6)
        #expect(stages[0].code == "try publish(\"data\", [1, 2, 3])")
        #expect(stages[1].caption == "A \"quoted\" caption.")
        #expect(stages[1].hidden)
        #expect(stages[1].needs == ["data"])
        #expect(stages[2].needs == ["data", "plot-input"])
        #expect(stages[3].seeds == 3)
        #expect(stages[3].expensive)
        guard case .markdown(let first, let line) = chapter.blocks[0] else { Issue.record("expected prose"); return }
        #expect(first.contains("# Title"))
        #expect(line == 1)
        #expect(chapter.blocks.contains { if case .listing(let code, _) = $0 { return code == "let shown = 1" } else { return false } })
        // Non-Swift fences stay in the prose for cmark.
        guard case .markdown(let last, _) = chapter.blocks.last else { Issue.record("expected prose last"); return }
        #expect(last.contains("./build.sh"))
    }

    @Test func definitionsAreTheirOwnBlock() throws {
        let chapter = try parse("\(fence)swift define\nstruct A {}\n\(fence)")
        guard case .definitions(let code, let location, let codeLine, let hidden) = chapter.blocks[0] else {
            Issue.record("expected definitions"); return
        }
        #expect(code == "struct A {}")
        #expect(location.line == 1)
        #expect(codeLine == 2)
        #expect(!hidden)
    }

    @Test func tildeFencesAndLongerFencesNest() throws {
        let text = "````swift stage=a\nlet s = \"\"\"\n```\n\"\"\"\n````\n~~~swift stage=b\nprint(1)\n~~~"
        let stages = try parse(text).stages
        #expect(stages.map(\.name) == ["a", "b"])
        #expect(stages[0].code.contains("```"))
    }

    @Test func unclosedFenceNamesItsOpeningLine() {
        let error = firstError { _ = try parse("prose\n\n\(fence)swift stage=a\nlet x = 1\n") }
        #expect(error?.location == SourceLocation(file: "chapters/01-test.md", line: 3))
        #expect(error?.message.contains("unclosed") == true)
    }

    @Test(arguments: [
        ("swift stage=a colour=red", "unknown option 'colour'"),
        ("swift stage=", "needs a name"),
        ("swift stage=9lives", "bad stage name"),
        ("swift stage=a figure=b", "not several"),
        ("swift stage=a needs=", "needs= is empty"),
        ("swift stage=a needs=b,,c", "empty name"),
        ("swift stage=a needs=b,b", "twice"),
        ("swift stage=a stage=b", "given twice"),
        ("swift stage=a caption=\"x\"", "caption= is for figures"),
        ("swift figure=a caption=\"unterminated", "unterminated"),
        ("swift stage=a seeds=0", "seeds="),
        ("swift stage=a seeds=many", "seeds="),
        ("swift figure=a seeds=2", "seeds= is for compute"),
        ("swift stage=a hide=yes", "flag"),
        ("swift hide", "needs one of"),
        ("swift define needs=a", "does not apply"),
    ])
    func badInfoStringsNameTheLine(info: String, message: String) {
        let text = "# T\n\nprose\n\n\(fence)\(info)\nlet x = 1\n\(fence)\n"
        let error = firstError { _ = try parse(text) }
        #expect(error?.location == SourceLocation(file: "chapters/01-test.md", line: 5), "\(info)")
        #expect(error?.message.contains(message) == true, "\(info): \(error?.message ?? "no error")")
    }

    @Test func reportsEveryErrorInAChapter() {
        let text = "\(fence)swift stage=a bogus\n\(fence)\n\n\(fence)swift stage=b needs=\n\(fence)\n"
        let errors = allErrors { _ = try parse(text) }
        #expect(errors.map { $0.location?.line } == [1, 4])
    }

    @Test func codeLinesCoverTheStageBody() throws {
        let s = try parse("text\n\(fence)swift stage=a\nline1\nline2\nline3\n\(fence)").stages[0]
        #expect(s.codeLines == 3...5)
    }

    @Test func folderIsReadInNameOrderWithRelativePaths() throws {
        let root = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        let chapters = root.appendingPathComponent("chapters")
        try FileManager.default.createDirectory(at: chapters, withIntermediateDirectories: true)
        try "# B\n".write(to: chapters.appendingPathComponent("10-b.md"), atomically: true, encoding: .utf8)
        try "# A\n".write(to: chapters.appendingPathComponent("02-a.md"), atomically: true, encoding: .utf8)
        try "ignored".write(to: chapters.appendingPathComponent("notes.txt"), atomically: true, encoding: .utf8)
        let parsed = try ChapterParser().parseFolder(chapters, relativeTo: root)
        #expect(parsed.map(\.file) == ["chapters/02-a.md", "chapters/10-b.md"])
    }

    @Test func errorsAcrossChaptersAreCollected() throws {
        let root = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        let chapters = root.appendingPathComponent("chapters")
        try FileManager.default.createDirectory(at: chapters, withIntermediateDirectories: true)
        try "\(fence)swift stage=a x\n\(fence)".write(to: chapters.appendingPathComponent("01.md"), atomically: true, encoding: .utf8)
        try "ok\n\n\(fence)swift\n".write(to: chapters.appendingPathComponent("02.md"), atomically: true, encoding: .utf8)
        let errors = allErrors { _ = try ChapterParser().parseFolder(chapters, relativeTo: root) }
        #expect(errors.map { $0.location?.description } == ["chapters/01.md:1", "chapters/02.md:3"])
    }
}

@Suite struct DeclaredInputOptionTests {
    @Test func filesEnvAndTimeoutAreParsed() throws {
        let chapter = try parse("\(fence)swift stage=a files=data/x.bin,data/y env=HOME,MY_VAR timeout=90\ntry publish(1)\n\(fence)\n")
        let stage = try #require(chapter.stages.first)
        #expect(stage.files == ["data/x.bin", "data/y"])
        #expect(stage.environment == ["HOME", "MY_VAR"])
        #expect(stage.timeout == 90)
    }

    @Test func badValuesAreErrorsAtTheBlock() {
        for (info, message) in [("files=", "files= is empty"), ("files=a,,b", "empty entry"), ("env=A-B", "bad environment variable"),
                                ("timeout=0", "timeout= must be"), ("timeout=soon", "timeout= must be")] {
            let error = firstError { _ = try parse("\n\(fence)swift stage=a \(info)\nx\n\(fence)\n") }
            #expect(error?.message.contains(message) == true, "\(info): \(String(describing: error))")
            #expect(error?.location?.line == 2)
        }
    }
}

@Suite struct StageResourceTests {
    @Test func computeStagesTakeCpusMemAndTime() throws {
        let chapter = try parse("\(fence)swift stage=runs seeds=2 cpus=4 mem=8G time=1-02:00:00\nprint(1)\n\(fence)\n")
        #expect(chapter.stages[0].resources == StageResources(cpus: 4, memory: "8G", time: "1-02:00:00"))
        let plain = try parse("\(fence)swift stage=a\nprint(1)\n\(fence)\n")
        #expect(plain.stages[0].resources == StageResources())
    }

    @Test func badResourcesAreRefusedWithTheirName() {
        for (info, word) in [("stage=a cpus=0", "cpus="), ("stage=a mem=8GB", "mem="), ("stage=a time=soon", "time="),
                             ("figure=f cpus=2", "compute stages")] {
            let errors = allErrors { _ = try parse("\(fence)swift \(info)\nprint(1)\n\(fence)\n") }
            #expect(errors.count == 1 && errors[0].message.contains(word), "\(info): \(errors)")
        }
    }
}
