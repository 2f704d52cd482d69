import Foundation
import Testing
@testable import Datasets

@Suite struct SyntheticTests {
    @Test func sameSeedSameBytesAnyThreadCount() {
        let g = SyntheticHouseNumbers()
        let a = g.generate(count: 600, seed: 42, threads: 1)
        let b = g.generate(count: 600, seed: 42, threads: 2)
        let c = g.generate(count: 600, seed: 42, threads: 3)
        #expect(a == b)
        #expect(a == c)
        let d = g.generate(count: 600, seed: 43, threads: 1)
        #expect(a.pixels != d.pixels)
    }

    @Test func slicesMatchTheWholeStream() {
        let g = SyntheticHouseNumbers()
        let whole = g.generate(count: 300, seed: 9)
        let tail = g.generate(count: 100, seed: 9, firstIndex: 200)
        #expect(whole.subset(Array(200..<300)) == tail)
    }

    @Test func classImbalanceFollowsSVHN() {
        let g = SyntheticHouseNumbers()
        let set = g.generate(count: 5_000, seed: 5, threads: 2)
        let counts = set.labelCounts()
        let weights = SyntheticHouseNumbers.Parameters.svhnClassCounts
        let total = weights.reduce(0, +)
        for k in 0..<10 {
            let expected = weights[k] / total * 5_000
            #expect(abs(Double(counts[k]) - expected) < 5 * expected.squareRoot() + 10, "class \(k): \(counts[k]) vs \(expected)")
        }
        #expect(counts[1] > counts[0] * 2)
    }

    @Test func imagesAreNotBlank() {
        let set = SyntheticHouseNumbers().generate(count: 200, seed: 1)
        for i in 0..<set.count {
            let img = set.image(i)
            let lo = img.min() ?? 0, hi = img.max() ?? 0
            #expect(hi - lo > 20, "image \(i) is nearly flat")
        }
    }
}

@Suite struct SyntheticFingerprintTests {
    @Test func fingerprintIsStableAndSensitive() {
        let a = SyntheticHouseNumbers().fingerprint
        #expect(a == SyntheticHouseNumbers().fingerprint)
        #expect(a != SyntheticHouseNumbers(parameters: .difficulty(0.5)).fingerprint)
        #expect(a.count == 32)
    }

    @Test func difficultyKnobChangesTheImages() {
        let easy = SyntheticHouseNumbers(parameters: .difficulty(0)).generate(count: 50, seed: 1)
        let hard = SyntheticHouseNumbers(parameters: .difficulty(1.5)).generate(count: 50, seed: 1)
        #expect(easy.labels == hard.labels)  // the label is drawn first, whatever the difficulty
        #expect(easy.pixels != hard.pixels)
    }
}

@Suite struct DifficultyTests {
    @Test func knobEndpoints() {
        #expect(SyntheticHouseNumbers.Parameters.difficulty(1) == .default)
        #expect(SyntheticHouseNumbers.Parameters.difficulty(0) == .easy)
        let hard = SyntheticHouseNumbers.Parameters.difficulty(1.5)
        #expect(hard.contrast.lowerBound < SyntheticHouseNumbers.Parameters.default.contrast.lowerBound)
        #expect(hard.neighbourProbability <= 1 && hard.contrast.lowerBound >= 0.03)
    }
}
