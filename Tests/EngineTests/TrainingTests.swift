import Testing
import Engine
import Randomness

/// A toy problem a small network must learn: which quadrant of a noisy 8x8 image holds a bright
/// square (4 classes, chance 25%).
enum Quadrants {
    static func batch(_ n: Int, _ rng: inout SeededGenerator) -> (Tensor, [Int]) {
        var x = Tensor(zeros: [n, 8, 8, 3]), labels: [Int] = []
        for i in 0..<n {
            let q = rng.int(below: 4)
            labels.append(q)
            let oy = (q / 2) * 4, ox = (q % 2) * 4
            for y in 0..<8 { for xx in 0..<8 { for c in 0..<3 {
                let inside = y >= oy + 1 && y < oy + 3 && xx >= ox + 1 && xx < ox + 3
                x.scalars[((i * 8 + y) * 8 + xx) * 3 + c] = (inside ? 1.5 : 0) + 0.5 * rng.normal()
            } } }
        }
        return (x, labels)
    }

    /// Trains a fresh model; returns (first loss, mean of last 5 losses, held-out accuracy, weights).
    static func train(seed: UInt64, steps: Int) -> (Float, Float, Float, [[Float]]) {
        var rng = SeededGenerator(seed: seed)
        let model = ResNet(depth: 8, width: 4, classes: 4, rng: &rng)
        var opt = SGD(momentum: 0.9, nesterov: true, weightDecay: 5e-4)
        var losses: [Float] = []
        for _ in 0..<steps {
            let (x, y) = batch(32, &rng)
            model.zeroGradients()
            let ctx = ForwardContext(training: true, rng: rng.split())
            let loss = softmaxCrossEntropy(logits: model(Variable(x), ctx), labels: y)
            loss.backward()
            opt.step(model.parameters, learningRate: 0.05)
            losses.append(loss.value.scalars[0])
        }
        let (tx, ty) = batch(400, &rng)
        let logits = model.predict(tx)
        var correct = 0
        for i in 0..<ty.count {
            let row = Array(logits.scalars[(i * 4)..<(i * 4 + 4)])
            if row.firstIndex(of: row.max()!) == ty[i] { correct += 1 }
        }
        return (losses[0], losses.suffix(5).reduce(0, +) / 5, Float(correct) / Float(ty.count),
                model.parameters.map(\.value.scalars))
    }
}

@Suite struct TrainingTests {
    @Test func smallNetworkLearnsToyProblem() {
        let (first, last, accuracy, _) = Quadrants.train(seed: 1, steps: 120)
        #expect(last < first / 8, "loss fell from \(first) to \(last)")
        #expect(accuracy > 0.9, "held-out accuracy \(accuracy), chance 0.25")
    }

    @Test func sameSeedGivesBitIdenticalWeights() {
        let a = Quadrants.train(seed: 5, steps: 6).3, b = Quadrants.train(seed: 5, steps: 6).3
        let c = Quadrants.train(seed: 6, steps: 6).3
        #expect(a.map { $0.map(\.bitPattern) } == b.map { $0.map(\.bitPattern) })
        #expect(a != c)
    }
}
