import Foundation
import Testing
import Weave

@Suite struct CacheKeyTests {
    let chapterText = """
    \(fence)swift stage=data
    try publish([1, 2, 3])
    \(fence)

    \(fence)swift stage=train needs=data
    let d: [Int] = try input("data")
    try publish(d.count)
    \(fence)

    \(fence)swift stage=unrelated
    try publish(0)
    \(fence)

    \(fence)swift figure=curve needs=train
    Box(width: 10)
    \(fence)

    \(fence)swift figure=other needs=train
    Box(width: 20)
    \(fence)
    """

    func keys(_ text: String? = nil, compute: String = "lib1", presentation: String = "charts1", seed: UInt64 = 0,
              scale: String = "tiny", data: String = "") throws -> [String: String] {
        let chapter = try parse(text ?? chapterText)
        let graph = try StageGraph(chapters: [chapter])
        let calc = KeyCalculator(scale: scale, seed: seed, computeLibrary: compute, presentationLibrary: presentation, data: data)
        return calc.keys(for: graph, definitions: Weaver.definitions([chapter])).mapValues(\.digest)
    }

    func parts(_ text: String? = nil) throws -> [String: KeyParts] {
        let chapter = try parse(text ?? chapterText)
        return KeyCalculator(scale: "tiny", seed: 0, computeLibrary: "l", presentationLibrary: "p")
            .keys(for: try StageGraph(chapters: [chapter]), definitions: Weaver.definitions([chapter]))
    }

    func changed(_ a: [String: String], _ b: [String: String]) -> Set<String> {
        Set(a.keys.filter { a[$0] != b[$0] })
    }

    @Test func keysAreStable() throws {
        #expect(try keys() == keys())
        #expect(Set(try keys().values).count == 5)
    }

    /// What follows a changed stage is keyed on that stage's published output, which is known
    /// only once it ran (`Cache.resolve`, tested with the scheduler): its own parts stay.
    @Test func codeChangeChangesOnlyThatStagesOwnParts() throws {
        let edited = chapterText.replacingOccurrences(of: "try publish(d.count)", with: "try publish(d.count + 0)")
        #expect(changed(try keys(), try keys(edited)) == ["train"])
        let parts = try parts()
        #expect(parts["curve"]?.inputs == ["train": KeyParts.unresolved] && parts["curve"]?.isResolved == false)
        #expect(parts["data"]?.isResolved == true)
    }

    @Test func restylingAFigureInvalidatesOnlyThatFigure() throws {
        let edited = chapterText.replacingOccurrences(of: "Box(width: 10)", with: "Box(width: 10, color: \"red\")")
        #expect(changed(try keys(), try keys(edited)) == ["curve"])
    }

    @Test func libraryFingerprintsSplitComputeFromPresentation() throws {
        // Figures follow a compute change through what their needs publish (resolved later).
        #expect(changed(try keys(), try keys(compute: "lib2")) == ["data", "train", "unrelated"])
        #expect(changed(try keys(), try keys(presentation: "charts2")) == ["curve", "other"])
    }

    @Test func seedScaleAndDataInvalidateEverything() throws {
        #expect(changed(try keys(), try keys(seed: 1)).count == 5)
        #expect(changed(try keys(), try keys(scale: "default")).count == 5)
        #expect(changed(try keys(), try keys(data: "svhn")).count == 5)
    }

