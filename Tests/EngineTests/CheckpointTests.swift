import Foundation
import Testing
import Engine
import Randomness

@Suite struct CheckpointTests {
    func tempURL(_ name: String) -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("ckpt-\(UUID().uuidString)-\(name)")
    }

    func model(seed: UInt64) -> any Layer {
        var rng = SeededGenerator(seed: seed)
        return ModelSpec.efficientNet(width: 0.1, depth: 0.1).build(rng: &rng)
    }

    @Test func roundTripIsBitExact() throws {
        let a = model(seed: 1), b = model(seed: 2)
        let url = tempURL("a.ckpt")
        defer { try? FileManager.default.removeItem(at: url) }
        let spec = "{\"kind\":\"efficientNet\"}"
        try Checkpoint(architecture: spec, metadata: ["step": "7"], tensors: a.checkpointTensors()).write(to: url)
        let loaded = try Checkpoint.read(from: url)
        #expect(loaded.architecture == spec && loaded.metadata["step"] == "7")
        try b.load(from: loaded)
        for (p, q) in zip(a.parameters, b.parameters) {
            #expect(p.value.scalars.map(\.bitPattern) == q.value.scalars.map(\.bitPattern))
        }
        // No temporary files left behind by the atomic write.
        let left = try FileManager.default.contentsOfDirectory(atPath: url.deletingLastPathComponent().path)
            .filter { $0.contains(url.lastPathComponent) && $0 != url.lastPathComponent }
        #expect(left.isEmpty)
    }

    @Test func truncatedCorruptAndForeignFilesGiveClearErrors() throws {
        let data = try Checkpoint(architecture: "x", tensors: model(seed: 1).checkpointTensors()).encoded()
        // Every truncation point is an error, never a crash.
        for cut in stride(from: 0, to: data.count, by: max(1, data.count / 97)) {
            #expect(throws: CheckpointError.self) { try Checkpoint.decode(data.prefix(cut)) }
        }
        var flipped = data
        flipped[data.count / 2] ^= 0x40
        #expect(throws: CheckpointError.checksumMismatch("<memory>")) { try Checkpoint.decode(flipped) }
        #expect(throws: CheckpointError.notACheckpoint("<memory>")) { try Checkpoint.decode(Data("hello world, not a checkpoint".utf8)) }
        var future = data
        future[8] = 99
        #expect(throws: CheckpointError.self) { try Checkpoint.decode(future) }
        let missing = URL(fileURLWithPath: "/nonexistent/model.ckpt")
        do { _ = try Checkpoint.read(from: missing); Issue.record("expected an error") } catch let e as CheckpointError {
            #expect(e.description.contains("/nonexistent/model.ckpt"))
        }
    }

    @Test func loadingExplainsMismatches() throws {
        var rng = SeededGenerator(seed: 3)
        let small = ResNet(depth: 8, width: 4, rng: &rng), wide = ResNet(depth: 8, width: 8, rng: &rng)
        let ckpt = Checkpoint(architecture: "resnet", tensors: small.checkpointTensors())
        do { try wide.load(from: ckpt); Issue.record("expected a shape mismatch") } catch let e as CheckpointError {
            guard case .shapeMismatch(let name, let expected, let found) = e else { Issue.record("\(e)"); return }
            #expect(name == "model.stem.weight" && expected == [3, 3, 3, 8] && found == [3, 3, 3, 4])
        }
        let deeper = ResNet(depth: 14, width: 4, rng: &rng)
        // Deeper: its block1 is a 4->4 block where the checkpoint's block1 is 4->8.
        #expect(throws: CheckpointError.shapeMismatch("model.block1.conv1.weight", expected: [3, 3, 4, 4], found: [3, 3, 4, 8])) {
            try deeper.load(from: ckpt)
        }
        let renamed = Checkpoint(architecture: "resnet", tensors: small.checkpointTensors().filter { $0.name != "model.classifier.bias" })
        #expect(throws: CheckpointError.missingTensor("model.classifier.bias")) { try small.load(from: renamed) }
        let shallow = Checkpoint(architecture: "resnet", tensors: deeper.checkpointTensors())
        #expect(throws: CheckpointError.self) { try small.load(from: shallow) }
    }

    /// A forged tensor shape whose element count overflows is refused (the engine is built
    /// without overflow checks, so the decoder checks explicitly).
    @Test func overflowingShapeIsRefused() throws {
        // 2^62 x 4 elements of 4 bytes wrap around to 0 bytes in unchecked arithmetic.
        let json = Array(#"{"architecture":"x","metadata":{},"tensors":[{"name":"t","shape":[4611686018427387904,4]}]}"#.utf8)
        var bytes = Checkpoint.magic + [1, 0, 0, 0]
        bytes += [UInt8(json.count & 255), UInt8(json.count >> 8), 0, 0] + json + [0, 0, 0, 0]
        #expect { try Checkpoint.decode(Data(bytes), path: "forged.ckpt") } throws: { e in
            if case .malformedHeader("forged.ckpt", let why)? = e as? CheckpointError { return why.contains("larger than the file") }
            return false
        }
    }
}
