import Foundation
import SystemSupport
import Testing
@testable import Engine

/// `ENGINE_ISA` selects the C kernels' path; a bad value is refused before any work.
@Suite struct KernelPathTests {
    @Test func portableIsAlwaysSupportedAndNamed() throws {
        #expect(KernelConfiguration.supports("portable"))
        try KernelConfiguration.validateEnvironment(["ENGINE_ISA": "portable"])
        try KernelConfiguration.validateEnvironment([:])
        try KernelConfiguration.validateEnvironment(["ENGINE_ISA": ""])
        #expect(["avx512", "avx2", "portable"].contains(KernelConfiguration.kernelSet))
        #expect(KernelConfiguration.supports(KernelConfiguration.kernelSet))
    }

    @Test func unknownOrUnsupportedPathsAreRefusedWithTheirName() {
        #expect(!KernelConfiguration.supports("sse9"))
        do {
            try KernelConfiguration.validateEnvironment(["ENGINE_ISA": "sse9"])
            Issue.record("an unknown path must be refused")
        } catch {
            #expect("\(error)".contains("ENGINE_ISA=sse9"))
            #expect("\(error)".contains("unknown kernel path"))
        }
        for path in ["avx512", "avx2"] where !KernelConfiguration.supports(path) {
            #expect(throws: KernelPathError.self) { try KernelConfiguration.validateEnvironment(["ENGINE_ISA": path]) }
        }
    }
}

/// The weaver records `CPUFeatures.engineKernelPath` with each result: it must be the path the
/// engine then runs.
@Suite struct KernelPathAgreementTests {
    @Test func weaverAndEngineNameTheSamePath() {
        let env = ProcessInfo.processInfo.environment
        #expect(CPUFeatures.engineKernelPath(environment: env) == KernelConfiguration.kernelSet)
    }
}
