import Testing
@testable import NoisyStudent

/// What a progress line shows: a loss and a rate only when the phase measures them.
@Suite struct ProgressLineTests {
    func event(_ phase: String, loss: Float, rate: Double) -> ProgressEvent {
        ProgressEvent(phase: phase, epoch: 1, epochs: 2, step: 10, totalSteps: 20, loss: loss,
                      imagesPerSecond: rate, elapsed: 3, endOfEpoch: false, note: nil)
    }

    @Test func trainingShowsLossAndRate() {
        #expect(ConsoleProgress.fields(event("teacher", loss: 0.25, rate: 812.4)) == "teacher epoch 1/2 step 10/20 loss 0.2500 812 img/s")
    }

    @Test func predictionHasNoLossAndRobustnessNoRate() {
        #expect(ConsoleProgress.fields(event("predict", loss: .nan, rate: 5866)) == "predict epoch 1/2 step 10/20 5866 img/s")
        #expect(ConsoleProgress.fields(event("robustness", loss: .nan, rate: 0)) == "robustness epoch 1/2 step 10/20")
    }
}
