import Foundation

/// One entry of the generated executable's stage table.
public enum StageEntry: Sendable {
    case compute(@Sendable (StageContext) throws -> Void)
    /// Renders to (svg, png at scale 2, size); the generated code adapts the `Figure` value.
    case figure(@Sendable (StageContext) throws -> (svg: Data, png: Data, width: Double, height: Double))
    case table(@Sendable (StageContext) throws -> Table)
}

/// The generated executable's `main`: runs the stage named in the environment and turns a
/// thrown error into `failure.json` plus a distinctive exit code. `codeKeys` (stage -> code key
/// part it was compiled from) is checked against `WEAVE_CODE_KEY` before anything runs.
public func runStage(from stages: [String: StageEntry], codeKeys: [String: String] = [:]) -> Int32 {
    let environment = ProcessInfo.processInfo.environment
    if environment[StageProtocol.watchParentVariable] == "1" { exitWhenParentGoes() }
    let context: StageContext
    do {
        context = try StageContext.fromEnvironment()
    } catch {
        FileHandle.standardError.write(Data("weave: \(error)\n".utf8))
        return 2
    }
    guard let entry = stages[context.stage] else {
        // Compiled from another build's chapters (a shared scratch folder): the same answer as
        // a stage whose code differs, so the weaver says what happened.
        FileHandle.standardError.write(Data("weave: no stage named \(context.stage) in this program (compiled from other chapters); nothing was run\n".utf8))
        return StageProtocol.wrongProgramExitCode
    }
    if let expected = environment[StageProtocol.codeKeyVariable], codeKeys[context.stage] != expected {
        FileHandle.standardError.write(Data(("weave: this program was compiled from other code for \(context.stage) than "
            + "its cache key describes (another build recompiled it); nothing was run\n").utf8))
        return StageProtocol.wrongProgramExitCode
    }
    do {
        switch entry {
        case .compute(let body):
            try body(context)
        case .figure(let body):
            let rendered = try body(context)
            try context.write(rendered.svg, to: context.output.appendingPathComponent(StageProtocol.figureSVG))
            try context.write(rendered.png, to: context.output.appendingPathComponent(StageProtocol.figurePNG))
            let info = try JSONEncoder().encode(FigureInfo(width: rendered.width, height: rendered.height))
            try context.write(info, to: context.output.appendingPathComponent(StageProtocol.figureInfo))
        case .table(let body):
            let table = try body(context)
            let data = try JSONEncoder().encode(table)
            try context.write(data, to: context.output.appendingPathComponent(StageProtocol.tableFile))
        }
        return 0
    } catch {
        let message = describe(error)
        if let data = try? JSONEncoder().encode(StageFailure(message: message)) {
            try? context.write(data, to: context.output.appendingPathComponent(StageProtocol.failureFile))
        }
        FileHandle.standardError.write(Data("error: \(message)\n".utf8))
        return StageProtocol.failureExitCode
    }
}

/// The most readable form of an error: a `LocalizedError`'s description when it has one (Cocoa
/// errors carry the author's message there), otherwise how the error prints itself.
func describe(_ error: Error) -> String {
    if let localized = error as? LocalizedError, let text = localized.errorDescription { return text }
    if let text = (error as NSError).userInfo[NSLocalizedDescriptionKey] as? String { return text }
    return String(describing: error)
}

/// Watches standard input (a pipe only the weaver writes to, and never does): end of file or an
/// error means the weaver died, so the stage process ends too instead of running on for hours.
func exitWhenParentGoes() {
    let watcher = Thread {
        var byte: UInt8 = 0
        while true {
            let n = read(0, &byte, 1)
            if n == 0 || (n < 0 && errno != EINTR) { _exit(StageProtocol.orphanExitCode) }
        }
    }
    watcher.start()
}
