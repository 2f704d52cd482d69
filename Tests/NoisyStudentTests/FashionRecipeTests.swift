import Foundation
import Testing
@testable import NoisyStudent

/// `Recipe.fashionMNIST(scale:seed:)`: the synthetic preset with exactly the departures its doc
/// comment and the Fashion-MNIST chapter name (docs/tuning.md has the runs behind them).
@Suite struct FashionRecipeTests {
    /// The preset with the data settings and the single student every scale shares.
    static func common(_ s: Recipe.Scale, seed: UInt64) -> Recipe {
        var recipe = Recipe.preset(s == .paper ? .default : s).adapted(classes: 10, inputChannels: 1)
        recipe.seed = seed
        recipe.students = [recipe.students[0]]
        recipe.data = DataSettings(labeledPerClass: s == .tiny ? 30 : 100, unlabeledCount: s == .tiny ? 2_000 : nil,
                                   validationCount: 1_000, testCount: 0)
        return recipe
    }

    @Test func tinyIsThePresetWithOneStudent() {
        for seed: UInt64 in [0, 1, 2] {
            #expect(Recipe.fashionMNIST(scale: .tiny, seed: seed) == Self.common(.tiny, seed: seed))
        }
    }

    @Test(arguments: [Recipe.Scale.default, .paper])
    func defaultDepartsOnlyInTeacherNoiseScheduleAndRatio(scale: Recipe.Scale) {
        for seed: UInt64 in [0, 1, 2] {
            let r = Recipe.fashionMNIST(scale: scale, seed: seed)
            var expected = Self.common(scale, seed: seed)
            expected.teacherNoise = NoiseSettings(randAugment: true, cutout: false, crop: true, dropout: 0, stochasticDepth: 0)
            expected.teacherTraining.epochs = 200
            expected.unlabeledRatio = 5
            expected.studentTraining.epochs = 80
            #expect(r == expected)
            #expect(r.teacherNoise.inputNoise != nil && r.teacherNoise.dropout == 0)   // input noise only
            #expect(r.students.count == 1 && r.students[0].inputChannels == 1 && r.teacher.classes == 10)
        }
    }
}
