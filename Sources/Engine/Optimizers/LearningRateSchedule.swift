import Foundation

/// Learning rate as a function of the step, with linear warm-up.
public struct LearningRateSchedule: Codable, Hashable, Sendable {
    /// What happens after warm-up.
    public enum Decay: Codable, Hashable, Sendable {
        /// Cosine from the peak to 0 over the steps after warm-up.
        case cosine
        /// peak * rate^floor(step / every) (staircase), e.g. 0.97 every 2.4 epochs.
        case staircase(rate: Double, everySteps: Double)
        /// The peak for every step.
        case constant
    }

    /// Learning rate reached at the end of warm-up (the official SVHN recipe: 0.008 at batch 128).
    public var peak: Double
    /// Steps of linear warm-up from peak / warmupSteps to the peak (0: none).
    public var warmupSteps: Int
    /// Steps of the whole run; cosine decay reaches 0 there.
    public var totalSteps: Int
    /// The decay after warm-up.
    public var decay: Decay

    /// A schedule; see the properties for units (steps are optimizer updates).
    public init(peak: Double, warmupSteps: Int, totalSteps: Int, decay: Decay) {
        self.peak = peak; self.warmupSteps = warmupSteps; self.totalSteps = totalSteps; self.decay = decay
    }

    /// The learning rate for 0-based `step`. Staircase decay counts from step 0, not from the end of
    /// warm-up, as the official `utils.py` (`build_learning_rate`: exponential decay of the global step).
    public func callAsFunction(_ step: Int) -> Float {
        if step < warmupSteps { return Float(peak * Double(step + 1) / Double(warmupSteps)) }
        let t = step - warmupSteps
        switch decay {
        case .constant:
            return Float(peak)
        case .cosine:
            let span = max(1, totalSteps - warmupSteps)
            let progress = min(1, Double(t) / Double(span))
            return Float(peak * 0.5 * (1 + cos(Double.pi * progress)))
        case .staircase(let rate, let every):
            return Float(peak * pow(rate, floor(Double(step) / every)))
        }
    }
}
