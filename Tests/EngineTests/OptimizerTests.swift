import Testing
import Engine

/// One or two optimizer steps against values worked out by hand (see the comments).
@Suite struct OptimizerTests {
    func parameter(_ w: Float, grad: Float, decays: Bool = true) -> Parameter {
        let p = Parameter(Tensor(shape: [1], scalars: [w]), decays: decays)
        p.grad = Tensor(shape: [1], scalars: [grad])
        return p
    }

    @Test func sgdNesterovWithWeightDecay() {
        // lr 0.1, mu 0.9, wd 0.1, w 1, grad 0.5 twice:
        // g = 0.6, v = 0.6, w = 1 - 0.1 * (0.6 + 0.54) = 0.886
        // g = 0.5886, v = 1.1286, w = 0.886 - 0.1 * (0.5886 + 1.01574) = 0.725566
        let p = parameter(1, grad: 0.5)
        var opt = SGD(momentum: 0.9, nesterov: true, weightDecay: 0.1)
        opt.step([p], learningRate: 0.1)
        #expect(abs(p.value.scalars[0] - 0.886) < 1e-6)
        opt.step([p], learningRate: 0.1)
        #expect(abs(p.value.scalars[0] - 0.725566) < 1e-6)
        // Biases and BN parameters are not decayed.
        let b = parameter(1, grad: 0.5, decays: false)
        var opt2 = SGD(momentum: 0.9, nesterov: false, weightDecay: 0.1)
        opt2.step([b], learningRate: 0.1)
        #expect(abs(b.value.scalars[0] - 0.95) < 1e-6)
    }

    @Test func rmspropTensorFlowSemantics() {
        // decay 0.9, momentum 0.9, eps 1e-3, lr 0.1, ms starts at 1:
        // ms = 0.925, mom = 0.1 * 0.5 / sqrt(0.926) = 0.0519594, w = 0.9480406
        // ms = 0.8575, mom = 0.9 * 0.0519594 + 0.05 / sqrt(0.8585), w = 0.8473136
        let p = parameter(1, grad: 0.5)
        var opt = RMSProp(decay: 0.9, momentum: 0.9, epsilon: 1e-3)
        opt.step([p], learningRate: 0.1)
        #expect(abs(p.value.scalars[0] - 0.9480406) < 1e-6)
        opt.step([p], learningRate: 0.1)
        #expect(abs(p.value.scalars[0] - 0.8473136) < 1e-6)
    }

    @Test func optimizersSkipRunningStatistics() {
        let stat = Parameter(Tensor(shape: [1], scalars: [3]), decays: false, trainable: false)
        stat.grad = Tensor(shape: [1], scalars: [1])
        var sgd = SGD(weightDecay: 0.1), rms = RMSProp()
        sgd.step([stat], learningRate: 1); rms.step([stat], learningRate: 1)
        #expect(stat.value.scalars[0] == 3)
    }

    @Test func emaWithWarmup() {
        // decay 0.99 with warm-up: d = min(0.99, (1+t)/(10+t)): 0.1 then 2/11.
        // shadow 1 -> 0.1 * 1 + 0.9 * 2 = 1.9 -> (2/11) * 1.9 + (9/11) * 3 = 2.8
        let p = Parameter(Tensor(shape: [1], scalars: [1]))
        var ema = ExponentialMovingAverage([p], decay: 0.99)
        p.value.scalars[0] = 2; ema.update([p])
        #expect(abs(ema.shadow[0][0] - 1.9) < 1e-6)
        p.value.scalars[0] = 3; ema.update([p])
        #expect(abs(ema.shadow[0][0] - 2.8) < 1e-6)
        let q = Parameter(Tensor(shape: [1], scalars: [0]))
        ema.copy(into: [q])
        #expect(abs(q.value.scalars[0] - 2.8) < 1e-6)
        // Without warm-up the decay is used as given.
        var plain = ExponentialMovingAverage([q], decay: 0.5, warmup: false)
        q.value.scalars[0] = 0.8; plain.update([q])
        #expect(abs(plain.shadow[0][0] - 1.8) < 1e-6)
    }

    @Test func schedules() {
        let cosine = LearningRateSchedule(peak: 1, warmupSteps: 4, totalSteps: 14, decay: .cosine)
        #expect(cosine(0) == 0.25 && cosine(3) == 1)
        #expect(abs(cosine(9) - 0.5) < 1e-6)       // halfway through the decay
        #expect(abs(cosine(14)) < 1e-6)
        let stairs = LearningRateSchedule(peak: 0.008, warmupSteps: 2, totalSteps: 100,
                                          decay: .staircase(rate: 0.97, everySteps: 10))
        #expect(abs(stairs(5) - 0.008) < 1e-9)
        #expect(abs(stairs(25) - Float(0.008 * 0.97 * 0.97)) < 1e-9)
    }
}
