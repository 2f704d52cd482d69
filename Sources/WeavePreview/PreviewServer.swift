import FlyingFox
import FlyingSocks
import Foundation
import Synchronization
import Weave

/// Why the preview server did not start.
public enum PreviewServerError: Error, CustomStringConvertible {
    /// Another program listens on the port.
    case portInUse(UInt16)
    /// Anything else the socket layer refused (the message says what).
    case cannotListen(UInt16, String)

    /// The message the CLI prints (it then exits with status 2).
    public var description: String {
        switch self {
        case .portInUse(let port):
            return "weave preview: port \(port) on 127.0.0.1 is in use (another preview?); choose another with --port, or --port 0 for any free one"
        case .cannotListen(let port, let why):
            return "weave preview: cannot listen on 127.0.0.1:\(port): \(why)"
        }
    }
}

/// Serves the report folder on 127.0.0.1 (FlyingFox): `/` and `/index.html` as `PreviewPage`
/// renders them (the built report plus the reload script), the live websocket at
/// `PreviewPage.socketPath`, and the folder's other files as they are. Loopback only, and the
/// websocket refuses pages from other origins (another site open in the same browser must not
/// read the build's messages).
public final class PreviewServer: Sendable {
    /// The port it listens on (the one chosen when started with port 0).
    public let port: UInt16
    // The server and the task running it; the process ending (Ctrl-C) is what stops them.
    let server: HTTPServer
    let task: Task<Void, Never>

    private init(port: UInt16, server: HTTPServer, task: Task<Void, Never>) {
        self.port = port
        self.server = server
        self.task = task
    }

    /// Starts listening on 127.0.0.1:`port` (0: any free port) and returns once it does.
    /// Throws `PreviewServerError.portInUse` when the port is taken.
    public static func start(port: UInt16, report: URL, live: LiveReload) throws -> PreviewServer {
        let outcome = Mutex<Result<PreviewServer, PreviewServerError>?>(nil)
        let done = DispatchSemaphore(value: 0)
        Task {
            let result: Result<PreviewServer, PreviewServerError>
            do { result = .success(try await listen(port: port, report: report, live: live)) } catch let e as PreviewServerError {
                result = .failure(e)
            } catch {
                result = .failure(.cannotListen(port, "\(error)"))
            }
            outcome.withLock { $0 = result }
            done.signal()
        }
        done.wait()
        guard let result = outcome.withLock({ $0 }) else { throw PreviewServerError.cannotListen(port, "no answer from the server") }
        return try result.get()
    }

    static func listen(port: UInt16, report: URL, live: LiveReload) async throws -> PreviewServer {
        let address = try sockaddr_in.inet(ip4: "127.0.0.1", port: port)
        let server = HTTPServer(address: address, logger: .disabled)
        let index = report.appendingPathComponent("index.html")
        let page: @Sendable (HTTPRequest) async throws -> HTTPResponse = { _ in
            let built = try? String(contentsOf: index, encoding: .utf8)
            let served = live.served
            let html = PreviewPage.render(report: built, generation: served.generation, error: served.error)
            return HTTPResponse(statusCode: .ok, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
                                body: Data(html.utf8))
        }
        await server.appendRoute("GET /", handler: page)
        await server.appendRoute("GET /index.html", handler: page)
        let socket = WebSocketHTTPHandler.webSocket(LiveReloadSocket(live: live))
        await server.appendRoute(HTTPRoute("GET \(PreviewPage.socketPath)")) { request in
            guard isLocal(origin: request.headers[HTTPHeader("Origin")]) else { return HTTPResponse(statusCode: .forbidden) }
            return try await socket.handleRequest(request)
        }
        await server.appendRoute("GET /*", to: DirectoryHTTPHandler(root: report, serverPath: "/", cacheControl: [.noStore]))

        let failure = Mutex<(any Error)?>(nil)
        let task = Task {
            do { try await server.run() } catch { failure.withLock { $0 = error } }
        }
        // run() binds, then serves until stopped; it either starts listening or fails to bind.
        while await !server.isListening {
            if let error = failure.withLock({ $0 }) {
                if case SocketError.failed(_, let code, let message) = error {
                    throw code == EADDRINUSE ? PreviewServerError.portInUse(port) : PreviewServerError.cannotListen(port, message)
                }
                throw PreviewServerError.cannotListen(port, "\(error)")
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        guard case .ip4(_, let bound)? = await server.listeningAddress else {
            throw PreviewServerError.cannotListen(port, "no listening address")
        }
        return PreviewServer(port: bound, server: server, task: task)
    }

    /// No Origin (not a browser) or a page served from this machine.
    static func isLocal(origin: String?) -> Bool {
        guard let origin else { return true }
        return ["127.0.0.1", "localhost", "[::1]"].contains(URL(string: origin)?.host ?? "")
    }
}

/// Hands each websocket connection its stream from `LiveReload`; what a page sends is read
/// and dropped, and the stream ends when the page goes.
struct LiveReloadSocket: WSMessageHandler {
    let live: LiveReload

    func makeMessages(for client: AsyncStream<WSMessage>) async throws -> AsyncStream<WSMessage> {
        let outgoing = live.connect()
        // The page's side: when it closes, stop sending (the stream's termination unregisters it).
        let (stream, continuation) = AsyncStream<WSMessage>.makeStream()
        let forward = Task {
            for await text in outgoing { continuation.yield(.text(text)) }
            continuation.finish()
        }
        Task {
            for await _ in client {}
            forward.cancel()
            continuation.finish()
        }
        continuation.onTermination = { _ in forward.cancel() }
        return stream
    }
}
