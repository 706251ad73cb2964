import AndonConfig
import AndonCore
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle
import Synchronization

/// The web face's listener: HTTP/1.1 on NIO's event loops, on addresses andond binds itself (`--http`,
/// `listen.http`) or on a socket systemd passes in (andond-http.socket). Hostile clients are bounded here: at most
/// `maxConnections`, a request must arrive whole within `requestTimeout`, a kept-alive connection idle for
/// `idleTimeout` is closed, headers are limited by the decoder and bodies to `maxBody` bytes. UDP ingest has its own
/// thread, so nothing here can slow a controller's receipt over UDP.
package struct HTTPListener: Service {
    package struct Limits: Sendable {
        package var maxConnections = 512
        package var requestTimeout: TimeAmount = .seconds(10)
        package var idleTimeout: TimeAmount = .seconds(60)
        package var maxBody = 4096
        package var maxHeaderBytes = 16 * 1024
        package var maxHeaderCount = 64
        /// An event stream further behind than this is dropped (the browser reconnects and resumes).
        package var maxStreamBacklog = 1 << 20

        package init() {}
    }

    let channels: [any Channel]
    package let addresses: [String]
    let face: WebFace
    let group: any EventLoopGroup

    /// Binds each of `addresses` (HOST:PORT), or adopts `descriptor` (a listening TCP socket from systemd).
    package static func bind(
        addresses: [String],
        descriptor: Int32? = nil,
        group: any EventLoopGroup,
        face: WebFace,
        limits: Limits = Limits()
    ) async throws -> HTTPListener {
        let open = Connections(limit: limits.maxConnections)
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                guard open.enter() else {
                    // Over the limit: closed as soon as it is active (not before it is registered).
                    return channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(Refuser())
                    }
                }
                channel.closeFuture.whenComplete { _ in open.leave() }
                return channel.eventLoop.makeCompletedFuture {
                    var decoderLimits = NIOHTTPDecoderLimitConfiguration()
                    decoderLimits.maxHeaderListSize = limits.maxHeaderBytes
                    decoderLimits.maxHeaderFieldSize = limits.maxHeaderBytes
                    decoderLimits.maxHeaderFieldCount = limits.maxHeaderCount
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(
                        withEncoderConfiguration: .init(),
                        withDecoderLimitConfiguration: decoderLimits
                    )
                    try channel.pipeline.syncOperations.addHandler(WebHandler(face: face, limits: limits))
                }
            }
        var channels: [any Channel] = []
        var bound: [String] = []
        do {
            if let descriptor {
                let channel = try await bootstrap.withBoundSocket(descriptor).get()
                channels.append(channel)
                bound.append(channel.localAddress.map(describe) ?? "fd \(descriptor)")
            } else {
                for address in addresses {
                    guard let (host, port) = ListenSettings.splitHostPort(address) else {
                        throw ListenError(what: "http \(address)", reason: "not HOST:PORT")
                    }
                    do {
                        let channel = try await bootstrap.bind(host: host, port: port).get()
                        channels.append(channel)
                        bound.append(channel.localAddress.map(describe) ?? address)
                    } catch {
                        throw ListenError(what: "http \(address)", reason: ListenError.reason(of: error))
                    }
                }
            }
        } catch {
            for channel in channels { try? await channel.close() }
            throw error
        }
        return HTTPListener(channels: channels, addresses: bound, face: face, group: group)
    }

    package func run() async throws {
        // The clock tick every 2 s (a board notices a silent stream within 5 s) and the keep-alive comment every 15 s.
        let loop = group.next()
        let live = face.live
        let clock = face.signals.clock
        let ticks = loop.scheduleRepeatedTask(initialDelay: .seconds(2), delay: .seconds(2)) { _ in
            live.broadcast(LiveEvents.tick(now: clock.now))
        }
        let keepAlive = loop.scheduleRepeatedTask(initialDelay: .seconds(15), delay: .seconds(15)) { _ in
            live.broadcast(LiveEvents.keepAlive)
        }
        try? await gracefulShutdown()
        ticks.cancel()
        keepAlive.cancel()
        await close()
    }

    /// Stops accepting and closes the event streams.
    package func close() async {
        for channel in channels { try? await channel.close() }
        face.live.closeAll()
    }
}

/// Closes a connection over the limit as soon as it is active.
final class Refuser: ChannelInboundHandler, Sendable {
    typealias InboundIn = NIOAny

    func channelActive(context: ChannelHandlerContext) { context.close(promise: nil) }
}

/// Open connections, bounded: one over the limit is closed as soon as it is accepted.
final class Connections: Sendable {
    private let count = Atomic<Int>(0)
    let limit: Int

    init(limit: Int) { self.limit = limit }

    func enter() -> Bool {
        if count.add(1, ordering: .relaxed).newValue > limit {
            count.subtract(1, ordering: .relaxed)
            return false
        }
        return true
    }

    func leave() { count.subtract(1, ordering: .relaxed) }
}

