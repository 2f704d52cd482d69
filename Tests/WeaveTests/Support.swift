import Foundation
import Weave

/// A fresh folder under the system temp dir, removed by the caller when done.
func temporaryFolder(_ name: String = #function) throws -> URL {
    let safe = name.filter { $0.isLetter || $0.isNumber }
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("weave-tests-\(safe)-\(UUID().uuidString.prefix(8))")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// The package root (for fixtures and the end-to-end build).
let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

func parse(_ text: String, file: String = "chapters/01-test.md") throws -> Chapter {
    try ChapterParser().parse(text, file: file)
}

/// The first error a throwing call produced, for checking messages and locations.
func firstError(_ body: () throws -> Void) -> WeaveError? {
    do {
        try body()
        return nil
    } catch let e as WeaveErrors {
        return e.errors.first
    } catch let e as WeaveError {
        return e
    } catch {
        return WeaveError("\(error)")
    }
}

func allErrors(_ body: () throws -> Void) -> [WeaveError] {
    do {
        try body()
        return []
    } catch let e as WeaveErrors {
        return e.errors
    } catch {
        return [WeaveError("\(error)")]
    }
}

let fence = "```"

func stage(_ name: String, kind: StageKind = .compute, needs: [String] = [], code: String = "", line: Int = 1) -> Stage {
    Stage(name: name, kind: kind, needs: needs, code: code, location: SourceLocation(file: "chapters/01.md", line: line),
          codeLine: line + 1)
}
