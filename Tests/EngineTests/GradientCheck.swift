import Engine
import Randomness

/// Finite-difference gradient checking shared by the engine's tests.
enum GradientCheck {
    static func random(_ shape: [Int], _ rng: inout SeededGenerator, scale: Float = 1) -> Tensor {
        var t = Tensor(zeros: shape)
        for i in 0..<t.count { t.scalars[i] = rng.normal() * scale }
        return t
    }

    /// <y, r>: a scalar whose gradient with respect to y is r (a random projection of the output).
    static func project(_ y: Variable, _ r: Tensor) -> Variable {
        var s: Float = 0
        for i in 0..<y.value.count { s += y.value.scalars[i] * r.scalars[i] }
        return Variable(Tensor(shape: [], scalars: [s]), parents: [y]) { g in [r.map { $0 * g.scalars[0] }] }
    }

    /// Largest relative error between analytic and central-difference gradients of
    /// <f(inputs), r> with respect to every input, over at most `samples` coordinates each.
    static func maxRelativeError(_ inputs: [Tensor], seed: UInt64 = 1, h: Float = 1e-2, samples: Int = 40,
                                 _ f: ([Variable]) -> Variable) -> Float {
        var rng = SeededGenerator(seed: seed)
        let vars = inputs.map { Variable($0, requiresGrad: true) }
        let y = f(vars)
        let r = random(y.shape, &rng)
        project(y, r).backward()
        func loss(_ xs: [Tensor]) -> Double {
            let out = f(xs.map { Variable($0) }).value
            var s = 0.0
            for i in 0..<out.count { s += Double(out.scalars[i]) * Double(r.scalars[i]) }
            return s
        }
        var worst: Float = 0
        for (k, x) in inputs.enumerated() {
            guard let analytic = vars[k].grad else { return .infinity }
            let idx = x.count <= samples ? Array(0..<x.count) : (0..<samples).map { _ in rng.int(below: x.count) }
            for i in idx {
                var plus = inputs, minus = inputs
                plus[k].scalars[i] += h
                minus[k].scalars[i] -= h
                let numeric = Float((loss(plus) - loss(minus)) / Double(2 * h))
                let a = analytic.scalars[i]
                let err = abs(a - numeric) / max(1e-2, abs(a) + abs(numeric))
                worst = max(worst, err)
            }
        }
        return worst
    }
}
