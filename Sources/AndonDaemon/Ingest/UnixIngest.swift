import AndonConfig
import AndonProtocol
import AndonSystemd
import Glibc
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle

/// Ingest from the UNIX stream socket: controllers and andonctl, one message per line, a reply line for each (on
/// NIO's event loops; one request at a time per connection).
struct UnixListener: Service {
    typealias Connection = NIOAsyncChannel<LineFrame, ByteBuffer>
    let channel: NIOAsyncChannel<(PeerCredentials?, Connection), Never>
    let signals: SignalPath
    let socketPath: String
    let logger: Logger

    /// Binds `path`, or adopts an inherited listening socket when `descriptor` is given (never unlinking it).
    static func bind(
        path: String,
        descriptor: Int32? = nil,
        group: any EventLoopGroup,
        signals: SignalPath,
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
            return UnixListener(channel: channel, signals: signals, socketPath: path, logger: logger)
        } catch let error as ListenError {
            throw error
        } catch {
            throw ListenError(what: "unix \(path)", reason: ListenError.reason(of: error))
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
        // `state` lines (a `state?` answer, a subscription) are written as they come, from any thread; a subscriber
        // that stops reading is closed once its socket's buffer is full, never buffered without bound.
        let channel = connection.channel
        let pushes = PushConnection { line in
            guard channel.isWritable else {
                channel.close(promise: nil)
                return
            }
            var buffer = channel.allocator.buffer(capacity: line.utf8.count + 1)
            buffer.writeString(line)
            buffer.writeInteger(UInt8(ascii: "\n"))
            channel.writeAndFlush(buffer, promise: nil)
        }
        defer {
            for id in pushes.close() { signals.feedback.unsubscribe(id) }
        }
        do {
            try await connection.executeThenClose { inbound, _ in
                for try await frame in inbound {
                    let answer: Answer
                    switch frame {
                    case .line(let line):
                        // One request at a time per connection: its reply comes once it is on disk, in order.
                        answer = await withCheckedContinuation { continuation in
                            signals.handle(
                                line.readableBytesView,
                                from: peer,
                                connection: pushes,
                                stream: { continuation.resume(returning: .status($0)) },
                                reply: { continuation.resume(returning: .reply($0)) }
                            )
                        }
                    case .tooLong(let length):
                        answer = .reply(signals.refuseTooLong(length, from: peer))
                    }
                    // Each write until it is on the socket: a client that shuts down its side after the request (socat,
                    // nc) must still get a large reply whole, closing drops what is still queued, and a status of
                    // 100,000 calls is rendered no faster than its reader takes it.
                    switch answer {
                    case .reply(let reply):
                        var buffer = ByteBuffer(string: reply.rendered)
                        buffer.writeInteger(UInt8(ascii: "\n"))
                        try await connection.channel.writeAndFlush(buffer)
                    case .status(let stream):
                        for piece in stream.pieces() {
                            try await connection.channel.writeAndFlush(ByteBuffer(bytes: piece))
                        }
                        try await connection.channel.writeAndFlush(ByteBuffer(bytes: [UInt8(ascii: "\n")]))
                    }
                }
            }
        } catch is CancellationError {
        } catch {
            logger.debug("connection from \(peer) ended: \(error)")
        }
    }
}

/// What a UNIX connection writes back for one request: a reply line, or a status written in pieces.
private enum Answer: Sendable {
    case reply(Reply)
    case status(StatusStream)
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

    /// `No such file or directory`, as the shell says it, for a system call's failure; NIO's own text names its
    /// internal function (`bind(descriptor:ptr:bytes:)`) and the errno.
    static func reason(of error: any Error) -> String {
        guard let error = error as? IOError else { return "\(error)" }
        return String(cString: strerror(error.errnoCode))
    }
}

/// `127.0.0.1:4950`, `[::1]:4950`.
func describe(_ address: SocketAddress) -> String {
    switch address {
    case .v6: "[\(address.ipAddress ?? "?")]:\(address.port ?? 0)"
    case .unixDomainSocket: address.pathname ?? "unix"
    default: "\(address.ipAddress ?? "?"):\(address.port ?? 0)"
    }
}
