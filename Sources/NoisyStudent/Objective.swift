import Engine

/// The loss every model of the loop minimises, as `main.py` (google-research/noisystudent)
/// computes its `data_loss`: the mean cross-entropy over the labeled rows of the batch (labels
/// smoothed by `labelSmoothing`), plus, for a student, the mean cross-entropy over the
/// unlabeled rows against their targets, weighted by the unlabeled ratio r:
///
///     loss = mean CE(labeled) + r * m * mean CE(unlabeled),   r = unlabeled rows / labeled rows
///
/// `main.py` multiplies each mean by its real batch size and divides by the labeled batch size,
/// which is the same thing; r comes from the batch itself (5 for SVHN: 640 / 128). `m` is an
/// extra multiplier (the recipe's `unlabeledLossWeight`, 1 in the official loss).
public struct StudentObjective: Sendable {
    public var labelSmoothing: Float
    public var unlabeledLossMultiplier: Float

    public init(labelSmoothing: Float, unlabeledLossMultiplier: Float = 1) {
        self.labelSmoothing = labelSmoothing; self.unlabeledLossMultiplier = unlabeledLossMultiplier
    }

    /// The loss of one batch: `logits` [N, C] hold the labeled rows first (`labels.count` of
    /// them), then one row per row of `unlabeledTargets` ([U, C] probabilities), if any.
    public func loss(logits: Variable, labels: [Int], unlabeledTargets: Tensor?) -> Variable {
        let n = labels.count
        let labeled = softmaxCrossEntropy(logits: rows(logits, 0..<n), labels: labels, labelSmoothing: labelSmoothing)
        guard let targets = unlabeledTargets else { return labeled }
        let u = targets.shape[0]
        precondition(logits.shape[0] == n + u, "StudentObjective: \(logits.shape[0]) logits for \(n) labeled + \(u) unlabeled rows")
        let ratio = Float(u) / Float(n)
        let unlabeled = softmaxCrossEntropy(logits: rows(logits, n..<(n + u)), targets: targets)
        return labeled + (ratio * unlabeledLossMultiplier) * unlabeled
    }
}
