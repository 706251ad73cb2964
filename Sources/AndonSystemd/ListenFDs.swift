import CSystemd
import Glibc

/// A socket passed in by the service manager (socket activation), classified by what it is, not by its position.
public struct InheritedSocket: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        case unixStream(path: String?)
        case datagram
        case stream
        case other
    }

    public var descriptor: Int32
    /// `FileDescriptorName=` of the socket unit (`andond` by default).
    public var name: String
    public var kind: Kind
}

public enum ListenFDs {
    /// The sockets passed by systemd (`LISTEN_FDS`), taken once: the environment variables are unset afterwards.
    public static func take() -> [InheritedSocket] {
        var names: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
        let count = sd_listen_fds_with_names(1, &names)
        guard count > 0 else { return [] }
        defer {
            if let names {
                for index in 0..<Int(count) { free(names[index]) }
                free(names)
            }
        }
        return (0..<count).map { offset in
            let descriptor = SD_LISTEN_FDS_START + offset
            let name = names?[Int(offset)].map { String(cString: $0) } ?? "unknown"
            return InheritedSocket(descriptor: descriptor, name: name, kind: classify(descriptor))
        }
    }

    static func classify(_ descriptor: Int32) -> InheritedSocket.Kind {
        var type: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(descriptor, SOL_SOCKET, SO_TYPE, &type, &length) == 0 else { return .other }
        let isUnix = sd_is_socket_unix(descriptor, 0, -1, nil, 0) > 0
        switch (type, isUnix) {
        case (Int32(SOCK_STREAM.rawValue), true): return .unixStream(path: unixPath(descriptor))
        case (Int32(SOCK_STREAM.rawValue), false): return .stream
        case (Int32(SOCK_DGRAM.rawValue), false): return .datagram
        default: return .other
        }
    }

    private static func unixPath(_ descriptor: Int32) -> String? {
        var address = sockaddr_un()
        var length = socklen_t(MemoryLayout<sockaddr_un>.size)
        let result = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        guard result == 0 else { return nil }
        return withUnsafeBytes(of: address.sun_path) { raw in
            let bytes = raw.prefix { $0 != 0 }
            return bytes.isEmpty ? nil : String(decoding: bytes, as: UTF8.self)
        }
    }
}
