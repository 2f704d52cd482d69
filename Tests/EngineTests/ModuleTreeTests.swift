import Foundation
import Randomness
import Testing
import Engine

/// Models list their parameters once (`Module.children`); `namedParameters`, and with it the
/// optimizer, the EMA and checkpoints, is derived. These tests hold the derived list to the
/// checkpoints written before the derivation (old checkpoints keep loading, tensors in the same
/// order, so optimizer and EMA slots line up on resume) and to what the models really hold.
@Suite struct ModuleTreeTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    static func model(_ checkpoint: Checkpoint) throws -> any Layer {
        let spec = try JSONDecoder().decode(ModelSpec.self, from: Data(checkpoint.architecture.utf8))
        var rng = SeededGenerator(seed: 0)
        return spec.build(rng: &rng)
    }

    /// `efficientnet-b0-w0.25-d0.5.ckpt` was written by `noisy-student supervised --model
    /// efficientnet --width 4 --depth 8` built from the tree before `children` (commit 0f36f06):
    /// its tensors are in the old hand-written order. The PyTorch fixtures were written through
    /// tools/torch_reference.py from our checkpoints of that time.
    @Test(arguments: ["efficientnet-b0-w0.25-d0.5.ckpt", "pytorch-resnet-8.ckpt", "pytorch-wrn-10-1.ckpt"])
    func oldCheckpointsLoadUnderTheSameNames(_ file: String) throws {
        let checkpoint = try Checkpoint.read(from: Self.fixtures.appendingPathComponent(file))
        let model = try Self.model(checkpoint)
        try model.load(from: checkpoint)
        let saved = checkpoint.tensors.map(\.name).filter { $0.hasPrefix("model.") }
        let listed = model.namedParameters.map { "model.\($0.name)" }
        #expect(Set(saved) == Set(listed))
        if file.hasPrefix("efficientnet") { #expect(saved == listed, "the old order of optimizer and EMA slots") }
        for (name, p) in model.namedParameters {
            #expect(checkpoint.tensor(named: "model.\(name)")?.scalars == p.value.scalars, "\(name)")
        }
    }

    /// Every `Parameter` a model holds, found by reflection over its stored properties
    /// (optionals, tuples and arrays included), is listed exactly once: a layer added to a model
    /// but not to its `children` fails here.
    @Test(arguments: [ModelSpec.resnet(depth: 14, width: 4), .wideResNet(depth: 16, width: 1),
                      .efficientNet(width: 0.25, depth: 0.5)])
    func everyHeldParameterIsListedOnce(_ spec: ModelSpec) {
        var rng = SeededGenerator(seed: 0)
        let model = spec.build(rng: &rng)
        var held = Set<ObjectIdentifier>(), seen = Set<ObjectIdentifier>()
        func walk(_ value: Any) {
            if let p = value as? Parameter { held.insert(ObjectIdentifier(p)); return }
            if value is Tensor { return }
            if type(of: value) is AnyClass {
                guard seen.insert(ObjectIdentifier(value as AnyObject)).inserted else { return }
            }
            for child in Mirror(reflecting: value).children { walk(child.value) }
        }
        walk(model)
        let listed = model.namedParameters.map { ObjectIdentifier($0.parameter) }
        #expect(listed.count == Set(listed).count, "a parameter listed twice")
        #expect(held.subtracting(listed).isEmpty, "\(spec): \(held.subtracting(listed).count) parameters held but not listed")
        #expect(Set(listed).subtracting(held).isEmpty, "\(spec): listed parameters the model does not hold")
        #expect(held.count > 10)
    }
}
