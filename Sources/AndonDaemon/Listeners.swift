import AndonConfig
import AndonProtocol
import AndonSystemd
import Glibc
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle

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
                // Never unlink a socket that answers: a second andond must not cut the first off from its responders.
                if let holder = SocketHolder.answering(unixPath: path) {
                    throw ListenError(
                        what: "unix \(path)",
                        reason: "\(holder) answers on it; stop it first, or give this andond another --socket"
                    )
                }
                channel = try await bootstrap.bind(
                    unixDomainSocketPath: path,
                    cleanupExistingSocketFile: true,
                    childChannelInitializer: initializer
                )
            }
            return UnixListener(channel: channel, dispatcher: dispatcher, path: path, logger: logger)
        } catch let error as ListenError {
            throw error
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
            try await connection.executeThenClose { inbound, _ in
                for try await frame in inbound {
                    let reply: Reply
                    switch frame {
                    case .line(let line):
                        // One request at a time per connection: its reply comes once it is on disk, in order.
                        reply = await withCheckedContinuation { continuation in
                            dispatcher.handle(line.readableBytesView, from: peer) { continuation.resume(returning: $0) }
                        }
                    case .tooLong(let length):
                        reply = dispatcher.refuseTooLong(length, from: peer)
                    }
                    var buffer = ByteBuffer(string: reply.rendered)
                    buffer.writeInteger(UInt8(ascii: "\n"))
                    // Until it is on the socket: a client that shuts down its side after the request (socat, nc)
                    // must still get a large reply whole, and closing drops what is still queued.
                    try await connection.channel.writeAndFlush(buffer)
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
