import AndonConfig
import AndonCore
import AndonProtocol
import AndonSystemd
import Foundation
import NIOCore
import NIOPosix
import ServiceLifecycle

/// Line controllers over UDP: one message per datagram; the reply goes back to the sender.
///
/// andond keeps the socket itself (bound here without `SO_REUSEADDR`, with a large receive buffer, or inherited from
/// `andond.socket`) and hands NIO a duplicate to read with vector reads in a channel handler on the event loop, as
/// NIO's own UDP servers do. Replies are not written through NIO: they leave once their input is on disk, from the
/// commit thread, with a non-blocking `sendto` on the kept socket. A reply that cannot be sent (`EPERM` behind a
/// `prohibit` route, a full send buffer) is counted and journaled (rate-limited) and ends nothing; NIO would close
/// the channel on such an error. Should the read channel close anyway, it is opened again on the same socket: the
/// datagrams queued in the kernel meanwhile are kept.
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
    let group: any EventLoopGroup
    let dispatcher: Dispatcher
    let address: String

    /// Binds `address` (HOST:PORT) or, with `descriptor`, adopts an inherited datagram socket.
    static func bind(
        _ address: String,
        descriptor: Int32? = nil,
        group: any EventLoopGroup,
        dispatcher: Dispatcher
    ) throws -> UDPListener {
        let fd = try descriptor ?? makeSocket(address)
        return UDPListener(
            descriptor: fd,
            group: group,
            dispatcher: dispatcher,
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
        defer { close(descriptor) }
        try await untilGracefulShutdown {
            var reopened = 0
            while !Task.isCancelled {
                let channel = try await adopt()
                try await withTaskCancellationHandler {
                    try await channel.closeFuture.get()
                } onCancel: {
                    channel.close(promise: nil)
                }
                guard !Task.isCancelled else { break }
                reopened += 1
                dispatcher.peerError(
                    "listener-closed",
                    "the UDP listener on \(address) was closed by an error; listening again on the same socket "
                        + "(\(reopened) time\(reopened == 1 ? "" : "s"))",
                    peer: address,
                    host: "udp-listener"
                )
                if reopened > 3 { try await Task.sleep(for: .seconds(1)) }
            }
        }
    }

    /// A read channel on a duplicate of the kept socket (NIO closes the descriptor it is given).
    private func adopt() async throws -> any Channel {
        let duplicate = dup(descriptor)
        guard duplicate >= 0 else {
            throw ListenError(what: "udp \(address)", reason: "dup: \(String(cString: strerror(errno)))")
        }
        let handler = UDPIngestHandler(dispatcher: dispatcher, sender: UDPReplySender(descriptor: descriptor))
        return try await DatagramBootstrap(group: group)
            .channelOption(.datagramVectorReadMessageCount, value: Self.vectorReadCount)
            .channelOption(
                .recvAllocator,
                value: FixedSizeRecvByteBufferAllocator(capacity: Self.vectorReadCount * Self.datagramRoom)
            )
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(handler) }
            }
            .withBoundSocket(duplicate)
            .get()
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

