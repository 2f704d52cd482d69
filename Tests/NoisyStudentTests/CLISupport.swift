import Foundation
import Testing

/// Runs the `noisy-student` executable built next to the tests, as a user would.
enum CLI {
    static var binary: URL? { executable("noisy-student") }

    /// The package's executable `name` (noisy-student, engine-bench), built next to the tests.
    static func executable(_ name: String) -> URL? {
        let here = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for dir in [here, here.deletingLastPathComponent(), here.deletingLastPathComponent().deletingLastPathComponent()] {
            let b = dir.appendingPathComponent(name)
            if FileManager.default.isExecutableFile(atPath: b.path) { return b }
        }
        return nil
    }

    /// Exit status (or signal), whether it ended by a signal, standard output and error.
    struct Outcome {
        var status: Int32
        var signalled: Bool
        var out: String
        var err: String
    }

    /// Runs `exe args`, killing it after `timeout` seconds (then `signalled` is true and the
    /// status is SIGKILL's).
    static func outcome(_ exe: URL, _ args: [String], timeout: Double = 600, environment: [String: String] = [:]) throws -> Outcome {
        let p = Process()
        p.executableURL = exe
        p.arguments = args
        var env = ProcessInfo.processInfo.environment
        env["XDG_CACHE_HOME"] = FileManager.default.temporaryDirectory.appendingPathComponent("ns-cache-\(getpid())").path
        env["OPENBLAS_CORETYPE"] = env["OPENBLAS_CORETYPE"] ?? "Haswell"  // no re-exec per run
        env.merge(environment) { $1 }
        p.environment = env
        let out = Pipe(), err = Pipe()
        p.standardOutput = out; p.standardError = err
        try p.run()
        let deadline = DispatchTime.now() + timeout
        DispatchQueue.global().asyncAfter(deadline: deadline) { if p.isRunning { p.terminate(); kill(p.processIdentifier, SIGKILL) } }
        let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Outcome(status: p.terminationStatus, signalled: p.terminationReason == .uncaughtSignal,
                       out: String(decoding: o, as: UTF8.self), err: String(decoding: e, as: UTF8.self))
    }

    @discardableResult
    static func run(_ exe: URL, _ args: [String]) throws -> (Int32, String, String) {
        let r = try outcome(exe, args)
        return (r.status, r.out, r.err)
    }

    /// Runs a Python script with arguments (the tests' independent file writers).
    static func python(_ script: String, _ args: [String]) throws {
        let py = Process()
        py.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        py.arguments = ["python3", "-c", script] + args
        try py.run(); py.waitUntilExit()
        guard py.terminationStatus == 0 else { throw CocoaError(.fileWriteUnknown) }
    }

    static func tempDir(_ tag: String) -> URL {
        let u = FileManager.default.temporaryDirectory.appendingPathComponent("\(tag)-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: u, withIntermediateDirectories: true)
        return u
    }
}
