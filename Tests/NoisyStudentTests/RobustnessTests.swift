import Testing
import NoisyStudent

@Suite struct RobustnessTests {
    func result(_ name: String, _ acc: [String: [Double]]) -> RobustnessResult {
        RobustnessResult(model: name, clean: 90, corruptions: acc, epsilons: [], fgsm: [], pgd: [])
    }

    @Test func corruptionErrorIsRelativeToTheBaseline() {
        let base = result("teacher", ["fog": [90, 80, 70, 60, 50], "snow": [80, 80, 80, 80, 80]])
        let better = result("student", ["fog": [95, 90, 85, 80, 75], "snow": [90, 90, 90, 90, 90]])
        let ce = CorruptionErrors(model: better, baseline: base)
        // fog: errors 75 vs 150 -> 50; snow: 50 vs 100 -> 50.
        #expect(ce.perCorruption == ["fog": 50, "snow": 50] && ce.mCE == 50)
        #expect(CorruptionErrors(model: base, baseline: base).mCE == 100)
    }
}
