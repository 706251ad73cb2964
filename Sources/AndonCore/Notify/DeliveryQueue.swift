/// The delivery outbox as a state machine: which deliveries may be attempted now, and what an attempt's outcome
/// changes. A value under an injected clock (every call takes `now`); andond keeps it under a lock and writes every
/// change it returns to the store before it answers.
///
/// - Order: deliveries of one channel to one recipient go one at a time, oldest first; only a queue's head can be
///   claimed, so a hanging endpoint holds back its own queue and no other.
/// - Claims are leases: a claim not reported within its lease returns to the queue (the same attempt number), so
///   a notifier that died loses nothing, and its receiver gets at most one duplicate with the same key.
/// - Retries: 408, 429, 5xx, timeouts and refused connections wait (`Backoff`, or the receiver's `Retry-After`) and
///   are tried again until `giveUpAt`; other 4xx fail at once.
/// - When every `call` delivery of an event failed, nobody was reached: `Reported.nobodyReached` names the call.
public struct DeliveryQueue: Sendable {
    /// Pending deliveries by id.
    public private(set) var pending: [Int64: Delivery] = [:]
    /// Failed deliveries, newest last, at most `keptFailures` (for `andonctl deliveries --failed`).
    public private(set) var failures: [Delivery] = []
    public var keptFailures = 1000
    private var queues: [DeliveryQueueKey: [Int64]] = [:]
    private var claims: [Int64: Instant] = [:]
    /// The `call` deliveries of each event that called someone: how many, and how many ended how.
    private var rounds: [String: Round] = [:]
    public var backoff = Backoff()
    /// A pending delivery nobody claimed this long after its give-up instant is failed by `expire`.
    public var unclaimedGrace: Duration = .seconds(60)

    struct Round: Sendable {
        var incident: IncidentID
        var open = 0
        var delivered = 0
        var failed = 0
    }

    public init() {}

    /// A claimed delivery: what to send, and which attempt this is (reported back with the outcome).
    public struct Claim: Sendable, Hashable {
        public var delivery: Delivery
        public var attempt: Int
    }

    /// What a reported outcome did.
    public struct Reported: Sendable, Hashable {
        /// The delivery after the report (its row, to store).
        public var delivery: Delivery
        public var outcome: DeliveryOutcome
        /// The attempt reported.
        public var attempt: Int
        /// A retry that ran out of time: failed now.
        public var gaveUp: Bool
        /// Every `call` delivery of the event failed: this call reached nobody.
        public var nobodyReached: IncidentID?
    }

    public var isEmpty: Bool { pending.isEmpty }
    public var count: Int { pending.count }

    /// Adds a delivery (created by an event, or restored from the store with its progress). Ended ones count only
    /// for their event's round.
    public mutating func add(_ delivery: Delivery) {
        if delivery.content.purpose == .call {
            rounds[delivery.eventID, default: Round(incident: delivery.content.incident)].count(delivery.state)
        }
        switch delivery.state {
        case .pending:
            pending[delivery.id] = delivery
            var queue = queues[delivery.queue, default: []]
            if delivery.id < 0 {
                // A test (`notify-test`, numbered below zero): behind what the queue holds, as a notification would be.
                queue.append(delivery.id)
            } else {
                let index = queue.lastIndex { $0 > 0 && $0 < delivery.id }.map { $0 + 1 } ?? 0
                queue.insert(delivery.id, at: index)
            }
            queues[delivery.queue] = queue
        case .failed:
            keep(failure: delivery)
        case .delivered:
            break
        }
    }

    /// The heads of the queues that are due at `now` and not claimed (or whose claim lapsed), oldest first, at most
    /// `limit`; each is claimed until `now + lease`.
    public mutating func claim(now: Instant, limit: Int, lease: Duration) -> [Claim] {
        var heads: [Int64] = []
        for (_, queue) in queues {
            guard let head = queue.first, let delivery = pending[head], delivery.nextAt <= now else { continue }
            if let until = claims[head], until > now { continue }
            heads.append(head)
        }
        heads.sort()
        return heads.prefix(max(limit, 0)).map { id in
            claims[id] = now + lease
            let delivery = pending[id]!
            return Claim(delivery: delivery, attempt: delivery.attempts + 1)
        }
    }

    /// When the next delivery becomes claimable (a backoff ends, a lease lapses), or nil when none waits for time.
    public func nextDue(after now: Instant) -> Instant? {
        var next: Instant?
        for (_, queue) in queues {
            guard let head = queue.first, let delivery = pending[head] else { continue }
            var at = delivery.nextAt
            if let until = claims[head], until > now { at = max(at, until) }
            next = next.map { min($0, at) } ?? at
        }
        return next
    }

