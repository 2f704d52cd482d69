import Foundation
import Glibc

/// What went wrong talking to a loopback server in a test.
struct LoopbackError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A TCP connection to 127.0.0.1 for the preview tests; every read waits at most until a
/// deadline (poll), so a server that never answers fails the test instead of hanging it.
final class LoopbackConnection {
    let descriptor: Int32
    private var buffer: [UInt8] = []

    init(port: UInt16) throws {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw LoopbackError("socket: \(String(cString: strerror(errno)))") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else {
            let why = String(cString: strerror(errno))
            close(descriptor)
            throw LoopbackError("connect to 127.0.0.1:\(port): \(why)")
        }
    }

    deinit { close(descriptor) }

    func send(_ bytes: [UInt8]) throws {
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw LoopbackError("send: \(String(cString: strerror(errno)))") }
            sent += n
        }
    }

    /// Reads more bytes into the buffer; false at end of stream; throws at the deadline.
    private func fill(before deadline: Date) throws -> Bool {
        var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        let milliseconds = Int32(max(0, deadline.timeIntervalSinceNow) * 1000)
        guard poll(&poller, 1, milliseconds) > 0 else { throw LoopbackError("no data before the deadline") }
        var chunk = [UInt8](repeating: 0, count: 65536)
        let n = recv(descriptor, &chunk, chunk.count, 0)
        guard n > 0 else { return false }
        buffer += chunk[0..<n]
        return true
    }

    /// The next `count` bytes.
    func take(_ count: Int, before deadline: Date) throws -> [UInt8] {
        while buffer.count < count {
            guard try fill(before: deadline) else { throw LoopbackError("connection closed") }
        }
        defer { buffer.removeFirst(count) }
        return Array(buffer[0..<count])
    }

    /// Bytes up to and including `delimiter`.
    func take(through delimiter: [UInt8], before deadline: Date) throws -> [UInt8] {
        while true {
            if buffer.count >= delimiter.count {
                for start in 0...(buffer.count - delimiter.count) where Array(buffer[start..<start + delimiter.count]) == delimiter {
                    return try take(start + delimiter.count, before: deadline)
                }
            }
            guard try fill(before: deadline) else { throw LoopbackError("connection closed") }
        }
    }
}

/// `GET path` on 127.0.0.1:`port`: the status code and the body (by Content-Length).
func httpGet(port: UInt16, path: String, seconds: Double = 30) throws -> (status: Int, body: String) {
    let connection = try LoopbackConnection(port: port)
    let deadline = Date().addingTimeInterval(seconds)
    try connection.send(Array("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n\r\n".utf8))
    let head = String(decoding: try connection.take(through: Array("\r\n\r\n".utf8), before: deadline), as: UTF8.self)
    let lines = head.components(separatedBy: "\r\n")
    guard let status = lines.first?.split(separator: " ").dropFirst().first.flatMap({ Int($0) }) else {
        throw LoopbackError("not an HTTP response: \(head)")
    }
    let length = lines.compactMap { line -> Int? in
        let parts = line.split(separator: ":", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "content-length" else { return nil }
        return Int(parts[1].trimmingCharacters(in: .whitespaces))
    }.first ?? 0
    return (status, String(decoding: try connection.take(length, before: deadline), as: UTF8.self))
}

/// A websocket client (RFC 6455): masked text frames out, text frames in (fragments joined,
/// pings answered).
final class WebSocketClient {
    let connection: LoopbackConnection

    init(port: UInt16, path: String, origin: String? = nil, seconds: Double = 30) throws {
        connection = try LoopbackConnection(port: port)
        let key = Data((0..<16).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
        try connection.send(Array(("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + (origin.map { "Origin: \($0)\r\n" } ?? "")
            + "Sec-WebSocket-Key: \(key)\r\nSec-WebSocket-Version: 13\r\n\r\n").utf8))
        let head = String(decoding: try connection.take(through: Array("\r\n\r\n".utf8), before: Date().addingTimeInterval(seconds)),
                          as: UTF8.self)
        guard head.hasPrefix("HTTP/1.1 101") else { throw LoopbackError("websocket handshake refused: \(head)") }
    }

    func send(_ text: String) throws {
        let payload = Array(text.utf8)
        var frame: [UInt8] = [0x81]
        if payload.count < 126 {
            frame.append(0x80 | UInt8(payload.count))
        } else if payload.count < 65536 {
            frame += [0x80 | 126, UInt8(payload.count >> 8), UInt8(payload.count & 0xFF)]
        } else {
            frame.append(0x80 | 127)
            frame += (0..<8).reversed().map { UInt8((UInt64(payload.count) >> (8 * UInt64($0))) & 0xFF) }
        }
        let mask = (0..<4).map { _ in UInt8.random(in: 0...255) }
        frame += mask
        frame += payload.enumerated().map { $0.element ^ mask[$0.offset % 4] }
        try connection.send(frame)
    }

    /// The next text message, waiting at most `seconds`; throws at the deadline or on close.
    func receive(within seconds: Double) throws -> String {
        let deadline = Date().addingTimeInterval(seconds)
        var message: [UInt8] = []
        while true {
            let head = try connection.take(2, before: deadline)
            var length = UInt64(head[1] & 0x7F)
            if length == 126 {
                length = try connection.take(2, before: deadline).reduce(0) { $0 << 8 | UInt64($1) }
            } else if length == 127 {
                length = try connection.take(8, before: deadline).reduce(0) { $0 << 8 | UInt64($1) }
            }
            let mask = head[1] & 0x80 != 0 ? try connection.take(4, before: deadline) : nil
            var payload = try connection.take(Int(length), before: deadline)
            if let mask { payload = payload.enumerated().map { $0.element ^ mask[$0.offset % 4] } }
            switch head[0] & 0x0F {
            case 0x8: throw LoopbackError("websocket closed")
            case 0x9:
                let masked = (0..<4).map { _ in UInt8.random(in: 0...255) }
                try connection.send([0x8A, 0x80 | UInt8(payload.count)] + masked + payload.enumerated().map { $0.element ^ masked[$0.offset % 4] })
                continue
            case 0xA: continue
            default: message += payload
            }
            if head[0] & 0x80 != 0 { return String(decoding: message, as: UTF8.self) }
        }
    }
}
