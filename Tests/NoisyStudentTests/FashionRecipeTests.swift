import Foundation
import Testing
@testable import NoisyStudent

/// `Recipe.fashionMNIST(scale:seed:)` replaced the recipe the Fashion-MNIST chapter assembled
/// inline; it must be that recipe exactly, or the committed Fashion-MNIST numbers would no
/// longer come from the code that builds them.
@Suite struct FashionRecipeTests {
    /// The chapter's construction before the move, verbatim but for the scale parsing.
    static func inline(_ s: Recipe.Scale, seed: UInt64) -> Recipe {
        var recipe = Recipe.preset(s == .paper ? .default : s)
        recipe.seed = seed
        recipe.students = [recipe.students[0]]
        if s != .tiny { recipe.studentTraining.epochs *= 2 }
        recipe.data = DataSettings(labeledPerClass: s == .tiny ? 30 : 100, unlabeledCount: s == .tiny ? 2_000 : nil,
                                   validationCount: 1_000, testCount: 0)
        return recipe.adapted(classes: 10, inputChannels: 1)   // Fashion-MNIST: 10 classes, grey
    }

    @Test(arguments: [Recipe.Scale.tiny, .default, .paper])
    func isTheChaptersOldRecipe(scale: Recipe.Scale) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        for seed: UInt64 in [0, 1, 2] {
            let moved = Recipe.fashionMNIST(scale: scale, seed: seed)
            #expect(moved == Self.inline(scale, seed: seed))
            #expect(try encoder.encode(moved) == encoder.encode(Self.inline(scale, seed: seed)))
        }
    }
}
