import Foundation
import Synchronization
import Weave

/// One message to the preview page, sent as JSON text over the websocket.
///
/// - `hello`: on connecting: the report generation being served, whether a build runs, and
///   its lines so far (a page opened mid-build shows them).
/// - `start`: a build began (`text`: why).
/// - `message`: a line that stays (stage started / finished / failed).
/// - `running`: the running stages, one line each (`lines`).
/// - `reload`: a build ended and `generation` is served now.
public struct LiveMessage: Codable, Sendable, Equatable {
    /// `hello`, `start`, `message`, `running` or `reload`.
    public var type: String
    /// The line (`message`) or the reason for the build (`start`).
    public var text: String?
    /// The running stages (`running`) or the build's lines so far (`hello`).
    public var lines: [String]?
    /// The report generation served (`hello`, `reload`): one more after every build.
    public var generation: Int?
    /// Whether a build runs (`hello`).
    public var building: Bool?

    /// A message; fields that do not apply to `type` stay nil (and out of the JSON).
    public init(type: String, text: String? = nil, lines: [String]? = nil, generation: Int? = nil, building: Bool? = nil) {
        self.type = type
        self.text = text
        self.lines = lines
        self.generation = generation
        self.building = building
    }

    /// The JSON text sent (keys sorted, so tests and logs read the same every time).
    public var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? "{\"type\":\"\(type)\"}"
    }
}

/// The preview's shared state and its open pages: what build is being served (its generation
/// and, if it stopped before rendering, its error), what the running build has said so far,
/// and one stream per connected page. Called from the build thread and the server's tasks,
/// so everything sits behind one lock; each message reaches every page in the order sent.
public final class LiveReload: Sendable {
    struct State {
        var pages: [UUID: AsyncStream<String>.Continuation] = [:]
        var generation = 0
        var building = false
        var lines: [String] = []
        var error: String?
        var lastRunning = 0.0
    }

    private let state = Mutex(State())
    /// Seconds between two `running` messages (the terminal redraws far more often).
    let runningInterval = 0.5
    /// Lines of the current build kept for pages that connect mid-build.
    let keptLines = 200

    /// No pages, nothing built yet (generation 0).
    public init() {}

    /// The generation served now (0 before the first build ends) and the error that stopped
    /// the last build before it rendered, if it did.
    public var served: (generation: Int, error: String?) {
        state.withLock { ($0.generation, $0.error) }
    }

    /// Number of pages connected now.
    public var pageCount: Int { state.withLock { $0.pages.count } }

    /// A build begins; `reason` says why (the first build, or the files that changed).
    public func buildStarted(reason: String) {
        send { s in
            s.building = true
            s.lines = []
            return LiveMessage(type: "start", text: reason)
        }
    }

    /// Forwards what the build's display shows (`ProgressDisplay.observer`).
    public func observe(_ event: ProgressEvent) {
        switch event {
        case .message(let text):
            send { s in
                s.lines.append(text)
                if s.lines.count > keptLines { s.lines.removeFirst(s.lines.count - keptLines) }
                return LiveMessage(type: "message", text: text)
            }
        case .running(let stages):
            let now = Date().timeIntervalSince1970
            send { s in
                guard stages.isEmpty || now - s.lastRunning >= runningInterval else { return nil }
                s.lastRunning = now
                return LiveMessage(type: "running", lines: stages.map { ProgressDisplay.line($0).trimmingCharacters(in: .whitespaces) })
            }
        }
    }

    /// A build ended: `error` is what stopped it before rendering (nil when it rendered a
    /// report, failed stages included). Every page reloads.
    public func buildFinished(error: String?) {
        send { s in
            s.building = false
            s.error = error
            s.generation += 1
            return LiveMessage(type: "reload", generation: s.generation)
        }
    }

    /// The messages (JSON text) for one newly connected page, starting with `hello`.
    public func connect() -> AsyncStream<String> {
        let id = UUID()
        let (stream, continuation) = AsyncStream<String>.makeStream()
        state.withLock { s in
            let hello = LiveMessage(type: "hello", lines: s.building ? s.lines : [], generation: s.generation, building: s.building)
            continuation.yield(hello.json)
            s.pages[id] = continuation
        }
        continuation.onTermination = { [weak self] _ in self?.disconnect(id) }
        return stream
    }

    func disconnect(_ id: UUID) {
        _ = state.withLock { $0.pages.removeValue(forKey: id) }
    }

    /// Updates the state and sends the message `update` returns (if any) to every page, under
    /// the lock so that two senders cannot interleave their messages differently per page.
    private func send(_ update: (inout State) -> LiveMessage?) {
        state.withLock { s in
            guard let message = update(&s) else { return }
            let text = message.json
            for page in s.pages.values { page.yield(text) }
        }
    }
}
