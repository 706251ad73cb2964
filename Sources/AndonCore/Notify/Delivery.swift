/// One notification to one recipient through one channel: the durable outbox's row. Created in the same transaction
/// as the input whose event caused it; retried until delivered or given up.
public struct Delivery: Sendable, Hashable {
    public enum State: Int, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
        /// Waiting for its next attempt (or being attempted: `claimedUntil`).
        case pending = 0
        case delivered = 1
        /// Refused by the receiver (a 4xx other than 408 and 429), or given up after `give_up_after`.
        case failed = 2

        /// Its name in the journal (`ANDON_DELIVERY_STATE`), `deliveries` and reports: written and read as this.
        public var description: String {
            switch self {
            case .pending: "pending"
            case .delivered: "delivered"
            case .failed: "failed"
            }
        }

        public init?(name: String) {
            guard let state = Self.allCases.first(where: { $0.description == name }) else { return nil }
            self = state
        }
    }

    /// The outbox's number: increasing in the order the deliveries were created.
    public var id: Int64
    /// The journal's `ANDON_EVENT_ID` of the event that caused it.
    public var eventID: String
    public var recipient: Recipient
    public var channel: ChannelRef
    public var content: NotificationContent
    /// When it was created (the event's instant); it is given up this long after.
    public var createdAt: Instant
    public var giveUpAt: Instant
    public var state: State = .pending
    /// Attempts reported so far.
    public var attempts = 0
    /// Not before this instant (backoff, `Retry-After`).
    public var nextAt: Instant
    /// The last attempt's HTTP status and error, when any.
    public var lastStatus: Int?
    public var lastError: String?
    /// When it was delivered or failed.
    public var endedAt: Instant?

    public init(
        id: Int64,
        eventID: String,
        recipient: Recipient,
        channel: ChannelRef,
        content: NotificationContent,
        createdAt: Instant,
        giveUpAfter: Duration
    ) {
        self.id = id
        self.eventID = eventID
        self.recipient = recipient
        self.channel = channel
        self.content = content
        self.createdAt = createdAt
        self.giveUpAt = createdAt + giveUpAfter
        self.nextAt = createdAt
    }

    /// The `Idempotency-Key` header: the event and the recipient. A retry, and a resend after a crash, carry the same.
    public var idempotencyKey: String { "\(eventID):\(recipient)" }

    /// The queue it waits in: deliveries of one channel to one recipient are sent in order, one at a time.
    public var queue: DeliveryQueueKey { DeliveryQueueKey(channel: channel.channel, recipient: recipient) }
}

public struct DeliveryQueueKey: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var channel: ChannelID
    public var recipient: Recipient

    public var description: String { "\(channel)/\(recipient)" }

    public static func < (lhs: DeliveryQueueKey, rhs: DeliveryQueueKey) -> Bool {
        (lhs.channel, lhs.recipient.description) < (rhs.channel, rhs.recipient.description)
    }
}

/// What andon-notify reports of one attempt.
public enum DeliveryOutcome: Sendable, Hashable {
    /// A 2xx.
    case delivered(status: Int)
    /// 408, 429, 5xx, a timeout, a refused connection: tried again later (`retryAfter` from the receiver).
    case retry(status: Int?, error: String, retryAfter: Duration?)
    /// Another 4xx, or a delivery that cannot be sent at all (an unknown channel after a reload): failed at once.
    case failed(status: Int?, error: String)

    public var status: Int? {
        switch self {
        case .delivered(let status): status
        case .retry(let status, _, _), .failed(let status, _): status
        }
    }
}

/// Exponential backoff with jitter: 1 s doubling per failed attempt, capped at 60 s; the jitter spreads each wait
/// over its upper half, so that receivers coming back are not hit by every sender at once.
public struct Backoff: Sendable, Hashable {
    public var first: Duration = .seconds(1)
    public var cap: Duration = .seconds(60)

    public init() {}

    /// The wait after `attempts` failed attempts; `jitter` in 0...1 (0: half the step, 1: the whole step).
    public func delay(afterAttempts attempts: Int, jitter: Double) -> Duration {
        let doublings = min(max(attempts - 1, 0), 16)
        let step = min(first.milliseconds << Int64(doublings), cap.milliseconds)
        let spread = Double(step) / 2 * min(max(jitter, 0), 1)
        return .milliseconds(step / 2 + Int64(spread.rounded()))
    }
}
