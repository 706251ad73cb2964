import AndonCore
import AndonProtocol
import AndonSystemd
import Foundation
import Synchronization

/// Where the delivery stage writes: the commit stage, which puts rows in its next transaction and runs `then` once
/// they are on disk.
protocol DeliveryRowWriter: AnyObject, Sendable {
    func write(deliveries: [Delivery], then: @escaping @Sendable () -> Void)
    /// Records that an acknowledge link's token was used (with the acknowledgement's batch, or the next).
    func write(usedToken delivery: Int64)
    /// Whether a change may wait in memory now (false while storage fails and as many inputs wait as may).
    func admits() -> Bool
}

/// The notification stage: the delivery outbox (`DeliveryQueue`) under its own lock, and the notifiers' claims.
///
/// Deliveries enter only once on disk (the commit stage creates them with the events' entries and hands them over
/// after the commit); andon-notify claims them over the UNIX socket (a long poll: a claim waits until one is due),
/// sends them and reports each outcome, which is written to disk before it is answered and journaled.
///
/// Lock order: this lock is a leaf. Replies, journal entries and row writes happen after it is released.
package final class DeliveryService: Sendable {
    struct Waiter: Sendable {
        var limit: Int
        var lease: Duration
        var until: Instant
        var reply: @Sendable (Reply) -> Void
    }

    struct TestRun: Sendable {
        var ids: Set<Int64>
        var results: [Int64: NotifyTestResult] = [:]
        var until: Instant
        var reply: @Sendable (Reply) -> Void
    }

    struct State: Sendable {
        var queue = DeliveryQueue()
        var waiters: [Waiter] = []
        var tests: [TestRun] = []
        var random = SystemRandomNumberGenerator()
        var nextTestID: Int64 = -1
        var lastExpiry = Instant(millisecondsSinceEpoch: 0)
        /// The deliveries whose acknowledge link was used (single use).
        var usedTokens: Set<Int64> = []
    }

    private let state: Mutex<State>
    let clock: any AndonClock
    let journal: any JournalSink
    /// Set once at start (the commit stage, which also hands deliveries here).
    private let writer = Mutex<(any DeliveryRowWriter)?>(nil)
    /// Escalates a call nobody was reached for (the escalation stage's `act`).
    private let escalate = Mutex<(@Sendable (IncidentID, String) -> Void)?>(nil)
    /// Wakes the waiting thread when a claim or a deadline comes in.
    private let wake = NSCondition()
    /// Guarded by `wake`: a wake-up came while the thread was not waiting.
    nonisolated(unsafe) private var woken = false
    private let exit = WorkerExit()
    private let closing = Atomic<Bool>(false)
    /// The web face's counters of attempts and failures (set once at start).
    private let metrics = Mutex<DaemonMetrics?>(nil)

    func attach(metrics: DaemonMetrics) { self.metrics.withLock { $0 = metrics } }

    /// Told when a call's notification failed for good (the boards mark the call at once).
    private let failedForGood = Mutex<(@Sendable (IncidentID) -> Void)?>(nil)

    func onFailedForGood(_ body: @escaping @Sendable (IncidentID) -> Void) { failedForGood.withLock { $0 = body } }

    /// The acknowledge links' key and how long a token is good for, as the configuration in force says (nil: no links).
    private let ackSettings = Mutex<(@Sendable () -> (key: [UInt8], validFor: Duration)?)?>(nil)

    init(clock: any AndonClock, journal: any JournalSink, restored: [Delivery], usedTokens: Set<Int64> = []) {
        var state = State()
        for delivery in restored { state.queue.add(delivery) }
        state.usedTokens = usedTokens
        self.state = Mutex(state)
        self.clock = clock
        self.journal = journal
    }

    func attach(
        writer: any DeliveryRowWriter,
        ack: @escaping @Sendable () -> (key: [UInt8], validFor: Duration)?,
        escalate: @escaping @Sendable (IncidentID, String) -> Void
    ) {
        self.writer.withLock { $0 = writer }
        self.escalate.withLock { $0 = escalate }
        self.ackSettings.withLock { $0 = ack }
    }

    // MARK: Acknowledge links

    /// Takes a token's single use: false when it was used already.
    func useToken(_ delivery: Int64) -> Bool { state.withLock { $0.usedTokens.insert(delivery).inserted } }

    /// Gives a use back: the acknowledgement was refused (the call ended, not this responder's).
    func releaseToken(_ delivery: Int64) { _ = state.withLock { $0.usedTokens.remove(delivery) } }

    /// The use is for good: on disk with the acknowledgement.
    func recordTokenUsed(_ delivery: Int64) { writer.withLock { $0 }?.write(usedToken: delivery) }

    /// The token a `call` to a responder carries, when the plant has acknowledge links.
    private func token(for delivery: Delivery, now: Instant) -> String? {
        guard delivery.id > 0, delivery.content.purpose == .call, case .responder(let responder) = delivery.recipient,
            let settings = ackSettings.withLock({ $0 })?()
        else { return nil }
        let expires = (now + settings.validFor).millisecondsSinceEpoch / 1000
        return AckToken(
            incident: delivery.content.incident,
            recipient: responder,
            expires: expires,
            delivery: delivery.id
        )
        .encoded(key: settings.key)
    }

    /// Deliveries pending now.
    package var pendingCount: Int { state.withLock { $0.queue.count } }

    /// The incidents with failed deliveries (status, board).
    package var incidentsWithFailures: Set<IncidentID> { state.withLock { $0.queue.incidentsWithFailures } }

    // MARK: From the commit stage

    /// Deliveries that reached the disk with their events: claimable from now on.
    func committed(_ deliveries: [Delivery]) {
        guard !deliveries.isEmpty else { return }
        let replies = state.withLock { state in
            for delivery in deliveries { state.queue.add(delivery) }
            return serve(&state, now: clock.now, expired: false)
        }
        for reply in replies { reply() }
    }

    // MARK: Requests

    func claim(limit: Int, wait: Duration, lease: Duration, reply: @escaping @Sendable (Reply) -> Void) {
        let now = clock.now
        let immediate: [DeliveryQueue.Claim]? = state.withLock { state in
            let claims = state.queue.claim(now: now, limit: limit, lease: lease)
            if !claims.isEmpty || wait <= .zero { return claims }
            state.waiters.append(Waiter(limit: limit, lease: lease, until: now + wait, reply: reply))
            return nil
        }
        if let immediate {
            reply(answer(immediate))
        } else {
            wakeThread()
        }
    }

    func report(_ report: DeliveryReport, reply: @escaping @Sendable (Reply) -> Void) {
        // While the state cannot be written and the inputs waiting for it fill their bound, an outcome waits no more
        // than a signal does: refused before it changes anything (andon-notify tries again; the lease covers it).
        if report.id > 0, writer.withLock({ $0 })?.admits() == false {
            reply(.error(.storageFailing(sequence: nil)))
            return
        }
        let now = clock.now
        let (reported, replies) = state.withLock { state -> (DeliveryQueue.Reported?, [@Sendable () -> Void]) in
            var jitter = Double.random(in: 0...1, using: &state.random)
            if report.id < 0 { jitter = 0 }
            guard
                let reported = state.queue.report(
                    id: report.id,
                    attempt: report.attempt,
                    outcome: report.deliveryOutcome,
                    now: now,
                    jitter: jitter
                )
            else { return (nil, []) }
            // The next delivery of its queue may be due now: a waiting claim gets it.
            return (reported, serve(&state, now: now, expired: false))
        }
        guard let reported else {
            reply(.error(WireError(.badValue, "delivery \(report.id) has no attempt \(report.attempt) in flight")))
            return
        }
        if reported.delivery.id > 0 {
            metrics.withLock { $0 }?.attempt(
                channel: reported.delivery.channel.channel.rawValue,
                report: report,
                gaveUp: reported.gaveUp
            )
        }
        if reported.delivery.id < 0 {
            // A test: nothing to keep on disk.
            finishTest(reported)
            reply(.ok(["delivery": String(report.id)]))
        } else {
            let row = reported.delivery
            writer.withLock { $0 }?.write(deliveries: [row]) { [self] in
                reply(.ok(["delivery": String(report.id)]))
                journalOutcome(reported, elapsed: report.elapsed, at: now)
            }
        }
        for reply in replies { reply() }
    }

    func listing(failedOnly: Bool) -> Reply {
        let (pending, failed) = state.withLock { ($0.queue.pendingInOrder, $0.queue.failures) }
        let listing = DeliveryListing(
            pending: failedOnly ? [] : pending.filter { $0.id > 0 }.map { DeliveryPayload($0) },
            failed: failed.filter { $0.id > 0 }.map { DeliveryPayload($0) }
        )
        return .ok(["json": Self.encode(listing)])
    }

    /// `notify-test`: one delivery per channel of the responder, not kept on disk; answered once each has an
    /// outcome (or after `wait`, with what came).
    func test(responder: Responder, plant: Plant, wait: Duration, reply: @escaping @Sendable (Reply) -> Void) {
        guard !responder.notify.isEmpty else {
            reply(.error(WireError(.badValue, "\(responder.id) has no notify: channels")))
            return
        }
        let now = clock.now
        let replies = state.withLock { state in
            var ids = Set<Int64>()
            for channel in responder.notify {
                let id = state.nextTestID
                state.nextTestID -= 1
                var delivery = Delivery(
                    id: id,
                    eventID: "test\(-id)-\(now.millisecondsSinceEpoch)",
                    recipient: .responder(responder.id),
                    channel: channel,
                    content: NotificationContent(testAt: now, recipient: responder.name, plant: plant),
                    createdAt: now,
                    giveUpAfter: wait
                )
                delivery.nextAt = now
                state.queue.add(delivery)
                ids.insert(id)
            }
            state.tests.append(TestRun(ids: ids, until: now + wait, reply: reply))
            return serve(&state, now: now, expired: false)
        }
        for reply in replies { reply() }
        wakeThread()
    }

    // MARK: Waiting

    /// Hands due deliveries to waiting claims; with `expired`, answers the claims whose wait is over (empty) and
    /// fails what nobody sent in time. Returns the replies to send once the lock is released.
    private func serve(_ state: inout State, now: Instant, expired: Bool) -> [@Sendable () -> Void] {
        var replies: [@Sendable () -> Void] = []
        var keep: [Waiter] = []
        for waiter in state.waiters {
            let claims = state.queue.claim(now: now, limit: waiter.limit, lease: waiter.lease)
            if !claims.isEmpty || waiter.until <= now {
                let answer = answer(claims)
                replies.append { waiter.reply(answer) }
            } else {
                keep.append(waiter)
            }
        }
        state.waiters = keep
        guard expired else { return replies }
        if now.duration(since: state.lastExpiry) >= .seconds(1) {
            state.lastExpiry = now
            for reported in state.queue.expire(now: now) {
                if reported.delivery.id < 0 {
                    replies.append { [self] in finishTest(reported) }
                } else {
                    replies.append { [self] in
                        metrics.withLock { $0 }?.gaveUp(channel: reported.delivery.channel.channel.rawValue)
                        writer.withLock { $0 }?.write(deliveries: [reported.delivery]) { [self] in
                            journalOutcome(reported, elapsed: nil, at: now)
                        }
                    }
                }
            }
        }
        var tests: [TestRun] = []
        for run in state.tests {
            if run.until <= now {
                let answer = Self.testAnswer(run)
                replies.append { run.reply(answer) }
            } else {
                tests.append(run)
            }
        }
        state.tests = tests
        return replies
    }

    private func finishTest(_ reported: DeliveryQueue.Reported) {
        let delivery = reported.delivery
        let result = NotifyTestResult(
            channel: delivery.channel.channel.rawValue,
            outcome: delivery.state.description,
            status: delivery.lastStatus,
            error: delivery.lastError,
            attempts: delivery.attempts
        )
        let done: (@Sendable () -> Void)? = state.withLock { state in
            guard let index = state.tests.firstIndex(where: { $0.ids.contains(delivery.id) }) else { return nil }
            state.tests[index].results[delivery.id] = result
            let run = state.tests[index]
            // A test is answered after its first attempt on each channel: an admin wants to know now.
            guard run.results.count == run.ids.count else { return nil }
            state.tests.remove(at: index)
            for id in run.ids {
                if let pending = state.queue.pending[id] { _ = state.queue.drop(pending.id) }
            }
            let answer = Self.testAnswer(run)
            return { run.reply(answer) }
        }
        done?()
    }

    private static func testAnswer(_ run: TestRun) -> Reply {
        .ok(["json": encode(run.results.sorted { $0.key > $1.key }.map(\.value))])
    }

    private func answer(_ claims: [DeliveryQueue.Claim]) -> Reply {
        let now = clock.now
        let payloads = claims.map { claim in
            DeliveryPayload(claim.delivery, attempt: claim.attempt, ackToken: token(for: claim.delivery, now: now))
        }
        return .ok(["json": Self.encode(payloads)])
    }

    static func encode(_ value: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return (try? String(decoding: encoder.encode(value), as: UTF8.self)) ?? "null"
    }

    // MARK: The journal

    private func journalOutcome(_ reported: DeliveryQueue.Reported, elapsed: Duration?, at now: Instant) {
        let delivery = reported.delivery
        for entry in NotificationEntries.entries(for: reported, at: now) { journal.submit(entry) }
        if delivery.state == .failed { failedForGood.withLock { $0 }?(delivery.content.incident) }
        if let incident = reported.nobodyReached {
            journal.submit(NotificationEntries.nobodyReached(delivery, incident: incident))
            escalate.withLock { $0 }?(incident, "nobody was reached: every notification of the call failed")
        }
    }

    // MARK: The thread

    func start() {
        let thread = Thread { [self] in run() }
        thread.name = "andond-notify"
        thread.start()
    }

    func finish() async {
        closing.store(true, ordering: .relaxed)
        wakeThread()
        await exit.wait()
    }

    private func wakeThread() {
        wake.lock()
        woken = true
        wake.signal()
        wake.unlock()
    }

    /// One pass at `now`: waiting claims answered or served, expiry. The thread calls it; tests call it directly.
    func poll() {
        let now = clock.now
        let replies = state.withLock { serve(&$0, now: now, expired: true) }
        for reply in replies { reply() }
    }

    private func run() {
        while !closing.load(ordering: .relaxed) {
            poll()
            let now = clock.now
            // Sleeps until a claim's wait ends, a retry falls due for a waiting claim, or something nobody claimed is
            // to be given up; an idle andond does not wake.
            let next = state.withLock { state -> Instant in
                var next = now + .seconds(3600)
                for waiter in state.waiters { next = min(next, waiter.until) }
                for run in state.tests { next = min(next, run.until) }
                if !state.waiters.isEmpty, let due = state.queue.nextDue(after: now) { next = min(next, due) }
                if let expiry = state.queue.nextExpiry { next = min(next, max(expiry, state.lastExpiry + .seconds(1))) }
                return next
            }
            wake.lock()
            if !closing.load(ordering: .relaxed) && !woken {
                _ = wake.wait(for: max(next.duration(since: now), .milliseconds(1)))
            }
            woken = false
            wake.unlock()
        }
        let replies = state.withLock { state -> [@Sendable () -> Void] in
            let waiters = state.waiters
            state.waiters = []
            return waiters.map { waiter in { waiter.reply(.ok(["json": "[]"])) } }
        }
        for reply in replies { reply() }
        exit.finished()
    }
}