    /// When `expire` will next fail something nobody claimed, or nil.
    public var nextExpiry: Instant? {
        pending.values.lazy.filter { self.claims[$0.id] == nil }.map { $0.giveUpAt + self.unclaimedGrace }.min()
    }

    /// Records the outcome of attempt `attempt` of delivery `id`; nil when that attempt is not the one in flight
    /// (reported twice, or after a lapsed lease let another notifier report it first).
    public mutating func report(
        id: Int64,
        attempt: Int,
        outcome: DeliveryOutcome,
        now: Instant,
        jitter: Double
    ) -> Reported? {
        guard var delivery = pending[id], attempt == delivery.attempts + 1 else { return nil }
        claims[id] = nil
        delivery.attempts = attempt
        delivery.lastStatus = outcome.status
        var gaveUp = false
        switch outcome {
        case .delivered:
            delivery.lastError = nil
            delivery.state = .delivered
        case .failed(_, let error):
            delivery.lastError = error
            delivery.state = .failed
        case .retry(_, let error, let retryAfter):
            delivery.lastError = error
            if now >= delivery.giveUpAt {
                delivery.state = .failed
                gaveUp = true
            } else {
                let wait = retryAfter ?? backoff.delay(afterAttempts: attempt, jitter: jitter)
                delivery.nextAt = min(now + max(wait, .zero), delivery.giveUpAt)
            }
        }
        return Reported(
            delivery: delivery,
            outcome: outcome,
            attempt: attempt,
            gaveUp: gaveUp,
            nobodyReached: settle(delivery, at: now)
        )
    }

    /// Fails the deliveries nobody attempted in time (no notifier running): each is given up, loudly.
    public mutating func expire(now: Instant) -> [Reported] {
        let due = pending.values.filter { now >= $0.giveUpAt + unclaimedGrace && (claims[$0.id] ?? now) <= now }
        return due.sorted { $0.id < $1.id }.map { stale in
            claims[stale.id] = nil
            var delivery = stale
            delivery.state = .failed
            delivery.lastError = "nothing sent it before it was given up: is andon-notify running?"
            let outcome = DeliveryOutcome.failed(status: nil, error: delivery.lastError!)
            return Reported(
                delivery: delivery,
                outcome: outcome,
                attempt: delivery.attempts,
                gaveUp: true,
                nobodyReached: settle(delivery, at: now)
            )
        }
    }

    /// Takes a delivery that ended out of its queue; returns the call it leaves unreached, if any.
    private mutating func settle(_ delivery: Delivery, at now: Instant) -> IncidentID? {
        guard delivery.state != .pending else {
            pending[delivery.id] = delivery
            return nil
        }
        var ended = delivery
        ended.endedAt = now
        pending[delivery.id] = nil
        queues[delivery.queue]?.removeAll { $0 == delivery.id }
        if queues[delivery.queue]?.isEmpty == true { queues[delivery.queue] = nil }
        if delivery.state == .failed { keep(failure: ended) }
        guard delivery.content.purpose == .call, var round = rounds[delivery.eventID] else { return nil }
        round.open -= 1
        if delivery.state == .delivered { round.delivered += 1 } else { round.failed += 1 }
        guard round.open <= 0 else {
            rounds[delivery.eventID] = round
            return nil
        }
        rounds[delivery.eventID] = nil
        return round.delivered == 0 ? round.incident : nil
    }

    private mutating func keep(failure: Delivery) {
        failures.append(failure)
        if failures.count > keptFailures { failures.removeFirst(failures.count - keptFailures) }
    }

    /// Takes a pending delivery out without an outcome (a test that was answered).
    public mutating func drop(_ id: Int64) -> Delivery? {
        guard let delivery = pending.removeValue(forKey: id) else { return nil }
        claims[id] = nil
        queues[delivery.queue]?.removeAll { $0 == id }
        if queues[delivery.queue]?.isEmpty == true { queues[delivery.queue] = nil }
        return delivery
    }

    /// The pending deliveries, oldest first.
    public var pendingInOrder: [Delivery] { pending.values.sorted { $0.id < $1.id } }

    /// The incidents with a failed delivery among the kept failures.
    public var incidentsWithFailures: Set<IncidentID> { Set(failures.map(\.content.incident)) }
}

extension DeliveryQueue.Round {
    mutating func count(_ state: Delivery.State) {
        switch state {
        case .pending: open += 1
        case .delivered: delivered += 1
        case .failed: failed += 1
        }
    }
}
