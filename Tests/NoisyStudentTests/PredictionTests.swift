import Testing
@testable import NoisyStudent

/// The one argmax (`Prediction`) that evaluation, pseudo labels, filtering and the exports share.
@Suite struct PredictionTests {
    @Test func firstMaximumWinsAndNaNNeverDoes() {
        let p = Prediction([0.1, 0.7, 0.2][...])
        #expect(p.label == 1 && p.confidence == 0.7)
        #expect(Prediction([0.4, 0.2, 0.4][...]).label == 0)                 // a tie: the first class
        let q = Prediction([0.2, .nan, 0.5][...])
        #expect(q.label == 2 && q.confidence == 0.5)
        let probabilities: [Float] = [0.9, 0.1, 0.3, 0.7]
        let r = Prediction(probabilities[2..<4])   // a slice keeps its own indices
        #expect(r.label == 1 && r.confidence == 0.7)
    }

    @Test func pseudoLabelsAndMetricsPredictAlike() {
        let probabilities: [Float] = [0.2, 0.5, 0.3, 0.6, 0.2, 0.2, 0.1, 0.1, 0.8]
        let labels = PseudoLabels(classes: 3, indices: [0, 1, 2], probabilities: probabilities)
        #expect((0..<3).map { labels.prediction($0).label } == [1, 0, 2])
        let e = Evaluator.metrics(probabilities: probabilities, labels: [1, 1, 2], classes: 3)
        #expect(e.confusion == [[0, 0, 0], [1, 1, 0], [0, 0, 1]])
    }

    /// A diverged model's NaN probabilities must not trap the calibration bins (it did: a signal
    /// exit in the middle of training); the trainer's validation reports NaN for them and stops.
    @Test func nanProbabilitiesDoNotTrap() {
        let e = Evaluator.metrics(probabilities: [.nan, .nan, 0.4, 0.6], labels: [0, 1], classes: 2)
        #expect(e.count == 2 && e.confusion[1][1] == 1)
    }
}
