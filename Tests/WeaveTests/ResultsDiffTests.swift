import Foundation
import Testing
import Weave

@Suite struct ResultsDiffTests {
    func json(_ text: String) throws -> JSONValue { try JSONValue.decode(Data(text.utf8)) }

    @Test func numbersBeyondTheToleranceAndStructuralChangesAreListed() throws {
        let old = try json(#"{"teacher": {"top1": 0.9012, "epochs": 10}, "seeds": [1, 2], "name": "a", "gone": 1}"#)
        let new = try json(#"{"teacher": {"top1": 0.9031, "epochs": 10}, "seeds": [1, 2, 3], "name": "b", "fresh": true}"#)
        let diff = ResultsDiff(old: old, new: new, tolerance: 0.001)
        #expect(diff.changes == [
            .added("fresh"), .removed("gone"), .changed("name", "\"a\"", "\"b\""), .added("seeds.2"),
            .moved("teacher.top1", 0.9012, 0.9031),
        ])
        #expect(ResultsDiff(old: old, new: new, tolerance: 0.01).changes.count == 4)
        #expect(ResultsDiff(old: old, new: old).changes.isEmpty)
    }

    /// `@figure-data` holds each figure's data digest: a changed, new or gone figure is a change;
    /// a file from before it was recorded is noted, not counted.
    @Test func figuresWhoseDataChangedAreListed() throws {
        let old = try json(#"{"top1": 0.9, "@figure-data": {"curve": "a1", "bars": "b1", "gone": "g1"}}"#)
        let new = try json(#"{"top1": 0.9, "@figure-data": {"curve": "a2", "bars": "b1", "fresh": "f1"}}"#)
        let diff = ResultsDiff(old: old, new: new)
        #expect(diff.changes == [.figure("curve", "data changed"), .figure("fresh", "new"), .figure("gone", "gone")])
        #expect(diff.changes.map(\.description).first == "figure curve: data changed")
        #expect(ResultsDiff(old: new, new: new).changes.isEmpty)
        let before = ResultsDiff(old: try json(#"{"top1": 0.9}"#), new: new)
        #expect(before.changes.isEmpty)
        #expect(before.notes.count == 1 && before.notes[0].contains("old results.json"))
    }

    @Test func missingFilesAreNamed() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let present = folder.appendingPathComponent("a.json")
        try Data("{}".utf8).write(to: present)
        let missing = folder.appendingPathComponent("b.json")
        let error = firstError { _ = try ResultsDiff(oldFile: present, newFile: missing) }
        #expect(error?.message.contains(missing.path) == true)
    }
}
