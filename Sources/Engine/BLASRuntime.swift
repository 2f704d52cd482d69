import CBLAS
#if canImport(Glibc)
import Glibc
#endif
import Foundation
import SystemSupport

/// OpenBLAS kernel selection and threading.
///
/// OpenBLAS 0.3.21 treats Zen CPUs as Haswell (AVX2) even when they have AVX-512. Its SkylakeX
/// kernel is about twice as fast there, but the choice is made once, when the library loads, from
/// `OPENBLAS_CORETYPE`. So a launcher must set that variable *before* the process starts:
/// `prepareProcess()` does it by re-executing the current program with the variable set, once,
/// and only when the CPU and OS report the AVX-512 subsets the SkylakeX kernel uses.
public enum BLASRuntime {
    /// Call first thing in `main`: if the CPU supports a faster kernel than OpenBLAS would pick
    /// and the user has not chosen one, re-exec this program with `OPENBLAS_CORETYPE` set.
    /// Returns normally when no re-exec is needed (or when it is impossible, e.g. no /proc).
    /// Also checks `ENGINE_ISA` first: a bad value ends the program with its reason and status 2,
    /// before any work.
    public static func prepareProcess() {
        let env = ProcessInfo.processInfo.environment
        do { try KernelConfiguration.validateEnvironment(env) } catch {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            exit(2)
        }
        // Only a user's choice is checked: the re-exec below sets a kernel the CPU was seen to run.
        if env["NOISY_STUDENT_BLAS_REEXEC"] == nil, let problem = coreTypeProblem(env) {
            FileHandle.standardError.write(Data("error: \(problem)\n".utf8))
            exit(2)
        }
        guard env["OPENBLAS_CORETYPE"] == nil, env["NOISY_STUDENT_BLAS_REEXEC"] == nil,
              let core = CPUFeatures.openBLASCoreType() else { return }
        setenv("OPENBLAS_CORETYPE", core, 1)
        setenv("NOISY_STUDENT_BLAS_REEXEC", "1", 1)  // guards against an exec loop
        let args = CommandLine.arguments
        var cargs: [UnsafeMutablePointer<CChar>?] = args.map { strdup($0) }
        cargs.append(nil)
        execv("/proc/self/exe", cargs)
        // execv only returns on failure: carry on with OpenBLAS's own choice.
        for p in cargs { free(p) }
    }

    /// The kernel OpenBLAS is running (e.g. "SkylakeX", "Haswell").
    public static var coreName: String {
        guard let p = openblas_get_corename() else { return "unknown" }
        return String(cString: p)
    }

    /// Threads OpenBLAS uses for one call.
    public static var threads: Int { Int(openblas_get_num_threads()) }

    /// The most threads this OpenBLAS build runs (`MAX_THREADS` in its configuration string, 64
    /// in Debian's 0.3.21). It caps a larger request silently, so a run would record a thread
    /// count it did not use.
    public static var maximumThreads: Int {
        guard let p = openblas_get_config() else { return 64 }
        let config = String(cString: p)
        guard let r = config.range(of: "MAX_THREADS=") else { return 64 }
        return Int(config[r.upperBound...].prefix(while: \.isNumber)) ?? 64
    }

    /// What is wrong with a requested thread count, or nil when OpenBLAS and the engine can run it.
    public static func threadCountProblem(_ n: Int) -> String? {
        if n < 1 { return "must be 1 or more, got \(n)" }
        if n > maximumThreads { return "must be at most \(maximumThreads) (this OpenBLAS build's MAX_THREADS), got \(n)" }
        return nil
    }

    /// `OPENBLAS_CORETYPE` names a kernel; OpenBLAS ignores a name it does not know (or a
    /// kernel the CPU cannot run) and picks its own without a word. This says so instead.
    /// - Returns: the problem, or nil when the running kernel is the one asked for (or none was).
    public static func coreTypeProblem(_ env: [String: String]) -> String? {
        guard let asked = env["OPENBLAS_CORETYPE"], !asked.isEmpty else { return nil }
        let running = coreName
        guard running.lowercased() != asked.lowercased() else { return nil }
        return "OPENBLAS_CORETYPE=\(asked): OpenBLAS does not know that kernel or cannot run it on this CPU, "
            + "and runs \(running) instead (names such as Haswell, SkylakeX, Zen; unset it to let the engine choose)"
    }

    /// Sets OpenBLAS's threads and the engine's own parallel loops to `n` (at least 1).
    public static func setThreads(_ n: Int) {
        openblas_set_num_threads(Int32(max(1, n)))
        Parallelism.threads = n  // the engine's own parallel loops follow the same budget
    }

    /// One line for logs: OpenBLAS's kernel and threads, and the engine's C kernel path.
    public static var description: String {
        "OpenBLAS kernel \(coreName), \(threads) thread\(threads == 1 ? "" : "s"); engine kernels \(KernelConfiguration.kernelSet)"
    }
}
