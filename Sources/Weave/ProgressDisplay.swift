import Foundation
import WeaveRuntime

/// What the display knows about one running stage.
public struct RunningStage: Sendable {
    /// Stage name.
    public var name: String
    /// Seconds since it started.
    public var elapsed: Double
    /// Its last progress report (text and optional fraction); nil before the first.
    public var progress: ProgressReport?
    /// Duration of the last successful run, for an ETA before the stage reports a fraction.
    public var lastDuration: Double?

    /// A running stage's state.
    public init(name: String, elapsed: Double, progress: ProgressReport?, lastDuration: Double?) {
        self.name = name
        self.elapsed = elapsed
        self.progress = progress
        self.lastDuration = lastDuration
    }
}

/// What a display shows, for a second viewer beside the terminal (`weave preview`'s page).
public enum ProgressEvent: Sendable {
    /// A line that stays: a stage started, finished, failed; the weaver waiting or compiling again.
    case message(String)
    /// The stages running now (sent as often as the terminal is redrawn).
    case running([RunningStage])
}

/// The live view of a build. On a terminal: a block of lines, one per running stage, redrawn
/// in place (with messages scrolling above it). Otherwise: plain lines, progress at most every
/// `plainInterval` seconds per stage so CI logs stay readable.
public struct ProgressDisplay {
    /// `terminal`: a live block redrawn in place; `plain`: lines for logs; `quiet`: nothing.
    public enum Mode: Sendable { case terminal, plain, quiet }
    /// How progress is shown.
    public var mode: Mode
    var drawnLines = 0
    var lastPlain: [String: (time: Double, text: String)] = [:]
    let plainInterval = 10.0
    let write: (String) -> Void
    /// Hears every message and running-stage update, whatever the mode (quiet included).
    public var observer: (@Sendable (ProgressEvent) -> Void)?

    /// A display writing through `write` (standard error unless given).
    public init(mode: Mode, write: @escaping (String) -> Void = { FileHandle.standardError.write(Data($0.utf8)) }) {
        self.mode = mode
        self.write = write
    }

    /// Terminal when stderr is a TTY and the terminal is not "dumb".
    public static func automatic() -> ProgressDisplay {
        let tty = isatty(STDERR_FILENO) == 1 && ProcessInfo.processInfo.environment["TERM"] != "dumb"
        return ProgressDisplay(mode: tty ? .terminal : .plain)
    }

    /// A line that stays (stage started, finished, failed).
    public mutating func message(_ text: String) {
        observer?(.message(text))
        switch mode {
        case .quiet: return
        case .plain: write(text + "\n")
        case .terminal:
            clear()
            write(text + "\n")
        }
    }

    /// Shows the running stages (`now` in seconds, for throttling plain lines to one per 10 s per
    /// stage, and only when the stage's text changed).
    public mutating func update(_ running: [RunningStage], now: Double) {
        observer?(.running(running))
        switch mode {
        case .quiet: return
        case .plain:
            for stage in running {
                guard let p = stage.progress else { continue }
                let line = Self.line(stage)
                if let last = lastPlain[stage.name], last.text == p.text || now - last.time < plainInterval { continue }
                lastPlain[stage.name] = (now, p.text)
                write(line + "\n")
            }
        case .terminal:
            clear()
            let lines = running.map { "\u{1B}[2K" + Self.line($0) }
            if !lines.isEmpty { write(lines.joined(separator: "\n") + "\n") }
            drawnLines = lines.count
        }
    }

    /// Erases the live block (cursor up, clear to end of screen).
    mutating func clear() {
        if drawnLines > 0 { write("\u{1B}[\(drawnLines)A\u{1B}[J") }
        drawnLines = 0
    }

    /// Erases the live block at the end of a build.
    public mutating func finish() { if mode == .terminal { clear() } }

    /// `  teacher  epoch 3/10 [=====     ] 30%  1m04s  ETA 2m29s`
    public static func line(_ stage: RunningStage) -> String {
        var parts = ["  \(stage.name)"]
        if let p = stage.progress {
            parts.append(p.text)
            if let f = p.fraction, f.isFinite {
                let clamped = min(1, max(0, f))
                let filled = Int((clamped * 20).rounded())
                parts.append("[" + String(repeating: "=", count: filled) + String(repeating: " ", count: 20 - filled) + "] \(Int(clamped * 100))%")
            }
        }
        parts.append(duration(stage.elapsed))
        if let eta = eta(stage) { parts.append("ETA \(duration(eta))") }
        return parts.joined(separator: "  ")
    }

    /// From the reported fraction when there is one, otherwise from the last run's duration.
    public static func eta(_ stage: RunningStage) -> Double? {
        if let f = stage.progress?.fraction, f > 0.01, f.isFinite {
            return max(0, stage.elapsed * (1 - min(1, f)) / min(1, f))
        }
        if let last = stage.lastDuration { return max(0, last - stage.elapsed) }
        return nil
    }

    /// Seconds as `4.2s`, `1m04s` or `2h05m`.
    public static func duration(_ seconds: Double) -> String {
        if seconds < 60 { return String(format: "%.1fs", seconds) }
        let s = Int(seconds.rounded())
        if s < 3600 { return String(format: "%dm%02ds", s / 60, s % 60) }
        return String(format: "%dh%02dm", s / 3600, (s % 3600) / 60)
    }
}
