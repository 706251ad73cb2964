import AndonConfig
import AndonProtocol
import AndonSystemd
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle

/// Line controllers over UDP: one message per datagram; the reply goes back to the sender.
struct UDPListener: Service {
    typealias Envelope = AddressedEnvelope<ByteBuffer>
    let channel: NIOAsyncChannel<Envelope, Envelope>
    let dispatcher: Dispatcher
    let address: String

    /// Binds `address` (HOST:PORT), or adopts an inherited datagram socket when `descriptor` is given.
    static func bind(
        _ address: String,
        descriptor: Int32? = nil,
        group: any EventLoopGroup,
        dispatcher: Dispatcher
    ) async throws -> UDPListener {
        var bootstrap = DatagramBootstrap(group: group)
        if descriptor == nil { bootstrap = bootstrap.channelOption(.socketOption(.so_reuseaddr), value: 1) }
        bootstrap =
            bootstrap
            // Datagrams over the 1024-byte limit must be seen as too long, not cut silently: read up to 2 KiB.
            .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: 2048))
        let initializer: @Sendable (any Channel) -> EventLoopFuture<NIOAsyncChannel<Envelope, Envelope>> = { channel in
            channel.eventLoop.makeCompletedFuture {
                try NIOAsyncChannel<Envelope, Envelope>(wrappingChannelSynchronously: channel)
            }
        }
        do {
            let channel: NIOAsyncChannel<Envelope, Envelope>
            if let descriptor {
                // Reads stay off until the async channel is in the pipeline, so no queued datagram is lost.
                let adopted = try await bootstrap.channelOption(.autoRead, value: false).withBoundSocket(descriptor)
                    .get()
                channel = try await adopted.eventLoop.submit {
                    let wrapped = try NIOAsyncChannel<Envelope, Envelope>(wrappingChannelSynchronously: adopted)
                    try adopted.syncOptions?.setOption(.autoRead, value: true)
                    adopted.read()
                    return wrapped
                }.get()
            } else {
                guard let (host, port) = ListenSettings.splitHostPort(address) else {
                    throw ListenError(what: "udp \(address)", reason: "not HOST:PORT")
                }
                channel = try await bootstrap.bind(host: host, port: port, channelInitializer: initializer)
            }
            let bound = channel.channel.localAddress.map(describe) ?? address
            return UDPListener(channel: channel, dispatcher: dispatcher, address: bound)
        } catch {
            throw ListenError(what: "udp \(address)", reason: String(reflecting: error))
        }
    }

    func run() async throws {
        try await untilGracefulShutdown {
            try await channel.executeThenClose { inbound, outbound in
                for try await envelope in inbound {
                    let peer = Peer.udp(describe(envelope.remoteAddress))
                    let reply = dispatcher.handle(envelope.data.readableBytesView, from: peer)
                    var data = channel.channel.allocator.buffer(capacity: 64)
                    data.writeString(reply.rendered + "\n")
                    try await outbound.write(Envelope(remoteAddress: envelope.remoteAddress, data: data))
                }
            }
        }
    }
}

/// Controllers and andonctl over the UNIX stream socket: one message per line, a reply line for each.
struct UnixListener: Service {
    typealias Connection = NIOAsyncChannel<LineFrame, ByteBuffer>
    let channel: NIOAsyncChannel<(PeerCredentials?, Connection), Never>
    let dispatcher: Dispatcher
    let path: String
    let logger: Logger

    /// Binds `path`, or adopts an inherited listening socket when `descriptor` is given (never unlinking it).
    static func bind(
        path: String,
        descriptor: Int32? = nil,
        group: any EventLoopGroup,
        dispatcher: Dispatcher,
        logger: Logger
    ) async throws -> UnixListener {
        let initializer: @Sendable (any Channel) -> EventLoopFuture<(PeerCredentials?, Connection)> = { child in
            child.eventLoop.makeCompletedFuture {
                try child.pipeline.syncOperations.addHandler(ByteToMessageHandler(LineFrameDecoder()))
                // A controller may send its line and shut down its side at once (`socat`, `nc -N`): the read side
                // ends, the replies still go out, then the connection closes.
                return try Connection(
                    wrappingChannelSynchronously: child,
                    configuration: .init(isOutboundHalfClosureEnabled: true)
                )
            }.flatMap { connection in
                guard let provider = child as? any SocketOptionProvider else {
                    return child.eventLoop.makeSucceededFuture((PeerCredentials?.none, connection))
                }
                let credentials: EventLoopFuture<PeerCredentials> = provider.unsafeGetSocketOption(
                    level: SocketOptionLevel(PeerCredentials.socketOptionLevel),
                    name: SocketOptionName(PeerCredentials.socketOptionName)
                )
                return credentials.map { (Optional($0), connection) }.recover { _ in (nil, connection) }
            }
        }
        do {
            let bootstrap = ServerBootstrap(group: group)
                .childChannelOption(ChannelOptions.allowRemoteHalfClosure, value: true)
            let channel: NIOAsyncChannel<(PeerCredentials?, Connection), Never>
            if let descriptor {
                channel = try await bootstrap.bind(descriptor, childChannelInitializer: initializer)
            } else {
                channel = try await bootstrap.bind(
                    unixDomainSocketPath: path,
                    cleanupExistingSocketFile: true,
                    childChannelInitializer: initializer
                )
            }
            return UnixListener(channel: channel, dispatcher: dispatcher, path: path, logger: logger)
        } catch {
            throw ListenError(what: "unix \(path)", reason: "\(error)")
        }
    }

    func run() async throws {
        try await untilGracefulShutdown {
            try await withThrowingDiscardingTaskGroup { group in
                try await channel.executeThenClose { inbound in
                    for try await (credentials, connection) in inbound {
                        group.addTask { await serve(connection, credentials: credentials) }
                    }
                }
            }
        }
    }

    /// One connection; its failure is logged and never affects the others.
    private func serve(_ connection: Connection, credentials: PeerCredentials?) async {
        // No credentials (not expected on Linux): treat as an unknown user, never as root.
        let peer = Peer.unix(credentials ?? PeerCredentials(pid: 0, uid: UInt32.max, gid: UInt32.max))
        do {
            try await connection.executeThenClose { inbound, outbound in
                for try await frame in inbound {
                    let reply: Reply
                    switch frame {
                    case .line(let line):
                        reply = dispatcher.handle(line.readableBytesView, from: peer)
                    case .tooLong(let length):
                        reply = dispatcher.refuseTooLong(length, from: peer)
                    }
                    try await outbound.write(ByteBuffer(string: reply.rendered + "\n"))
                }
            }
        } catch is CancellationError {
        } catch {
            logger.debug("connection from \(peer) ended: \(error)")
        }
    }
}

/// Runs `body` until it ends or graceful shutdown begins (then it is cancelled); being cancelled for shutdown is a
/// normal end, not an error.
func untilGracefulShutdown(_ body: @escaping @Sendable () async throws -> Void) async throws {
    do {
        try await cancelWhenGracefulShutdown(body)
    } catch is CancellationError {
    }
}

struct ListenError: Error, CustomStringConvertible {
    var what: String
    var reason: String
    var description: String { "cannot listen on \(what): \(reason)" }
}

/// `127.0.0.1:4950`, `[::1]:4950`.
func describe(_ address: SocketAddress) -> String {
    switch address {
    case .v6: "[\(address.ipAddress ?? "?")]:\(address.port ?? 0)"
    case .unixDomainSocket: address.pathname ?? "unix"
    default: "\(address.ipAddress ?? "?"):\(address.port ?? 0)"
    }
}
