import Glibc
import NIOCore

/// A datagram's source address as a cheap hash key (no string per datagram).
enum SourceKey: Hashable, Sendable {
    case v4(UInt32)
    case v6(UInt64, UInt64)
    case other

    /// From a `sockaddr` of `length` bytes: sockaddr_in has the address at byte 4, sockaddr_in6 at byte 8.
    init(_ name: UnsafeRawPointer, length: Int) {
        switch Int32(name.load(as: sa_family_t.self)) {
        case AF_INET where length >= 8: self = .v4(name.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
        case AF_INET6 where length >= 24:
            self = .v6(
                name.loadUnaligned(fromByteOffset: 8, as: UInt64.self),
                name.loadUnaligned(fromByteOffset: 16, as: UInt64.self)
            )
        default: self = .other
        }
    }

    /// The address's bytes as `AddressRange` takes them (an IPv4-mapped IPv6 address as its 4).
    var bytes: [UInt8]? {
        switch self {
        case .v4(var value): return withUnsafeBytes(of: &value) { Array($0) }
        case .v6(var high, var low):
            let all = withUnsafeBytes(of: &high) { Array($0) } + withUnsafeBytes(of: &low) { Array($0) }
            if all[0..<10].allSatisfy({ $0 == 0 }), all[10] == 0xff, all[11] == 0xff { return Array(all[12...]) }
            return all
        case .other: return nil
        }
    }
}

/// Sends replies with `sendto` on the listener's socket: non-blocking, from any thread, errors returned.
struct UDPReplySender: Sendable {
    let descriptor: Int32

    /// Nil when sent; otherwise why not.
    func send(_ line: String, to address: SocketAddress) -> String? {
        var bytes = Array(line.utf8)
        bytes.append(UInt8(ascii: "\n"))
        let sent = address.withSockAddr { pointer, length in
            bytes.withUnsafeBytes {
                sendto(
                    descriptor,
                    $0.baseAddress,
                    $0.count,
                    Int32(MSG_DONTWAIT) | Int32(MSG_NOSIGNAL),
                    pointer,
                    socklen_t(length)
                )
            }
        }
        return sent < 0 ? String(cString: strerror(errno)) : nil
    }
}