/// Reads datagrams on the event loop and hands each to the dispatcher; never closes the channel on an error.
///
/// Each source address has a budget (`listen.udp_rate` a second, `listen.udp_burst` at once, token buckets): what is
/// over it is dropped here, before parsing, without a reply (a reply would amplify a flood) and summed up in one
/// journal entry per source every 10 s. A flood from one address then costs a hash lookup per datagram and never
/// delays another source's signals. A safety andon or a line stop from an address some line lists in `senders:` is
/// never dropped.
final class UDPIngestHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    let dispatcher: Dispatcher
    let sender: UDPReplySender
    // Touched only on the channel's event loop.
    private var buckets: TokenBuckets<SourceKey>
    /// Drops per source since the last summary, for at most `droppedSources` sources (a flood from ever-changing,
    /// spoofed addresses must not grow it without bound); the rest are counted in `droppedElsewhere`.
    private var dropped: [SourceKey: (peer: String, count: Int)] = [:]
    private var droppedElsewhere = 0
    static let droppedSources = 1024
    private var authorised: [AddressRange] = []
    private var summary: RepeatedTask?
    static let summaryInterval = TimeAmount.seconds(10)

    init(dispatcher: Dispatcher, sender: UDPReplySender) {
        self.dispatcher = dispatcher
        self.sender = sender
        let listen = dispatcher.configuration.listen
        buckets = TokenBuckets(rate: listen.udpRate, burst: listen.udpBurst)
        authorised = dispatcher.authorisedSenders()
    }

    func handlerAdded(context: ChannelHandlerContext) {
        summary = context.eventLoop.scheduleRepeatedTask(
            initialDelay: Self.summaryInterval,
            delay: Self.summaryInterval
        ) { [self] _ in
            summarise()
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        summary?.cancel()
        summarise()
    }

    /// One journal entry per source that went over its budget since the last one.
    private func summarise() {
        authorised = dispatcher.authorisedSenders()
        guard !dropped.isEmpty || droppedElsewhere > 0 else { return }
        let listen = (rate: buckets.rate, burst: buckets.burst)
        for (_, drop) in dropped.sorted(by: { $0.value.count > $1.value.count }).prefix(100) {
            dispatcher.journal.submit(
                .daemon(
                    "dropped \(drop.count) datagram\(drop.count == 1 ? "" : "s") from \(drop.peer) over its budget of "
                        + "\(Int(listen.rate))/s (burst \(Int(listen.burst))) in the last "
                        + "\(Self.summaryInterval.nanoseconds / 1_000_000_000) s, without replies",
                    priority: .warning,
                    id: MessageID.floodDropped,
                    fields: [
                        ("ANDON_SOURCE", drop.peer), ("ANDON_DROPPED", String(drop.count)),
                        ("ANDON_REASON", "over-budget"),
                    ]
                )
            )
        }
        if droppedElsewhere > 0 {
            dispatcher.journal.submit(
                .daemon(
                    "dropped \(droppedElsewhere) more datagrams over their budgets from more than "
                        + "\(Self.droppedSources) other sources in the last \(Self.summaryInterval.nanoseconds / 1_000_000_000) s "
                        + "(spoofed addresses?), without replies",
                    priority: .warning,
                    id: MessageID.floodDropped,
                    fields: [
                        ("ANDON_SOURCE", "many"), ("ANDON_DROPPED", String(droppedElsewhere)),
                        ("ANDON_REASON", "over-budget"),
                    ]
                )
            )
        }
        dispatcher.countDropped(dropped.values.reduce(droppedElsewhere) { $0 + $1.count })
        dropped.removeAll(keepingCapacity: true)
        droppedElsewhere = 0
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = Self.unwrapInboundIn(data)
        let remote = envelope.remoteAddress
        let key = SourceKey(remote)
        if !buckets.take(key, now: DispatchTime.now().uptimeNanoseconds),
            !isSafetyCallFromAnAuthorisedSender(envelope, key)
        {
            if let index = dropped.index(forKey: key) {
                dropped.values[index].count += 1
            } else if dropped.count < Self.droppedSources {
                dropped[key] = (describe(remote), 1)
            } else {
                droppedElsewhere += 1
            }
            return
        }
        let peer = describe(remote)
        let sender = sender
        let dispatcher = dispatcher
        dispatcher.handle(envelope.data.readableBytesView, from: .udp(peer)) { reply in
            if let failure = sender.send(reply.rendered, to: remote) {
                dispatcher.peerError(
                    "reply-failed",
                    "cannot send the reply to \(peer): \(failure)",
                    peer: peer,
                    host: Peer.udp(peer).sender
                )
            }
        }
    }

    /// Over its budget, a datagram still goes on when it is a safety andon or a line stop from an address a line
    /// lists: people must be called whatever else that controller sends.
    private func isSafetyCallFromAnAuthorisedSender(_ envelope: AddressedEnvelope<ByteBuffer>, _ key: SourceKey) -> Bool
    {
        guard let address = key.bytes, authorised.contains(where: { $0.contains(address) }) else { return false }
        switch Request.parse(envelope.data.readableBytesView) {
        case .success(.signal(.andon(_, _, .safety, _), _, _)), .success(.signal(.stop, _, _)): return true
        default: return false
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        dispatcher.peerError("read-failed", "a datagram could not be read: \(error)", peer: "udp", host: "udp-receive")
    }
}

/// A datagram's source address as a cheap hash key (no string per datagram).
enum SourceKey: Hashable, Sendable {
    case v4(UInt32)
    case v6(UInt64, UInt64)
    case other

    init(_ address: SocketAddress) {
        // Straight from the sockaddr: sockaddr_in has the address at byte 4, sockaddr_in6 at byte 8.
        self = address.withSockAddr { pointer, length -> SourceKey in
            let raw = UnsafeRawPointer(pointer)
            switch Int32(pointer.pointee.sa_family) {
            case AF_INET where length >= 8: return .v4(raw.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
            case AF_INET6 where length >= 24:
                return .v6(
                    raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self),
                    raw.loadUnaligned(fromByteOffset: 16, as: UInt64.self)
                )
            default: return .other
            }
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
