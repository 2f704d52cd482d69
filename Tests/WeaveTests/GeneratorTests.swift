import Foundation
import Testing
import WeaveRuntime
import Weave

@Suite struct GeneratorTests {
    let manifest = PackageManifest(name: "P", libraries: ["Engine": ["Engine"], "Charts": ["Charts"], "Weave": ["Weave"],
                                                         "WeaveRuntime": ["WeaveRuntime"]], targets: [:])

    @Test func stagesBecomeMethodsWithSourceLocations() throws {
        let chapter = try parse("""
        Prose.

        \(fence)swift define
        struct Point: Codable { var x: Double }
        \(fence)

        \(fence)swift stage=make-point
        try publish(Point(x: 1))
        \(fence)

        \(fence)swift figure=plot needs=make-point
        Box()
        \(fence)
        """, file: "chapters/03-points.md")
        let generator = CodeGenerator(root: URL(fileURLWithPath: "/work/project"), manifest: manifest)
        let source = generator.chapterSource(chapter)
        #expect(source.contains("import Engine\n"))
        #expect(source.contains("import Charts\n"))
        #expect(!source.contains("import Weave\n"))
        #expect(source.contains("#sourceLocation(file: \"chapters/03-points.md\", line: 4)\nstruct Point"))
        #expect(source.contains("func weave_stage_make_x_point() throws {\n#sourceLocation(file: \"chapters/03-points.md\", line: 8)\ntry publish(Point(x: 1))\n#sourceLocation()"))
        #expect(source.contains("func weave_figure_plot() throws -> any Charts.Figure"))
        let main = generator.mainSource([chapter])
        #expect(main.contains("\"make-point\": .compute { try $0.weave_stage_make_x_point() },"))
        #expect(main.contains("try figure.png(scale: 2)"))
        let package = generator.packageManifest()
        #expect(package.contains(".package(path: \"/work/project\")"))
        #expect(package.contains(".product(name: \"Engine\", package: \"project\")"))
        #expect(!package.contains("name: \"Weave\","))
    }

