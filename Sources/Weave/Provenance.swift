import Foundation
import ProcessRunner

/// Where a report came from: enough to rebuild it or to tell two reports apart.
public struct Provenance: Sendable, Codable, Equatable {
    /// `git rev-parse HEAD`, marked "(with uncommitted changes)" when tracked files differ.
    public var commit: String
    /// First line of `swift --version`.
    public var toolchain: String
    /// OpenBLAS kernel the stages were started with ("auto" when OpenBLAS chose).
    public var blasKernel: String
    /// BLAS threads per stage.
    public var blasThreads: Int
    /// The engine's C kernel path this build's stages run with ("avx512", "avx2", "portable").
    var enginePath: String = RunSettings.engineKernelPath()
    /// Stages run at once.
    public var jobs: Int
    /// Experiment scale.
    public var scale: String
    /// Base seed.
    public var seed: UInt64
    /// When the report was built.
    public var date: Date
    /// Machine description: architecture and core count.
    public var host: String

    /// Provenance as given (tests); `collect` gathers the real one.
    public init(commit: String, toolchain: String, blasKernel: String, blasThreads: Int, jobs: Int,
                scale: String, seed: UInt64, date: Date, host: String) {
        self.commit = commit
        self.toolchain = toolchain
        self.blasKernel = blasKernel
        self.blasThreads = blasThreads
        self.jobs = jobs
        self.scale = scale
        self.seed = seed
        self.date = date
        self.host = host
    }

    /// This build's provenance: git and swift are asked in `root`; "unknown" (or "not a git
    /// checkout") when they cannot answer. Never throws.
    static func collect(root: URL, blasThreads: Int, jobs: Int, scale: String, seed: UInt64) -> Provenance {
        func run(_ args: [String]) -> String? {
            guard let r = try? ProcessRunner.run(args, in: root), r.status == 0 else { return nil }
            return r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        var commit = run(["git", "rev-parse", "HEAD"]) ?? "not a git checkout"
        if let status = run(["git", "status", "--porcelain", "--untracked-files=no"]), !status.isEmpty {
            commit += " (with uncommitted changes)"
        }
        let toolchain = run(["swift", "--version"])?.split(separator: "\n").first.map(String.init) ?? "unknown"
        var uts = utsname()
        uname(&uts)
        let machine = withUnsafeBytes(of: &uts.machine) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
        let cores = ProcessInfo.processInfo.activeProcessorCount
        return Provenance(commit: commit, toolchain: toolchain,
                          blasKernel: RunSettings.blasCoreType() ?? "auto (OpenBLAS's choice)",
                          blasThreads: blasThreads, jobs: jobs, scale: scale, seed: seed, date: Date(),
                          host: "\(machine), \(cores) cores")
    }
}
