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
    /// Label smoothing of the labeled rows' one-hot targets (0.1 in the official recipe); the
    /// unlabeled rows' targets arrive already smoothed or not (`PseudoLabels.target`).
    public var labelSmoothing: Float
    /// Extra weight m on the unlabeled term, on top of the ratio r (1 = the official loss).
    public var unlabeledLossMultiplier: Float

    /// A teacher uses only `labelSmoothing`; the multiplier matters only when targets are passed.
    public init(labelSmoothing: Float, unlabeledLossMultiplier: Float = 1) {
        self.labelSmoothing = labelSmoothing; self.unlabeledLossMultiplier = unlabeledLossMultiplier
    }

    /// The loss of one batch: `logits` [N, C] hold the labeled rows first (`labels.count` of
    /// them), then one row per row of `unlabeledTargets` ([U, C] probabilities), if any.
    ///
    /// `global` is for data-parallel training: this process holds one share of a global batch of
    /// `global.labeled` + `global.unlabeled` rows. Each mean is then weighted by its share of the
    /// global batch and the ratio is the global one, so the gradients summed over the shares are
    /// those of the global batch's loss. nil: this batch is the whole batch.
    public func loss(logits: Variable, labels: [Int], unlabeledTargets: Tensor?,
                     global: (labeled: Int, unlabeled: Int)? = nil) -> Variable {
        let n = labels.count
        var labeled = softmaxCrossEntropy(logits: rows(logits, 0..<n), labels: labels, labelSmoothing: labelSmoothing)
        if let global { labeled = (Float(n) / Float(global.labeled)) * labeled }
        guard let targets = unlabeledTargets else { return labeled }
        let u = targets.shape[0]
        precondition(logits.shape[0] == n + u, "StudentObjective: \(logits.shape[0]) logits for \(n) labeled + \(u) unlabeled rows")
        let unlabeled = softmaxCrossEntropy(logits: rows(logits, n..<(n + u)), targets: targets)
        guard let global else { return labeled + (Float(u) / Float(n) * unlabeledLossMultiplier) * unlabeled }
        let ratio = Float(global.unlabeled) / Float(global.labeled), share = Float(u) / Float(global.unlabeled)
        return labeled + (ratio * unlabeledLossMultiplier * share) * unlabeled
    }
}
