import AndonConfig
import AndonCore
import AndonProtocol
import AndonSystemd
import Foundation
import NIOCore
import ServiceLifecycle
import Synchronization

/// Ingest over UDP, from line controllers: one message per datagram; the reply goes back to the sender.
///
/// andond keeps the socket itself (bound here without `SO_REUSEADDR`, with a large receive buffer, or inherited from
/// `andond.socket`) and reads it on a thread of its own (`UDPReader`) with vector reads (`recvmmsg`) into buffers it
/// reuses: a flood datagram over its source's budget costs the kernel's copy and a hash lookup, no allocation, so
/// one flooding address cannot slow the reads another source's signals wait behind. Replies leave once their input
/// is on disk, from the commit thread, with a non-blocking `sendto` on the same socket. A reply that cannot be sent
/// (`EPERM` behind a `prohibit` route, a full send buffer) or a failed read is counted and journaled (rate-limited)
/// and ends nothing: the socket stays open and read.
struct UDPListener: Service {
    /// Messages read per system call (`recvmmsg`), and the room for each: datagrams over the 1024-byte limit must be
    /// seen as too long, not cut silently, so each gets 2 KiB.
    static let vectorReadCount = 64
    static let datagramRoom = 2048
    /// The receive buffer andond asks for on a socket it binds (`andond.socket` sets `ReceiveBuffer=` itself): about
    /// 40,000 small datagrams, two seconds at 20,000 signals/s, so a pause (journald busy on the same cores, a slow
    /// fsync) costs time, not signals. Kernel memory, used only while datagrams wait.
    static let receiveBuffer: Int32 = 32 << 20

    let descriptor: Int32
    let signals: SignalPath
    let address: String

    /// Binds `address` (HOST:PORT) or, with `descriptor`, adopts an inherited datagram socket.
    static func bind(
        _ address: String,
        descriptor: Int32? = nil,
        signals: SignalPath
    ) throws -> UDPListener {
        let fd = try descriptor ?? makeSocket(address)
        return UDPListener(
            descriptor: fd,
            signals: signals,
            address: localAddress(of: fd) ?? address
        )
    }

    private static func makeSocket(_ address: String) throws -> Int32 {
        guard let (host, port) = ListenSettings.splitHostPort(address) else {
            throw ListenError(what: "udp \(address)", reason: "not HOST:PORT")
        }
        let socketAddress: SocketAddress
        do {
            socketAddress = try SocketAddress.makeAddressResolvingHost(host, port: port)
        } catch {
            throw ListenError(what: "udp \(address)", reason: "cannot resolve \(host): \(error)")
        }
        let fd = socket(
            socketAddress.protocol.rawValue,
            Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue),
            0
        )
        guard fd >= 0 else {
            throw ListenError(what: "udp \(address)", reason: String(cString: strerror(errno)))
        }
        var size = receiveBuffer
        // As root the limit of net.core.rmem_max does not apply (SO_RCVBUFFORCE); otherwise take what is allowed.
        if setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, socklen_t(MemoryLayout<Int32>.size)) != 0 {
            _ = setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        let bound = socketAddress.withSockAddr { pointer, length in Glibc.bind(fd, pointer, socklen_t(length)) }
        guard bound == 0 else {
            let reason = errno
            close(fd)
            if reason == EADDRINUSE {
                let holder = SocketHolder.find(udpPort: port)
                throw ListenError(
                    what: "udp \(address)",
                    reason: "the address is in use"
                        + (holder.map { " by \($0)" } ?? " by another process (ss -lunp shows which)")
                        + "; stop it, or give this andond another --udp address"
                )
            }
            throw ListenError(what: "udp \(address)", reason: String(cString: strerror(reason)))
        }
        return fd
    }

    func run() async throws {
        let reader = UDPReader(descriptor: descriptor, signals: signals)
        reader.start()
        // Until the service group shuts down (gracefully or by cancellation); then the thread ends within one poll.
        try? await gracefulShutdown()
        await reader.stop()
        close(descriptor)
    }

    private static func localAddress(of fd: Int32) -> String? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let found = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard found == 0 else { return nil }
        let family = Int32(storage.ss_family)
        let address = withUnsafeBytes(of: &storage) { raw -> SocketAddress? in
            switch family {
            case AF_INET: return SocketAddress(raw.load(as: sockaddr_in.self), host: "")
            case AF_INET6: return SocketAddress(raw.load(as: sockaddr_in6.self), host: "")
            default: return nil
            }
        }
        return address.map(describe)
    }
}
