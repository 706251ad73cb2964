import AndonCore

/// andon-notify's report of one attempt (`report id=... attempt=... outcome=...`).
public struct DeliveryReport: Sendable, Hashable {
    public enum Outcome: String, Sendable, Hashable {
        case delivered, retry, failed
    }

    public var id: Int64
    public var attempt: Int
    public var outcome: Outcome
    public var status: Int?
    public var retryAfter: Duration?
    public var error: String?
    /// How long the attempt took.
    public var elapsed: Duration?

    public init(
        id: Int64,
        attempt: Int,
        outcome: Outcome,
        status: Int? = nil,
        retryAfter: Duration? = nil,
        error: String? = nil,
        elapsed: Duration? = nil
    ) {
        self.id = id
        self.attempt = attempt
        self.outcome = outcome
        self.status = status
        self.retryAfter = retryAfter
        self.error = error
        self.elapsed = elapsed
    }

    /// The core's form of the outcome.
    public var deliveryOutcome: DeliveryOutcome {
        switch outcome {
        case .delivered: .delivered(status: status ?? 200)
        case .retry:
            .retry(status: status, error: error ?? "HTTP \(status.map(String.init) ?? "?")", retryAfter: retryAfter)
        case .failed: .failed(status: status, error: error ?? "HTTP \(status.map(String.init) ?? "?")")
        }
    }
}

/// One delivery as `claim` hands it to andon-notify (the reply's `json=`, an array of these) and as `deliveries`
/// lists it. Encoded by andond, decoded by andon-notify and andonctl: this type is the contract.
public struct DeliveryPayload: Sendable, Hashable, Codable {
    public var id: Int64
    /// The attempt this claim is for (report it back).
    public var attempt: Int
    /// The `Idempotency-Key` header.
    public var key: String
    public var eventID: String
    public var recipient: String
    public var channel: String
    public var parameters: [String: String]
    public var content: NotificationContent
    public var createdAtMs: Int64
    public var giveUpAtMs: Int64
    public var nextAtMs: Int64
    public var state: String
    public var attempts: Int
    public var lastStatus: Int?
    public var lastError: String?
    /// The acknowledge link's token for a `call` to a responder, when the plant has `notify.ack_url`.
    public var ackToken: String?

    public init(_ delivery: Delivery, attempt: Int? = nil, ackToken: String? = nil) {
        id = delivery.id
        self.attempt = attempt ?? delivery.attempts + 1
        key = delivery.idempotencyKey
        eventID = delivery.eventID
        recipient = delivery.recipient.description
        channel = delivery.channel.channel.rawValue
        parameters = delivery.channel.parameters
        content = delivery.content
        createdAtMs = delivery.createdAt.millisecondsSinceEpoch
        giveUpAtMs = delivery.giveUpAt.millisecondsSinceEpoch
        nextAtMs = delivery.nextAt.millisecondsSinceEpoch
        state = delivery.state.description
        attempts = delivery.attempts
        lastStatus = delivery.lastStatus
        lastError = delivery.lastError
        self.ackToken = ackToken
    }
}

/// `deliveries`' answer.
public struct DeliveryListing: Sendable, Hashable, Codable {
    public var pending: [DeliveryPayload]
    public var failed: [DeliveryPayload]

    public init(pending: [DeliveryPayload], failed: [DeliveryPayload]) {
        self.pending = pending
        self.failed = failed
    }
}

/// `notify-test`'s answer: each channel's outcome.
public struct NotifyTestResult: Sendable, Hashable, Codable {
    public var channel: String
    /// `Delivery.State`'s name after the one attempt: delivered, failed (refused), or pending (it would be retried).
    public var outcome: String
    public var status: Int?
    public var error: String?
    public var attempts: Int

    public init(channel: String, outcome: String, status: Int?, error: String?, attempts: Int) {
        self.channel = channel
        self.outcome = outcome
        self.status = status
        self.error = error
        self.attempts = attempts
    }
}
