import CKernelPath
import Foundation

/// What this CPU can run, decided by one rule for every process: the engine's C kernel path
/// (`ck_isa` in CKernelPath) and the OpenBLAS kernel a launcher should force. The weaver asks here
/// so the path it records with each result is the one the stage computed with.
public enum CPUFeatures {
    /// The flags of the first `flags` line of `/proc/cpuinfo` text (empty for nil or no such
    /// line). The kernel hides AVX-512 there when the OS does not save ZMM state.
    public static func flags(cpuinfo: String?) -> Set<String> {
        guard let cpuinfo,
              let line = cpuinfo.split(separator: "\n").first(where: { $0.hasPrefix("flags") }),
              let colon = line.firstIndex(of: ":") else { return [] }
        return Set(line[line.index(after: colon)...].split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init))
    }

    /// This machine's CPU flags (`/proc/cpuinfo`; empty where it cannot be read).
    public static func flags() -> Set<String> {
        flags(cpuinfo: try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8))
    }

    /// The AVX-512 subsets OpenBLAS's SkylakeX kernels use (F, CD, BW, DQ, VL).
    static let skylakeXFlags: Set<String> = ["avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"]

    /// The `OPENBLAS_CORETYPE` a process should start with: "SkylakeX" when the CPU reports
    /// every subset that kernel uses, else nil (OpenBLAS's own choice). OpenBLAS 0.3.21 treats
    /// Zen CPUs with AVX-512 as Haswell; its SkylakeX kernel is about twice as fast there.
    public static func openBLASCoreType(flags: Set<String> = flags()) -> String? {
        skylakeXFlags.isSubset(of: flags) ? "SkylakeX" : nil
    }

    /// The `OPENBLAS_CORETYPE` a stage gets: the one in `environment` when set and non-empty,
    /// else `openBLASCoreType(flags:)`.
    public static func openBLASCoreType(environment: [String: String], flags: Set<String> = flags()) -> String? {
        if let chosen = environment["OPENBLAS_CORETYPE"], !chosen.isEmpty { return chosen }
        return openBLASCoreType(flags: flags)
    }

    /// The engine's kernel path when `ENGINE_ISA` is unset: "avx512" (F/BW/DQ/VL and FMA),
    /// else "avx2" (AVX2 and FMA), else "portable"; CPUID as `ck_isa_best` reads it.
    public static var bestKernelPath: String {
        ck_isa_name(ck_isa_best()).map { String(cString: $0) } ?? "portable"
    }

    /// The engine's kernel path for a process started with `environment`: its non-empty
    /// `ENGINE_ISA` as given (the engine validates it when it starts), else `bestKernelPath`.
    public static func engineKernelPath(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let chosen = environment["ENGINE_ISA"], !chosen.isEmpty { return chosen }
        return bestKernelPath
    }
}
