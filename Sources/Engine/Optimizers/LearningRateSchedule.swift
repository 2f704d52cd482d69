import Foundation

/// Learning rate as a function of the step, with linear warm-up.
public struct LearningRateSchedule: Codable, Hashable, Sendable {
    public enum Decay: Codable, Hashable, Sendable {
        /// Cosine from the peak to 0 over the steps after warm-up.
        case cosine
        /// peak * rate^floor(step / every) (staircase), e.g. 0.97 every 2.4 epochs.
        case staircase(rate: Double, everySteps: Double)
        case constant
    }

    public var peak: Double
    public var warmupSteps: Int
    public var totalSteps: Int
    public var decay: Decay

    public init(peak: Double, warmupSteps: Int, totalSteps: Int, decay: Decay) {
        self.peak = peak; self.warmupSteps = warmupSteps; self.totalSteps = totalSteps; self.decay = decay
    }

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
