import AndonProtocol
import Foundation
import Glibc

/// A blocking client for andond's UNIX socket: one request line, one reply line.
public struct ControlClient: Sendable {
    public static let defaultSocket = "/run/andond.sock"

    /// The socket: `--socket`, else `$ANDOND_SOCKET`, else the default.
    public let path: String
    public var timeout: Duration = .seconds(10)

    public init(path: String?) {
        let fromEnvironment = ProcessInfo.processInfo.environment["ANDOND_SOCKET"].flatMap { $0.isEmpty ? nil : $0 }
        self.path = path ?? fromEnvironment ?? Self.defaultSocket
    }

    public enum Failure: Error, CustomStringConvertible {
        /// andond is not running there, or this user may not connect.
        case unreachable(path: String, reason: String)
        /// The daemon answered something that is not a reply.
        case protocolError(String)

        public var description: String {
            switch self {
            case .unreachable(let path, let reason) where reason == String(cString: strerror(EACCES)):
                "cannot talk to andond at \(path): \(reason): join group andon (sudo usermod -aG andon $USER, "
                    + "then log in again), or run as root"
            case .unreachable(let path, let reason):
                "andond is not reachable at \(path): \(reason) (is it running? systemctl status andond; "
                    + "another socket: --socket PATH or ANDOND_SOCKET)"
            case .protocolError(let reason): "unexpected answer from andond: \(reason)"
            }
        }
    }

    /// Sends one request and returns the daemon's reply.
    public func send(_ request: Request) throws(Failure) -> Reply {
        let fd = try Self.connect(path: path, timeout: timeout)
        defer { close(fd) }
        try Self.write(request, to: fd, path: path)
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        var complete = false
        while !complete {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count == 0 { break }
            guard count > 0 else {
                throw .protocolError(errno == EAGAIN ? "no reply within \(timeout)" : String(cString: strerror(errno)))
            }
            // Only the new bytes are searched: a 30 MB status arrives in hundreds of pieces.
            complete = buffer[..<count].contains(UInt8(ascii: "\n"))
            received += buffer[..<count]
        }
        let text = String(decoding: received.prefix { $0 != UInt8(ascii: "\n") }, as: UTF8.self)
        switch Reply.parse(text) {
        case .success(let reply): return reply
        case .failure(let error): throw .protocolError("\(error.reason): \(text.prefix(200))")
        }
    }

    /// A connected stream socket to `path`, with `timeout` for each read (shared with kept connections).
    public static func connect(path: String, timeout: Duration) throws(Failure) -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw .unreachable(path: path, reason: String(cString: strerror(errno))) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let pathBytes = Array(path.utf8)
        guard pathBytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            close(fd)
            throw .unreachable(path: path, reason: "the path is too long for a UNIX socket")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: pathBytes)
            raw[pathBytes.count] = 0
        }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard connected == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw .unreachable(path: path, reason: reason)
        }
        var timeval = timeval(tv_sec: Int(timeout.components.seconds), tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeval, socklen_t(MemoryLayout<timeval>.size))
        return fd
    }

    /// Writes one request line.
    public static func write(_ request: Request, to fd: Int32, path: String) throws(Failure) {
        let line = Array((request.message.rendered + "\n").utf8)
        var sent = 0
        while sent < line.count {
            let count = line[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard count > 0 else { throw .unreachable(path: path, reason: String(cString: strerror(errno))) }
            sent += count
        }
    }

    /// Decodes the `json=` payload of an `ok` reply.
    public static func payload<T: Decodable>(_ type: T.Type, of reply: Reply) throws(Failure) -> T {
        guard let json = reply["json"] else { throw .protocolError("the reply carries no data") }
        do {
            return try JSONDecoder().decode(T.self, from: Data(json.utf8))
        } catch {
            throw .protocolError("the reply's data does not decode: \(error)")
        }
    }
}
