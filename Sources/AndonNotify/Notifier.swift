import AndonConfig
import AndonControl
import AndonCore
import AndonProtocol
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// andon-notify's loop: claims due deliveries from andond (a long poll over its UNIX socket), sends each through
/// its channel with AsyncHTTPClient, and reports each outcome. Up to `concurrency` requests are in flight; andond
/// hands out one delivery per channel and recipient at a time, so a hanging endpoint holds back only its own.
public final class NotifyLoop: Sendable {
    public struct Options: Sendable {
        public var socket: String?
        public var concurrency = 64
        /// How long one claim waits for a delivery to fall due.
        public var claimWait: Duration = .seconds(5)
        /// The acknowledge link's base (`notify.ack_url`): a call's token is appended.
        public var ackURL: String?

        public init() {}
    }

    let channels: [String: PreparedChannel]
    let options: Options
    let client: HTTPClient
    /// The claim loop's connection (its thread only) and the reports' connections.
    private let claims: ControlConnection
    private let reporting: ControlConnectionPool
    private let inFlight = Atomic<Int>(0)
    private let slots = NSCondition()
    private let reports = DispatchQueue(label: "andon-notify.report", attributes: .concurrent)
    private let stopping = Atomic<Bool>(false)
    /// A claim's lease outlasts any attempt (bounded by its channel's timeout) and its report.
    let lease: Duration

    public init(channels: [String: PreparedChannel], options: Options) {
        self.channels = channels
        self.options = options
        var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow)
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = max(8, options.concurrency)
        configuration.timeout.connect = .seconds(5)
        client = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: configuration)
        let path = ControlClient(path: options.socket).path
        claims = ControlConnection(path: path, timeout: options.claimWait + .seconds(10))
        reporting = ControlConnectionPool(path: path, count: 8, timeout: .seconds(30))
        let longest = channels.values.map(\.settings.timeout).max() ?? .seconds(10)
        lease = longest + .seconds(5)
    }

    public func stop() { stopping.store(true, ordering: .relaxed) }

    /// Runs until `stop()`: claims, sends, reports.
    public func run() {
        var quietUntil = Date.distantPast
        while !stopping.load(ordering: .relaxed) {
            let free = waitForSlot()
            let reply: Reply
            do {
                reply = try claims.send(.claim(limit: free, wait: options.claimWait, lease: lease))
            } catch {
                if Date() >= quietUntil {
                    Self.log("cannot claim deliveries from andond: \(error); trying again every second")
                    quietUntil = Date() + 60
                }
                Thread.sleep(forTimeInterval: 1)
                continue
            }
            if case .error(let error) = reply {
                Self.log("andond refused the claim: \(error.reason)")
                Thread.sleep(forTimeInterval: 1)
                continue
            }
            let claimed: [DeliveryPayload]
            do {
                claimed = try ControlClient.payload([DeliveryPayload].self, of: reply)
            } catch {
                Self.log("andond's claim answer does not decode: \(error)")
                Thread.sleep(forTimeInterval: 1)
                continue
            }
            for delivery in claimed { send(delivery) }
        }
        try? client.syncShutdown()
    }

    /// Blocks until a request may start; returns how many may.
    private func waitForSlot() -> Int {
        slots.lock()
        defer { slots.unlock() }
        while inFlight.load(ordering: .relaxed) >= options.concurrency { slots.wait() }
        return options.concurrency - inFlight.load(ordering: .relaxed)
    }

    private func finished() {
        slots.lock()
        inFlight.subtract(1, ordering: .relaxed)
        slots.signal()
        slots.unlock()
    }

    func send(_ delivery: DeliveryPayload) {
        guard let channel = channels[delivery.channel] else {
            report(
                DeliveryReport(
                    id: delivery.id,
                    attempt: delivery.attempt,
                    outcome: .failed,
                    error: "andon-notify has no channel \(delivery.channel) (restart it after a reload)"
                )
            )
            return
        }
        inFlight.add(1, ordering: .relaxed)
        let started = ContinuousClock.now
        let ackURL = delivery.ackToken.flatMap { token in options.ackURL.map { $0 + token } }
        let prepared = channel.request(for: delivery, ackURL: ackURL)
        let request: HTTPClient.Request
        do {
            request = try HTTPClient.Request(
                url: prepared.url,
                method: .POST,
                headers: HTTPHeaders(prepared.headers),
                body: .bytes(prepared.body)
            )
        } catch {
            finished()
            report(
                DeliveryReport(
                    id: delivery.id,
                    attempt: delivery.attempt,
                    outcome: .failed,
                    error: "the URL \(prepared.url) cannot be sent to: \(error)"
                )
            )
            return
        }
        let timeout = channel.settings.timeout
        client.execute(request: request, deadline: .now() + .milliseconds(timeout.milliseconds)).whenComplete {
            [self] result in
            finished()
            let elapsed = ContinuousClock.now - started
            var outcome = DeliveryReport(id: delivery.id, attempt: delivery.attempt, outcome: .retry, elapsed: elapsed)
            switch result {
            case .success(let response):
                let status = Int(response.status.code)
                let (kind, retryAfter) = Classification.outcome(
                    status: status,
                    retryAfter: response.headers.first(name: "Retry-After")
                )
                outcome.outcome = kind
                outcome.status = status
                outcome.retryAfter = retryAfter
                if kind != .delivered { outcome.error = "HTTP \(status) \(response.status.reasonPhrase)" }
            case .failure(let error):
                outcome.error = Self.describe(error, timeout: timeout)
            }
            report(outcome)
        }
    }

    /// Reports an outcome to andond (off the event loop); tried a few times, then left to the lease (a resend).
    func report(_ report: DeliveryReport) {
        var cleaned = report
        cleaned.error = report.error.map(Self.printable)
        let report = cleaned
        reports.async { [reporting] in
            for attempt in 1...5 {
                if let reply = try? reporting.send(.report(report)) {
                    if case .error(let error) = reply, error.code != .storageFailing {
                        Self.log("andond did not take the report of delivery \(report.id): \(error.reason)")
                    }
                    if case .ok = reply { return }
                    if case .error(let error) = reply, error.code != .storageFailing { return }
                }
                Thread.sleep(forTimeInterval: Double(attempt) * 0.5)
            }
            Self.log("could not report delivery \(report.id) to andond; it is sent again once its lease lapses")
        }
    }

    static func describe(_ error: any Error, timeout: Duration) -> String {
        if let error = error as? HTTPClientError {
            switch error {
            case .deadlineExceeded, .readTimeout, .connectTimeout: return "no answer within \(timeout)"
            case .remoteConnectionClosed: return "the receiver closed the connection"
            default: return "\(error)"
            }
        }
        if let error = error as? NIOConnectionError, let first = error.connectionErrors.first {
            return "cannot connect to \(error.host):\(error.port): \(first.error)"
        }
        return "\(error)"
    }

    /// Error texts go into a wire field and the journal: one line, printable, bounded.
    static func printable(_ text: String) -> String {
        String(
            String.UnicodeScalarView(
                text.unicodeScalars.map { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) ? " " : $0 }
            ).prefix(300)
        )
    }

    static func log(_ message: String) {
        FileHandle.standardError.write(Data("andon-notify: \(message)\n".utf8))
    }
}
