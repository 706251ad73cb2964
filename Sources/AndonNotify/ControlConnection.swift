import AndonControl
import AndonProtocol
import Foundation
import Glibc

/// One connection to andond's UNIX socket, kept open for many requests in turn (one request, then its reply): a
/// notifier sends thousands of claims and reports, and each new connection costs andond a credentials lookup.
/// Reconnects once when the connection broke. Used by one thread at a time: the claim loop's own, or the pool's
/// borrower.
final class ControlConnection: @unchecked Sendable {
    let path: String
    let timeout: Duration
    private var fd: Int32 = -1
    private var pending: [UInt8] = []

    init(path: String, timeout: Duration) {
        self.path = path
        self.timeout = timeout
    }

    deinit { disconnect() }

    func send(_ request: Request) throws(ControlClient.Failure) -> Reply {
        do {
            return try exchange(request)
        } catch {
            // A connection andond closed (a restart) fails once; a new one is tried at once.
            disconnect()
            return try exchange(request)
        }
    }

    private func exchange(_ request: Request) throws(ControlClient.Failure) -> Reply {
        if fd < 0 {
            fd = try ControlClient.connect(path: path, timeout: timeout)
            pending = []
        }
        try ControlClient.write(request, to: fd, path: path)
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            if let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                let text = String(decoding: pending[..<newline], as: UTF8.self)
                pending.removeSubrange(...newline)
                switch Reply.parse(text) {
                case .success(let reply): return reply
                case .failure(let error): throw .protocolError("\(error.reason): \(text.prefix(200))")
                }
            }
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count == 0 { throw .unreachable(path: path, reason: "andond closed the connection") }
            guard count > 0 else {
                throw .protocolError(errno == EAGAIN ? "no reply within \(timeout)" : String(cString: strerror(errno)))
            }
            pending += buffer[..<count]
        }
    }

    private func disconnect() {
        if fd >= 0 { close(fd) }
        fd = -1
        pending = []
    }
}

/// A few connections for reports, each used by one thread at a time: reports wait for andond's commit, so several
/// go at once, and a group commit answers them together.
final class ControlConnectionPool: @unchecked Sendable {
    // Guarded by `condition`.
    private let condition = NSCondition()
    private var idle: [ControlConnection]

    init(path: String, count: Int, timeout: Duration) {
        idle = (0..<count).map { _ in ControlConnection(path: path, timeout: timeout) }
    }

    func send(_ request: Request) throws(ControlClient.Failure) -> Reply {
        condition.lock()
        while idle.isEmpty { condition.wait() }
        let connection = idle.removeLast()
        condition.unlock()
        defer {
            condition.lock()
            idle.append(connection)
            condition.signal()
            condition.unlock()
        }
        return try connection.send(request)
    }
}
