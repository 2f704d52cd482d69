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

    /// mCE adds the per-corruption errors in name order, so it does not depend on a Dictionary's
    /// per-process order (it once differed in its last digit between two runs of one build).
    @Test func meanCorruptionErrorIsSummedInNameOrder() {
        var base: [String: [Double]] = [:], model: [String: [Double]] = [:]
        for k in 0..<15 {
            base["c\(k)"] = [Double](repeating: 50 + Double(k) / 7, count: 5)
            model["c\(k)"] = [Double](repeating: 99.9 - Double(k * k) / 3.3, count: 5)
        }
        let ce = CorruptionErrors(model: result("s", model), baseline: result("t", base))
        let inOrder = ce.perCorruption.keys.sorted().reduce(0.0) { $0 + ce.perCorruption[$1]! } / 15
        #expect(ce.mCE.bitPattern == inOrder.bitPattern)
        // The values are ones whose sum does depend on the order, so the check means something.
        let reversed = ce.perCorruption.keys.sorted().reversed().reduce(0.0) { $0 + ce.perCorruption[$1]! } / 15
        #expect(reversed.bitPattern != inOrder.bitPattern)
    }
}
