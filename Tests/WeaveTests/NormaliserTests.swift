import Foundation
import Testing
import Weave

@Suite struct NormaliserTests {
    func same(_ a: String, _ b: String) -> Bool { SourceNormaliser.normalise(a) == SourceNormaliser.normalise(b) }

    @Test func commentsAndIndentationDoNotCount() {
        let base = "func f() -> Int {\n    return 1 + 2\n}\n"
        #expect(same(base, "/// Doc.\nfunc f() -> Int { // why\n        return 1 + 2   \n\n\n}"))
        #expect(same(base, "func f() -> Int {\n/* a /* nested */ block */\treturn 1 + 2\n}"))
        #expect(same("int a = 1; /* c */ int b;", "int a = 1;  int b;"))
    }

    @Test func codeChangesStillCount() {
        let base = "func f() -> Int {\n    return 1 + 2\n}\n"
        #expect(!same(base, base.replacingOccurrences(of: "2", with: "3")))
        // Whitespace decides prefix/infix operators, and line breaks end statements.
        #expect(!same("let x = a - b", "let x = a -b"))
        #expect(!same("let x = a\n-b", "let x = a -b"))
    }

    @Test func stringLiteralsAreKeptVerbatim() {
        #expect(!same(#"let s = "a  b""#, #"let s = "a b""#))
        #expect(!same(#"let s = "// not a comment""#, #"let s = """#))
        #expect(!same("let s = \"\"\"\n  x // y\n  \"\"\"", "let s = \"\"\"\n  x\n  \"\"\""))
        #expect(!same(##"let s = #"a "quoted" // b"#"##, ##"let s = #"a "quoted" "#"##))
        #expect(!same(#"let s = "\"// x""#, #"let s = "\"""#))
        #expect(!same("char c = '/'; // x\nint d;", "char c = '*'; int d;"))
    }
}

@Suite struct CacheLockTests {
    /// A second holder waits (and says so) until the first lets go; bounded waits throughout.
    @Test func aSecondBuildWaitsForTheFirst() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        var first: CacheLock? = try CacheLock.acquire(cache: folder)
        let heard = Transcript()
        let second = Background { () -> Bool in
            var display = heard.display
            let lock = try CacheLock.acquire(cache: folder) { display.message($0) }
            return withExtendedLifetime(lock) { true }
        }
        #expect(eventually(seconds: 10) { heard.text.contains("another build (pid \(getpid()))") })
        #expect(try second.wait(seconds: 0.3) == nil)
        first = nil
        #expect(first == nil)
        #expect(try second.wait(seconds: 10) == true)
    }
}

@Suite struct SharedScratchTests {
    /// Two caches sharing one compile folder (`--scratch`): the stage program there is one
    /// build's until it ends, so a build on the other cache waits for it too.
    @Test func buildsSharingACompileFolderTakeTurns() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let scratch = folder.appendingPathComponent("stages")
        @Sendable func weaver(_ cache: String, display: ProgressDisplay = ProgressDisplay(mode: .quiet)) -> Weaver {
            Weaver(options: BuildOptions(root: folder, cache: folder.appendingPathComponent(cache), scratch: scratch),
                   display: display)
        }
        var first: [CacheLock]? = try weaver("one").lockCache()
        #expect(first?.count == 2)
        let heard = Transcript()
        let second = Background { () -> Bool in
            let locks = try weaver("two", display: heard.display).lockCache()
            return withExtendedLifetime(locks) { true }
        }
        #expect(eventually(seconds: 10) { heard.text.contains("another build") && heard.text.contains(scratch.path) })
        #expect(try second.wait(seconds: 0.3) == nil)
        first = nil
        #expect(first == nil)
        #expect(try second.wait(seconds: 10) == true)
        // The default compile folder lies inside the cache: the cache's lock covers it.
        let own = Weaver(options: BuildOptions(root: folder, cache: folder.appendingPathComponent("three")),
                         display: ProgressDisplay(mode: .quiet))
        #expect(try own.lockCache().count == 1)
        // Deciding that creates nothing (`weave clean` and `check` take the lock too).
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("three/build").path))
        // A compile folder that is the cache itself, or reaches it through a link, must not
        // take the cache's lock a second time (that would wait forever).
        @Sendable func locks(cache: URL, scratch: URL) throws -> Int {
            try Weaver(options: BuildOptions(root: folder, cache: cache, scratch: scratch),
                       display: ProgressDisplay(mode: .quiet)).lockCache().count
        }
        let four = folder.appendingPathComponent("four")
        #expect(try Background { try locks(cache: four, scratch: four) }.wait(seconds: 10) == 1)
        let link = folder.appendingPathComponent("link")
        try FileManager.default.createSymbolicLink(at: link, withDestinationURL: folder.appendingPathComponent("five"))
        #expect(try Background { try locks(cache: folder.appendingPathComponent("five"), scratch: link.appendingPathComponent("build")) }
            .wait(seconds: 10) == 1)
    }
}
