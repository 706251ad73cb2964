import AndonConfig
import Glibc
import NIOCore
import Synchronization

/// Sends feedback datagrams from the UDP listeners' own sockets (so a controller hears andond from the port it sends
/// to), or, for an address family no listener has (or no UDP listener at all), from a socket of its own. Addresses
/// are parsed once and kept.
final class UDPFeedbackTransport: FeedbackTransport, Sendable {
    private let listeners: [(family: Int32, sender: UDPReplySender)]
    private let own = Mutex<[Int32: Int32]>([:])
    private let addresses = Mutex<[String: SocketAddress]>([:])

    /// `descriptors`: the bound UDP listeners' sockets.
    init(descriptors: [Int32]) {
        listeners = descriptors.compactMap { fd in
            var storage = sockaddr_storage()
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let found = withUnsafeMutablePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
            }
            return found == 0 ? (Int32(storage.ss_family), UDPReplySender(descriptor: fd)) : nil
        }
    }

    deinit {
        for fd in own.withLock({ $0.values }) { close(fd) }
    }

    func send(_ message: String, to address: String) -> String? {
        guard let target = resolve(address) else { return "not an IP address and port" }
        let family = target.protocol.rawValue
        // An IPv6 listener (dual-stack) reaches IPv4 controllers only as ::ffff:a.b.c.d, which the address as
        // configured is not: the family must match.
        if let listener = listeners.first(where: { $0.family == family }) {
            return listener.sender.send(message, to: target)
        }
        guard let fd = socket(for: family) else { return String(cString: strerror(errno)) }
        return UDPReplySender(descriptor: fd).send(message, to: target)
    }

    private func resolve(_ address: String) -> SocketAddress? {
        if let known = addresses.withLock({ $0[address] }) { return known }
        guard let (host, port) = ListenSettings.splitHostPort(address),
            let resolved = try? SocketAddress(ipAddress: host, port: port)
        else { return nil }
        addresses.withLock { cache in
            if cache.count >= 4096 { cache.removeAll() }
            cache[address] = resolved
        }
        return resolved
    }

    private func socket(for family: Int32) -> Int32? {
        own.withLock { sockets in
            if let fd = sockets[family] { return fd }
            let fd = Glibc.socket(
                family,
                Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue),
                0
            )
            guard fd >= 0 else { return nil }
            sockets[family] = fd
            return fd
        }
    }
}