/// One HTTP connection: reads a request (bounded in time and size), asks the web face, writes its answer; an event
/// stream stays open, fed by the live events hub. Runs on the connection's event loop.
final class WebHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let face: WebFace
    private let limits: HTTPListener.Limits
    private var head: HTTPRequestHead?
    private var bodyBytes = 0
    private var refused = false
    private var timer: Scheduled<Void>?
    private var streaming: Int?
    private var peer = "?"

    init(face: WebFace, limits: HTTPListener.Limits) {
        self.face = face
        self.limits = limits
    }

    func handlerAdded(context: ChannelHandlerContext) {
        peer = context.remoteAddress.map(describe) ?? "?"
        arm(context, after: limits.requestTimeout)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        if let streaming { face.live.unsubscribe(streaming) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let request):
            guard streaming == nil else { return }
            head = request
            bodyBytes = 0
            refused = false
            arm(context, after: limits.requestTimeout)
        case .body(let buffer):
            bodyBytes += buffer.readableBytes
            if bodyBytes > limits.maxBody, !refused {
                refused = true
                write(.plain(413, "request body too large (at most \(limits.maxBody) bytes)"), close: true, context)
            }
        case .end:
            guard let request = head, !refused, streaming == nil else { return }
            head = nil
            timer?.cancel()
            timer = nil
            let web = WebRequest(
                method: request.method.rawValue,
                target: request.uri,
                lastEventID: request.headers.first(name: "Last-Event-ID"),
                peer: peer
            )
            let keepAlive = request.isKeepAlive
            let isHead = request.method == .HEAD
            let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            face.handle(web) { response in
                bound.eventLoop.execute {
                    let (handler, context) = bound.value
                    handler.answer(response, keepAlive: keepAlive, head: isHead, context)
                }
            }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    // MARK: Answers

    private func answer(_ response: WebResponse, keepAlive: Bool, head isHead: Bool, _ context: ChannelHandlerContext) {
        guard context.channel.isActive else { return }
        switch response {
        case .page:
            write(response, close: !keepAlive, head: isHead, context)
        case .events(let line, let lastEventID):
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: "text/event-stream; charset=utf-8")
            headers.add(name: "Cache-Control", value: "no-store")
            headers.add(name: "X-Accel-Buffering", value: "no")
            headers.add(name: "X-Content-Type-Options", value: "nosniff")
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))))
                .whenFailure { _ in }
            let channel = context.channel
            let backlog = Backlog(limit: limits.maxStreamBacklog)
            let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            let subscriber = LiveEvents.Subscriber(
                line: line,
                send: { buffer in
                    guard backlog.take(buffer.readableBytes) else { return false }
                    let size = buffer.readableBytes
                    bound.eventLoop.execute {
                        let (handler, context) = bound.value
                        context.writeAndFlush(handler.wrapOutboundOut(.body(.byteBuffer(buffer))))
                            .whenComplete { _ in backlog.give(size) }
                    }
                    return true
                },
                close: { channel.close(promise: nil) }
            )
            let (key, replay) = face.live.subscribe(subscriber, lastEventID: lastEventID)
            streaming = key
            for frame in replay { context.write(wrapOutboundOut(.body(.byteBuffer(frame))), promise: nil) }
            context.flush()
        }
    }

    private func write(
        _ response: WebResponse,
        close: Bool,
        head isHead: Bool = false,
        _ context: ChannelHandlerContext
    ) {
        guard case .page(let status, let contentType, let body, let extra) = response else { return }
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: contentType)
        headers.add(name: "Content-Length", value: String(body.count))
        headers.add(name: "X-Content-Type-Options", value: "nosniff")
        headers.add(name: "Referrer-Policy", value: "no-referrer")
        if !extra.contains(where: { $0.0 == "Cache-Control" }) { headers.add(name: "Cache-Control", value: "no-cache") }
        for (name, value) in extra { headers.add(name: name, value: value) }
        if close { headers.add(name: "Connection", value: "close") }
        let head = HTTPResponseHead(
            version: .http1_1,
            status: HTTPResponseStatus(statusCode: status),
            headers: headers
        )
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        if !isHead, !body.isEmpty {
            context.write(
                wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: body)))),
                promise: nil
            )
        }
        if close {
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
        } else {
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            arm(context, after: limits.idleTimeout)
        }
    }

    /// Closes the connection unless a whole request arrives within `after`.
    private func arm(_ context: ChannelHandlerContext, after: TimeAmount) {
        timer?.cancel()
        let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(in: after) { bound.value.close(promise: nil) }
    }
}

/// Bytes queued on an event stream's socket and not yet written.
final class Backlog: Sendable {
    private let bytes = Atomic<Int>(0)
    let limit: Int

    init(limit: Int) { self.limit = limit }

    func take(_ count: Int) -> Bool {
        if bytes.add(count, ordering: .relaxed).newValue > limit {
            bytes.subtract(count, ordering: .relaxed)
            return false
        }
        return true
    }

    func give(_ count: Int) { bytes.subtract(count, ordering: .relaxed) }
}