    @Test func onlyChangedChaptersAreRewritten() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let generator = CodeGenerator(root: URL(fileURLWithPath: "/work/project"), manifest: manifest)
        let a = try parse("\(fence)swift stage=a\nprint(1)\n\(fence)", file: "chapters/01-a.md")
        let b = try parse("\(fence)swift stage=b\nprint(2)\n\(fence)", file: "chapters/02-b.md")
        let first = try generator.write([a, b], to: folder)
        #expect(first.count == 4)
        #expect(try generator.write([a, b], to: folder).isEmpty)
        let b2 = try parse("Prose only changed.\n\n\(fence)swift stage=b\nprint(2)\n\(fence)", file: "chapters/02-b.md")
        // Prose moves the stage's line, so the chapter's file changes; the other chapter's does not.
        #expect(try generator.write([a, b2], to: folder) == ["Sources/WeaveStages/Chapter_02_b.swift"])
    }

    @Test func proseOnlyReportsGenerateAnEmptyStageTable() throws {
        let generator = CodeGenerator(root: URL(fileURLWithPath: "/p"), manifest: manifest)
        #expect(generator.mainSource([try parse("Just prose.")]).contains("[String: StageEntry] = [\n    :\n]"))
    }

    @Test func placeholdersAreReplacedInOnePass() {
        let html = "<p>WEAVEBLOCK1X</p>\n<p>a WEAVEBLOCK0X b WEAVEBLOCK10X WEAVEBLOCKX</p>"
        let values = (0...10).map { "<v\($0)>" }
        #expect(HTMLRenderer.substitute(html, prefix: "WEAVEBLOCK", with: values) { $0 == 1 }
                == "<v1>\n<p>a <v0> b <v10> WEAVEBLOCKX</p>")
    }

    @Test func longOutputsAreAbridged() {
        let log = (1...500).map { "step \($0)" }.joined(separator: "\n")
        let short = HTMLRenderer.abridged(log)
        #expect(short.hasPrefix("step 1\n"))
        #expect(short.contains("… 380 lines omitted …"))
        #expect(short.hasSuffix("step 500"))
        #expect(HTMLRenderer.abridged("a\nb") == "a\nb")
    }

    @Test func compileProgressComesFromSwiftPMSteps() {
        let log = "Building for production...\n[3/10] Compiling Engine Conv.swift\n[4/10] Compiling Engine Pool.swift\nwarning: x\n"
        #expect(StageCompiler.latestStep(in: log) == ProgressReport(text: "Compiling Engine Pool.swift", fraction: 0.4))
        #expect(StageCompiler.latestStep(in: "Planning build") == nil)
    }

    /// A scratch folder shared by several caches kept a stale SwiftPM build plan after one
    /// cache's compile failed, and served another cache's stage program build after build (found
    /// by a newcomer; reproduced with two caches on one scratch: a chapter with a type error,
    /// then a correct one). The plan is made anew unless the last compile there was this
    /// package's and succeeded.
    @Test func aSharedScratchPlansAnewAfterAnotherPackageOrAFailure() {
        let mine = "/c2/package", other = "/c1/package"
        #expect(!StageCompiler.plansAnew(lastCompile: StageCompiler.lastCompileRecord(package: mine, succeeded: true), package: mine))
        #expect(StageCompiler.plansAnew(lastCompile: StageCompiler.lastCompileRecord(package: other, succeeded: true), package: mine))
        #expect(StageCompiler.plansAnew(lastCompile: StageCompiler.lastCompileRecord(package: mine, succeeded: false), package: mine))
        #expect(StageCompiler.plansAnew(lastCompile: nil, package: mine), "none yet, or one was interrupted")
        // A stage that finds its program stale removes the record, so "build again" plans anew.
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("scratch-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: scratch) }
        try? FileManager.default.createDirectory(at: scratch.appendingPathComponent("release"), withIntermediateDirectories: true)
        let record = scratch.appendingPathComponent("weave-last-compile.txt")
        try? Data(StageCompiler.lastCompileRecord(package: mine, succeeded: true).utf8).write(to: record)
        #expect(FileManager.default.fileExists(atPath: record.path))
        StageCompiler.forgetLastCompile(executable: scratch.appendingPathComponent("release/WeaveStages"))
        #expect(!FileManager.default.fileExists(atPath: record.path))
    }

    /// `swift build` kept compiling for minutes after its weaver was killed (its compilers run in
    /// process groups of their own). A command wrapped as the compiler is, started by a parent
    /// that is then killed with SIGKILL, must end too. (`timeout` is the parent: a shell's `&`
    /// would start the command with SIGINT ignored.)
    @Test func theCompilerDiesWithItsWeaver() throws {
        let command = StageCompiler.diesWithParent(["sleep", "300"])
        guard command.first == "/usr/bin/setpriv", FileManager.default.isExecutableFile(atPath: "/usr/bin/timeout") else {
            return  // no util-linux or coreutils here: nothing to check
        }
        let parent = Process()
        parent.executableURL = URL(fileURLWithPath: "/usr/bin/timeout")
        parent.arguments = ["600"] + command  // setpriv ... -- env --default-signal=INT sleep 300
        try parent.run()
        let children = "/proc/\(parent.processIdentifier)/task/\(parent.processIdentifier)/children"
        var child: Int32?
        let started = Date().addingTimeInterval(10)
        while child == nil && Date() < started {
            child = (try? String(contentsOfFile: children, encoding: .utf8)).flatMap { Int32($0.split(separator: " ").first ?? "") }
            // setpriv execs env, which execs sleep: one process throughout.
            if child == nil { Thread.sleep(forTimeInterval: 0.02) }
        }
        let pid = try #require(child, "timeout started no child")
        func alive() -> Bool {
            // A zombie waiting for its new parent to reap it counts as gone.
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return false }
            return !stat.contains(") Z ")
        }
        Thread.sleep(forTimeInterval: 0.2)  // let setpriv set the signal and exec sleep
        #expect(alive())
        kill(parent.processIdentifier, SIGKILL)
        let deadline = Date().addingTimeInterval(10)
        while alive() && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        #expect(!alive(), "the wrapped command outlived its parent")
        if alive() { kill(pid, SIGKILL) }
        parent.waitUntilExit()
    }

    @Test func compilerErrorsMapToChapters() {
        let log = """
        [3/5] Compiling WeaveStages Chapter_01.swift
        chapters/01-intro.md:14:9: error: cannot find 'x' in scope
        chapters/01-intro.md:14:9: error: cannot find 'x' in scope
        /abs/path/chapters/02-b.md:3:1: error: expected expression
        /work/Sources/Engine/A.swift:1:1: error: library broke
        chapters/01-intro.md:20:2: warning: unused
        """
        let d = StageCompiler.diagnostics(in: log)
        #expect(d.map(\.location.description) == ["chapters/01-intro.md:14", "/abs/path/chapters/02-b.md:3"])
        #expect(d.first?.column == 9)
        #expect(d.first?.message == "cannot find 'x' in scope")
    }

    @Test func highlighterMarksTokensAndEscapes() {
        let html = SwiftHighlighter.html("let x = \"a<b\" // note\nTeacher.train(3)")
        #expect(html.contains("<span class=\"kw\">let</span>"))
        #expect(html.contains("<span class=\"str\">&quot;a&lt;b&quot;</span>"))
        #expect(html.contains("<span class=\"com\">// note</span>"))
        #expect(html.contains("<span class=\"typ\">Teacher</span>"))
        #expect(html.contains("<span class=\"num\">3</span>"))
    }

    @Test func markdownIsGitHubFlavoured() {
        let html = Markdown.html("| a | b |\n|---|---|\n| 1 | 2 |\n\n~~old~~ https://example.org\n\nNote[^1].\n\n[^1]: The note.\n")
        #expect(html.contains("<table>"))
        #expect(html.contains("<del>old</del>"))
        #expect(html.contains("<a href=\"https://example.org\">"))
        #expect(html.contains("footnote"))
    }

    @Test func inlinedSVGIdsArePrefixed() {
        let svg = Data("<?xml version=\"1.0\"?>\n<svg><defs><clipPath id=\"clip1\"/><g id=\"glyph-0-1\"/></defs><use xlink:href=\"#glyph-0-1\"/><rect clip-path=\"url(#clip1)\"/></svg>".utf8)
        let html = HTMLRenderer.inlineSVG(svg, prefix: "f2-")
        #expect(html.hasPrefix("<svg>"))
        #expect(html.contains("id=\"f2-clip1\"") && html.contains("url(#f2-clip1)") && html.contains("href=\"#f2-glyph-0-1\""))
    }
}
