import Foundation
import Testing
@testable import SystemSupport

@Suite struct AtomicFileTests {
    func temporaryFolder() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("atomic-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }

    @Test func replacesWholeFilesOnly() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("a/b.txt")
        try AtomicFile.write(Data("one".utf8), to: file)
        #expect(try AtomicFile.writeIfChanged(Data("one".utf8), to: file) == false)
        #expect(try AtomicFile.writeIfChanged(Data("two".utf8), to: file) == true)
        #expect(try String(contentsOf: file, encoding: .utf8) == "two")
        #expect(try FileManager.default.contentsOfDirectory(atPath: file.deletingLastPathComponent().path) == ["b.txt"])
    }

    /// A folder that cannot be written names the target in the error, and nothing is left behind.
    @Test func unwritableFolderIsAnErrorNamingTheFile() throws {
        let folder = try temporaryFolder()
        defer { chmod(folder.path, 0o755); try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("x.json")
        try AtomicFile.write(Data("old".utf8), to: file)
        chmod(folder.path, 0o555)
        // root ignores folder permissions: then the write simply succeeds.
        guard access(folder.path, W_OK) != 0 else { return }
        #expect { try AtomicFile.write(Data("new".utf8), to: file) } throws: { e in
            "\(e)".contains(file.path)
        }
        #expect(try String(contentsOf: file, encoding: .utf8) == "old")
    }

    /// Issue 17, item 11: a writer killed between writing and renaming leaves
    /// `.NAME.tmp-HOST-PID-*`; the next write of NAME removes those of dead writers, and keeps
    /// those of live ones and of other hosts.
    @Test func staleTemporaryFilesOfDeadWritersAreRemoved() throws {
        let dir = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("run.ckpt")
        // A PID that is not running: a child that has exited and been waited for.
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/bin/true")
        try child.run(); child.waitUntilExit()
        let dead = child.processIdentifier
        let name = url.lastPathComponent
        let stale = [".\(name).tmp-\(AtomicFile.hostName)-\(dead)-17", ".\(name).tmp-\(dead)-18"]
        let kept = [".\(name).tmp-\(AtomicFile.hostName)-\(getpid())-19", ".\(name).tmp-otherhost-\(dead)-20"]
        for f in stale + kept { try Data([1]).write(to: dir.appendingPathComponent(f)) }
        try AtomicFile.write(Data([2]), to: url)
        for f in stale { #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent(f).path), "\(f)") }
        for f in kept { #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent(f).path), "\(f)") }
    }
}

/// Known-answer vectors: RFC 1321 for MD5, FIPS 180-2 for SHA-256.
@Suite struct MessageDigestTests {
    @Test func md5KnownVectors() {
        #expect(MessageDigest.hex(.md5, of: Data()) == "d41d8cd98f00b204e9800998ecf8427e")
        #expect(MessageDigest.hex(.md5, of: Data("abc".utf8)) == "900150983cd24fb0d6963f7d28e17f72")
        #expect(MessageDigest.hex(.md5, of: Data("12345678901234567890123456789012345678901234567890123456789012345678901234567890".utf8))
                == "57edf4a22be3c955ac49da2e2107b67a")
    }

    @Test func sha256KnownVectors() {
        #expect(MessageDigest.hex(.sha256, of: Data("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(MessageDigest.hex(.sha256, of: Data()) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    /// Streaming in odd pieces, or from a file, gives the digest of the whole.
    @Test func streamingAndFilesGiveTheWholeDigest() throws {
        let big = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let m = MessageDigest(.md5)
        var i = 0
        while i < big.count { let j = min(big.count, i + 1 + i % 97); m.update(Array(big[i..<j])); i = j }
        #expect(m.finalize() == MessageDigest.hex(.md5, of: Data(big)))
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("digest-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: url) }
        try Data(big).write(to: url)
        #expect(try MessageDigest.file(.sha256, at: url) == MessageDigest.hex(.sha256, of: Data(big)))
        #expect(throws: (any Error).self) { try MessageDigest.file(.md5, at: url.appendingPathExtension("missing")) }
    }
}

@Suite struct CPUFeaturesTests {
    @Test func flagsComeFromTheFirstFlagsLine() {
        #expect(CPUFeatures.flags(cpuinfo: "processor : 0\nflags\t\t: fpu sse avx2\nflags : other\n") == ["fpu", "sse", "avx2"])
        #expect(CPUFeatures.flags(cpuinfo: "processor : 0\n").isEmpty)
        #expect(CPUFeatures.flags(cpuinfo: nil).isEmpty)
    }

    @Test func blasKernelNeedsEveryAVX512Subset() {
        let full = CPUFeatures.flags(cpuinfo: "flags\t\t: fpu sse avx2 avx512f avx512cd avx512bw avx512dq avx512vl\n")
        #expect(CPUFeatures.openBLASCoreType(flags: full) == "SkylakeX")
        #expect(CPUFeatures.openBLASCoreType(flags: ["avx2", "avx512f", "avx512cd"]) == nil)
        #expect(CPUFeatures.openBLASCoreType(environment: [:], flags: full) == "SkylakeX")
        #expect(CPUFeatures.openBLASCoreType(environment: ["OPENBLAS_CORETYPE": "Haswell"], flags: full) == "Haswell")
        #expect(CPUFeatures.openBLASCoreType(environment: ["OPENBLAS_CORETYPE": ""], flags: []) == nil)
    }

    /// The engine's rule (CPUID in CKernels) agrees with what the kernel reports in
    /// /proc/cpuinfo on this machine: AVX-512 needs F/BW/DQ/VL and FMA, AVX2 needs AVX2 and FMA.
    @Test func bestKernelPathMatchesTheReportedFlags() {
        let flags = CPUFeatures.flags()
        guard !flags.isEmpty else { return }  // no /proc/cpuinfo: nothing to compare with
        let expected = ["avx512f", "avx512bw", "avx512dq", "avx512vl", "fma"].allSatisfy(flags.contains) ? "avx512"
            : ["avx2", "fma"].allSatisfy(flags.contains) ? "avx2" : "portable"
        #expect(CPUFeatures.bestKernelPath == expected)
    }

    @Test func engineKernelPathHonoursEngineISA() {
        #expect(CPUFeatures.engineKernelPath(environment: ["ENGINE_ISA": "portable"]) == "portable")
        #expect(CPUFeatures.engineKernelPath(environment: ["ENGINE_ISA": ""]) == CPUFeatures.bestKernelPath)
        #expect(CPUFeatures.engineKernelPath(environment: [:]) == CPUFeatures.bestKernelPath)
    }
}

@Suite struct LockTests {
    @Test func withLockSerialisesUpdates() {
        final class Box: @unchecked Sendable { var n = 0 }
        let lock = Lock(), box = Box()
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            for _ in 0..<1000 { lock.withLock { box.n += 1 } }
        }
        #expect(box.n == 8000)
    }
}
