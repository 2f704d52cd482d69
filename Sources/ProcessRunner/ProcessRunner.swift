import Foundation

/// Runs a helper program (git, swift, node, sbatch...) to completion. Output goes through temp
/// files rather than pipes so a chatty program can never fill a pipe and deadlock the caller.
/// Shared by the weaver and the Slurm client.
public enum ProcessRunner {
    /// Exit status and everything the program printed.
    public struct Result: Sendable {
        /// The exit status (a signal's number for a program killed by one).
        public var status: Int32
        /// Everything the program wrote to standard output (empty if it is not valid UTF-8).
        public var stdout: String
        /// Everything the program wrote to standard error (empty if it is not valid UTF-8).
        public var stderr: String
    }

    /// Runs `arguments` through `/usr/bin/env` (so the program is looked up on PATH; status 127:
    /// not found), in `directory` (nil: ours) with `environment` (nil: ours) and `stdin` (nil:
    /// /dev/null). Throws when the program cannot be started or the temp files cannot be made.
    public static func run(_ arguments: [String], in directory: URL? = nil, environment: [String: String]? = nil,
                           stdin: Data? = nil) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = directory }
        if let environment { process.environment = environment }
        let temp = FileManager.default.temporaryDirectory.appendingPathComponent("run-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: temp, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: temp) }
        let out = temp.appendingPathComponent("out"), err = temp.appendingPathComponent("err")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        let outHandle = try FileHandle(forWritingTo: out), errHandle = try FileHandle(forWritingTo: err)
        process.standardOutput = outHandle
        process.standardError = errHandle
        if let stdin {
            let input = temp.appendingPathComponent("in")
            try stdin.write(to: input)
            process.standardInput = try FileHandle(forReadingFrom: input)
        } else {
            process.standardInput = FileHandle.nullDevice
        }
        try process.run()
        process.waitUntilExit()
        try? outHandle.close()
        try? errHandle.close()
        return Result(status: process.terminationStatus,
                      stdout: (try? String(contentsOf: out, encoding: .utf8)) ?? "",
                      stderr: (try? String(contentsOf: err, encoding: .utf8)) ?? "")
    }
}
