import Foundation
import Testing
import Charts

@Suite struct NiceTicksTests {
    @Test(arguments: [(0.0, 1.0, 5), (91.2, 94.6, 6), (0, 531_131, 5), (-3.2, 7.9, 4), (0.0, 0.0627, 6), (1e-4, 3e-4, 3)])
    func stepsAreOneTwoOrFiveTimesAPowerOfTen(lo: Double, hi: Double, count: Int) {
        let t = NiceTicks(covering: lo, hi, count: count)
        let mantissa = t.step / pow(10, log10(t.step).rounded(.down))
        #expect([1.0, 2, 5].contains { abs($0 - mantissa) < 1e-9 }, "step \(t.step)")
        #expect(t.lower <= lo + 1e-12 && t.upper >= hi - 1e-12, "ticks \(t.values) must cover \(lo)...\(hi)")
        // Evenly spaced, exactly on multiples of the step.
        for v in t.values { #expect(abs(v / t.step - (v / t.step).rounded()) < 1e-9) }
    }

    @Test func boundsDoNotOvershootWhenDataSitsOnATick() {
        let t = NiceTicks(covering: 0, 100, count: 5)
        #expect(t.values == [0, 20, 40, 60, 80, 100])
    }

    @Test func flatDataStillGetsAnAxis() {
        let t = NiceTicks(covering: 5, 5, count: 4)
        #expect(t.values.count >= 2)
        #expect(t.lower < 5 && t.upper > 5)
    }

    @Test func decimalsFollowTheStep() {
        #expect(NiceTicks(covering: 0, 100, count: 5).decimals == 0)
        #expect(NiceTicks(covering: 91, 95, count: 8).decimals == 1)
        #expect(NiceTicks(covering: 0, 0.06, count: 6).decimals == 2)
    }
}

@Suite struct NumberFormatTests {
    @Test func ticksUseTrueMinusAndNoNegativeZero() {
        #expect(NiceTicks(covering: -1, 1, count: 4).labels == ["−1.0", "−0.5", "0.0", "0.5", "1.0"])
        #expect(NumberFormat.fixed(1).string(-0.0001) == "0.0")
        #expect(NumberFormat.fixed(1).string(-2.25) == "−2.2" || NumberFormat.fixed(1).string(-2.25) == "−2.3")
    }

    @Test func largeCountsAreShortened() {
        #expect(NiceTicks(covering: 0, 40_000, count: 2).labels == ["0", "20k", "40k"])
        #expect(NiceTicks(covering: 0, 3_000_000, count: 2).labels == ["0", "1.5M", "3M"] || NiceTicks(covering: 0, 3_000_000, count: 2).labels == ["0", "2M", "4M"])
        #expect(NiceTicks(covering: 0, 5_000, count: 1).labels == ["0", "5000"])
    }

    @Test func cellFormats() {
        #expect(NumberFormat.percent(1).string(0.9731) == "97.3%")
        #expect(NumberFormat.fixed(2).string(1) == "1.00")
        #expect(NumberFormat.automatic.string(42) == "42")
        #expect(NumberFormat.automatic.string(0.25) == "0.25")
    }
}
