import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One progress event of a long phase.
public struct ProgressEvent: Sendable {
    /// What is running, e.g. a training phase's name, "predict" or "robustness NAME".
    public var phase: String
    /// The current epoch, 1-based (1 for phases without epochs).
    public var epoch: Int
    /// Epochs in the phase (1 for phases without epochs).
    public var epochs: Int
    /// Steps done so far, counted over the whole phase (not per epoch); for prediction,
    /// images labeled so far; for robustness, corruptions evaluated.
    public var step: Int
    /// Steps (or images, or corruptions) in the whole phase.
    public var totalSteps: Int
    /// Training loss of the last step; NaN when the phase does not train.
    public var loss: Float
    /// Throughput in images/s: since the start of the current epoch when training, since the
    /// start of the phase when predicting; 0 when not measured (robustness).
    public var imagesPerSecond: Double
    /// Seconds the phase has taken, a resumed training's earlier calls included (up to its
    /// checkpoint); 0 when not measured.
    public var elapsed: Double
    /// True on the last step of an epoch (or of the phase); console logs print only these.
    public var endOfEpoch: Bool
    /// Free text appended to the progress line (nil for none).
    public var note: String?

    /// Estimated seconds left: mean time per step so far x steps remaining; NaN before the first
    /// step. After a resume the steps redone since the checkpoint are counted once, so it is
    /// slightly low for a while.
    public var etaSeconds: Double {
        step > 0 ? elapsed / Double(step) * Double(max(0, totalSteps - step)) : .nan
    }
}

/// Where progress goes: a terminal line, plain log lines, a weaver stage, or nowhere.
public protocol ProgressReporter: Sendable {
    func report(_ event: ProgressEvent)
}

/// Drops every event (tests, and stages whose progress nobody watches).
public struct SilentProgress: ProgressReporter {
    /// A reporter that prints nothing.
    public init() {}
    /// Ignores `event`.
    public func report(_ event: ProgressEvent) {}
}

/// Progress on standard error: a live line with ETA on a terminal; one line per epoch otherwise
/// (so logs of batch jobs stay readable).
public struct ConsoleProgress: ProgressReporter {
    let live: Bool

    /// `live`: rewrite one line per step with an ETA; nil decides by whether standard error is a terminal.
    public init(live: Bool? = nil) {
        self.live = live ?? (isatty(STDERR_FILENO) != 0)
    }

    /// Writes `e` to standard error: every event when live, only end-of-epoch events otherwise
    /// (then with the elapsed time, h:mm:ss).
    public func report(_ e: ProgressEvent) {
        let base = Self.fields(e)
        let extra = e.note.map { " " + $0 } ?? ""
        if live {
            let eta = e.etaSeconds.isFinite ? " ETA \(Self.clock(e.etaSeconds))" : ""
            let line = "\r\u{1B}[K" + base + eta + extra + (e.endOfEpoch && e.step == e.totalSteps ? "\n" : "")
            FileHandle.standardError.write(Data(line.utf8))
        } else if e.endOfEpoch {
            FileHandle.standardError.write(Data((base + " elapsed \(Self.clock(e.elapsed))" + extra + "\n").utf8))
        }
    }

    /// The fields of one progress line: phase, epoch, step, and the loss and rate when measured.
    static func fields(_ e: ProgressEvent) -> String {
        // Phases without a loss (predict, robustness) report NaN, and robustness no rate:
        // leave those fields out instead of printing "loss nan" or "0 img/s". Training never
        // reports a non-finite loss (the trainer stops with an error first).
        let loss = e.loss.isFinite ? String(format: " loss %.4f", e.loss) : ""
        let rate = e.imagesPerSecond > 0 ? String(format: " %.0f img/s", e.imagesPerSecond) : ""
        return String(format: "%@ epoch %d/%d step %d/%d", e.phase, e.epoch, e.epochs, e.step, e.totalSteps) + loss + rate
    }

    static func clock(_ s: Double) -> String {
        let t = Int(s.rounded())
        return t >= 3600 ? String(format: "%d:%02d:%02d", t / 3600, t / 60 % 60, t % 60) : String(format: "%d:%02d", t / 60, t % 60)
    }
}
