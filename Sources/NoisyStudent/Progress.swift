import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One progress event of a long phase.
public struct ProgressEvent: Sendable {
    public var phase: String
    public var epoch: Int
    public var epochs: Int
    public var step: Int
    public var totalSteps: Int
    public var loss: Float
    public var imagesPerSecond: Double
    public var elapsed: Double
    public var endOfEpoch: Bool
    public var note: String?

    public var etaSeconds: Double {
        step > 0 ? elapsed / Double(step) * Double(max(0, totalSteps - step)) : .nan
    }
}

/// Where progress goes: a terminal line, plain log lines, a weaver stage, or nowhere.
public protocol ProgressReporter: Sendable {
    func report(_ event: ProgressEvent)
}

public struct SilentProgress: ProgressReporter {
    public init() {}
    public func report(_ event: ProgressEvent) {}
}

/// Progress on standard error: a live line with ETA on a terminal; one line per epoch otherwise
/// (so logs of batch jobs stay readable).
public struct ConsoleProgress: ProgressReporter {
    let live: Bool

    public init(live: Bool? = nil) {
        self.live = live ?? (isatty(STDERR_FILENO) != 0)
    }

    public func report(_ e: ProgressEvent) {
        let base = String(format: "%@ epoch %d/%d step %d/%d loss %.4f %.0f img/s",
                          e.phase, e.epoch, e.epochs, e.step, e.totalSteps, e.loss, e.imagesPerSecond)
        let extra = e.note.map { " " + $0 } ?? ""
        if live {
            let eta = e.etaSeconds.isFinite ? " ETA \(Self.clock(e.etaSeconds))" : ""
            let line = "\r\u{1B}[K" + base + eta + extra + (e.endOfEpoch && e.step == e.totalSteps ? "\n" : "")
            FileHandle.standardError.write(Data(line.utf8))
        } else if e.endOfEpoch {
            FileHandle.standardError.write(Data((base + " elapsed \(Self.clock(e.elapsed))" + extra + "\n").utf8))
        }
    }

    static func clock(_ s: Double) -> String {
        let t = Int(s.rounded())
        return t >= 3600 ? String(format: "%d:%02d:%02d", t / 3600, t / 60 % 60, t % 60) : String(format: "%d:%02d", t / 60, t % 60)
    }
}