    /// A stage is keyed on the define declarations it reaches, not on every define block: an
    /// unused new helper changes no key; a changed declaration changes its users' keys only,
    /// also through another declaration that uses it.
    @Test func definitionsAreHashedIntoTheStagesThatReachThem() throws {
        func define(_ code: String) -> String { chapterText + "\n\n\(fence)swift define\n\(code)\n\(fence)\n" }
        let base = define("""
        struct Box { var width: Double; var color = "black" }
        func count(_ xs: [Int]) -> Int { xs.count }
        """)
        let used = chapterText.replacingOccurrences(of: "try publish(d.count)", with: "try publish(total(d))")
        let withHelper = used + "\n\n\(fence)swift define\nfunc total(_ xs: [Int]) -> Int { count(xs) }\nfunc count(_ xs: [Int]) -> Int { xs.count }\n\(fence)\n"
        #expect(changed(try keys(base), try keys(define("""
        struct Box { var width: Double; var color = "black" }
        func count(_ xs: [Int]) -> Int { xs.count }
        /// A new helper nothing calls yet.
        func unusedHelper(_ x: Int) -> Int { x * 2 }
        """))).isEmpty)
        #expect(changed(try keys(base), try keys(define("""
        struct Box { var width: Double; var color = "red" }
        func count(_ xs: [Int]) -> Int { xs.count }
        """))) == ["curve", "other"])
        // train reaches count() only through total().
        let edited = withHelper.replacingOccurrences(of: "func count(_ xs: [Int]) -> Int { xs.count }", with: "func count(_ xs: [Int]) -> Int { xs.count + 0 }")
        #expect(changed(try keys(withHelper), try keys(edited)) == ["train"])
        #expect(try parts(withHelper)["train"]?.definitions?.keys.sorted() == ["count", "total"])
    }

    @Test func partsExplainWhatChanged() {
        let old = KeyParts(kind: "stage", code: "c1", inputs: ["a": "k1", "b": "k2"], library: "l1", scale: "tiny", seed: 0)
        var new = old
        new.code = "c2"
        new.inputs["a"] = "k9"
        new.inputs["c"] = "k3"
        new.seed = 4
        #expect(new.changes(since: old) == ["code", "inputs (a, c)", "seed"])
        #expect(old.changes(since: old).isEmpty)
        // Split: the block's own code, the define declarations it reaches; pending inputs are left out.
        let split = KeyParts(kind: "stage", code: "c1", ownCode: "o1", definitions: ["helper": "h1", "Box": "b1"],
                             inputs: ["a": "k1"], library: "l1", scale: "tiny", seed: 0)
        var edited = split
        edited.code = "c2"
        edited.definitions = ["helper": "h2", "Box": "b1", "added": "n1"]
        edited.inputs["a"] = KeyParts.unresolved
        #expect(edited.changes(since: split) == ["define block (added, helper)"])
        edited.ownCode = "o2"
        #expect(edited.changes(since: split) == ["own code", "define block (added, helper)"])
    }

    @Test func libraryFingerprintFollowsTheFolders() throws {
        let root = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        for folder in ["Sources/Engine", "Sources/Charts"] {
            try FileManager.default.createDirectory(at: root.appendingPathComponent(folder), withIntermediateDirectories: true)
        }
        try "let a = 1".write(to: root.appendingPathComponent("Sources/Engine/A.swift"), atomically: true, encoding: .utf8)
        try "let c = 1".write(to: root.appendingPathComponent("Sources/Charts/C.swift"), atomically: true, encoding: .utf8)
        let fp = LibraryFingerprint(computeFolders: ["Sources/Engine"], presentationFolders: ["Sources/Charts"])
        let before = try fp.digests(root: root)
        try "let c = 2".write(to: root.appendingPathComponent("Sources/Charts/C.swift"), atomically: true, encoding: .utf8)
        let after = try fp.digests(root: root)
        #expect(before.compute == after.compute)
        #expect(before.presentation != after.presentation)
    }

    @Test func manifestClosureGivesFoldersPerKind() throws {
        let dump = """
        {"name": "P", "products": [
          {"name": "Engine", "targets": ["Engine"], "type": {"library": ["automatic"]}},
          {"name": "Charts", "targets": ["Charts"], "type": {"library": ["automatic"]}},
          {"name": "WeaveRuntime", "targets": ["WeaveRuntime"], "type": {"library": ["automatic"]}},
          {"name": "Weave", "targets": ["Weave"], "type": {"library": ["automatic"]}},
          {"name": "tool", "targets": ["tool"], "type": {"executable": null}}],
         "targets": [
          {"name": "Engine", "type": "regular", "dependencies": [{"byName": ["CBLAS", null]}]},
          {"name": "CBLAS", "type": "system", "dependencies": []},
          {"name": "Charts", "type": "regular", "dependencies": [{"byName": ["CCairo", null]}]},
          {"name": "CCairo", "type": "system", "dependencies": []},
          {"name": "WeaveRuntime", "type": "regular", "dependencies": []},
          {"name": "Weave", "type": "regular", "dependencies": [{"target": ["Charts", null]}]},
          {"name": "tool", "type": "executable", "dependencies": []}]}
        """
        let manifest = try PackageManifest.parse(dump: Data(dump.utf8))
        let fp = LibraryFingerprint(manifest: manifest)
        #expect(fp.computeFolders == ["Sources/CBLAS", "Sources/Engine", "Sources/WeaveRuntime"])
        // Figure and table code can call the engine directly, so it is keyed on it too (issue 18).
        #expect(fp.presentationFolders == ["Sources/CBLAS", "Sources/CCairo", "Sources/Charts", "Sources/Engine", "Sources/WeaveRuntime"])
        #expect(fp.computeDeclarations.map { $0.split(separator: " ")[0] } == ["CBLAS", "Engine", "WeaveRuntime"])

        // A flag change on Charts reaches presentation keys only; a new unrelated target reaches none.
        let flagged = try LibraryFingerprint(manifest: PackageManifest.parse(dump: Data(dump.replacingOccurrences(
            of: #"{"name": "Charts", "type": "regular","#, with: #"{"name": "Charts", "type": "regular", "settings": ["-Ounchecked"],"#).utf8)))
        #expect(flagged.computeDeclarations == fp.computeDeclarations)
        #expect(flagged.presentationDeclarations != fp.presentationDeclarations)
        let extended = try LibraryFingerprint(manifest: PackageManifest.parse(dump: Data(dump.replacingOccurrences(
            of: #"{"name": "tool", "type": "executable", "dependencies": []}"#,
            with: #"{"name": "tool", "type": "executable", "dependencies": []}, {"name": "NewTests", "type": "test", "dependencies": []}"#).utf8)))
        #expect(extended == fp)
    }
}
