import Testing

@testable import AndonCore

/// The delivery outbox as a state machine, under exact instants: order per channel and recipient, leases, retries
/// and their backoff, `Retry-After`, give-up, and "nobody reached".
@Suite struct DeliveryQueueTests {
    let t0 = Instant(millisecondsSinceEpoch: 1_800_000_000_000)
    let lease = Duration.seconds(30)

    func content(_ incident: UInt64 = 7, purpose: NotifyPurpose = .call) -> NotificationContent {
        var content = NotificationContent(testAt: t0, recipient: "Ben", plant: TestPlant.make())
        content.incident = IncidentID(incident)
        content.purpose = purpose
        return content
    }

    func delivery(
        _ id: Int64,
        event: String = "s-1",
        to recipient: Recipient = .responder("a"),
        channel: ChannelID = "pager",
        purpose: NotifyPurpose = .call,
        giveUpAfter: Duration = .seconds(3600)
    ) -> Delivery {
        Delivery(
            id: id,
            eventID: event,
            recipient: recipient,
            channel: ChannelRef(channel: channel),
            content: content(purpose: purpose),
            createdAt: t0,
            giveUpAfter: giveUpAfter
        )
    }

    @Test func oneChannelAndRecipientGoInOrderOneAtATimeOthersAlongside() {
        var queue = DeliveryQueue()
        queue.add(delivery(1))
        queue.add(delivery(2, event: "s-2"))
        queue.add(delivery(3, to: .responder("b")))
        queue.add(delivery(4, channel: "sms"))
        let first = queue.claim(now: t0, limit: 10, lease: lease)
        #expect(first.map(\.delivery.id) == [1, 3, 4])
        #expect(first.allSatisfy { $0.attempt == 1 })
        // The head is in flight: nothing more from its queue, even with room.
        #expect(queue.claim(now: t0, limit: 10, lease: lease).isEmpty)
        let reported = queue.report(
            id: 1,
            attempt: 1,
            outcome: .delivered(status: 200),
            now: t0 + .milliseconds(5),
            jitter: 0
        )
        #expect(reported?.delivery.state == .delivered)
        #expect(queue.claim(now: t0 + .milliseconds(5), limit: 10, lease: lease).map(\.delivery.id) == [2])
    }

    @Test func aLapsedLeaseReturnsTheSameAttemptAndTheLateReportIsRefused() {
        var queue = DeliveryQueue()
        queue.add(delivery(1))
        #expect(queue.claim(now: t0, limit: 1, lease: lease).map(\.attempt) == [1])
        #expect(queue.claim(now: t0 + lease - .milliseconds(1), limit: 1, lease: lease).isEmpty)
        #expect(queue.nextDue(after: t0) == t0 + lease)
        // The notifier died: its claim returns, as the same attempt (the receiver sees the same key).
        let again = queue.claim(now: t0 + lease, limit: 1, lease: lease)
        #expect(again.map(\.attempt) == [1])
        #expect(queue.report(id: 1, attempt: 1, outcome: .delivered(status: 204), now: t0 + lease, jitter: 0) != nil)
        // The first notifier's late report of the same attempt changes nothing.
        #expect(
            queue.report(id: 1, attempt: 1, outcome: .failed(status: 400, error: "x"), now: t0 + lease, jitter: 0)
                == nil
        )
    }

    @Test func retriesBackOffDoublingToTheCapWithJitterAndHonourRetryAfter() {
        let backoff = Backoff()
        #expect(backoff.delay(afterAttempts: 1, jitter: 0) == .milliseconds(500))
        #expect(backoff.delay(afterAttempts: 1, jitter: 1) == .seconds(1))
        #expect(backoff.delay(afterAttempts: 4, jitter: 1) == .seconds(8))
        #expect(backoff.delay(afterAttempts: 7, jitter: 1) == .seconds(60))
        #expect(backoff.delay(afterAttempts: 40, jitter: 0.5) == .seconds(45))

        var queue = DeliveryQueue()
        queue.add(delivery(1))
        var now = t0
        _ = queue.claim(now: now, limit: 1, lease: lease)
        var reported = queue.report(
            id: 1,
            attempt: 1,
            outcome: .retry(status: 503, error: "HTTP 503", retryAfter: nil),
            now: now,
            jitter: 1
        )
        #expect(reported?.delivery.state == .pending)
        #expect(reported?.delivery.nextAt == now + .seconds(1))
        #expect(queue.claim(now: now + .milliseconds(999), limit: 1, lease: lease).isEmpty)
        now += .seconds(1)
        #expect(queue.claim(now: now, limit: 1, lease: lease).map(\.attempt) == [2])
        reported = queue.report(
            id: 1,
            attempt: 2,
            outcome: .retry(status: 429, error: "HTTP 429", retryAfter: .seconds(17)),
            now: now,
            jitter: 0
        )
        #expect(reported?.delivery.nextAt == now + .seconds(17))
        #expect(reported?.delivery.attempts == 2)
        #expect(reported?.delivery.lastStatus == 429)
    }

    @Test func anotherClientErrorFailsAtOnceAndARetryPastGiveUpFailsLoudly() {
        var queue = DeliveryQueue()
        queue.add(delivery(1))
        queue.add(delivery(2, to: .responder("b"), giveUpAfter: .seconds(10)))
        _ = queue.claim(now: t0, limit: 2, lease: lease)
        let refused = queue.report(
            id: 1,
            attempt: 1,
            outcome: .failed(status: 400, error: "HTTP 400"),
            now: t0,
            jitter: 0
        )
        #expect(refused?.delivery.state == .failed)
        #expect(refused?.gaveUp == false)
        // A retry never waits past the give-up instant: the last attempt is at it.
        let retried = queue.report(
            id: 2,
            attempt: 1,
            outcome: .retry(status: nil, error: "refused", retryAfter: .seconds(3600)),
            now: t0,
            jitter: 0
        )
        #expect(retried?.delivery.nextAt == t0 + .seconds(10))
        _ = queue.claim(now: t0 + .seconds(10), limit: 2, lease: lease)
        let last = queue.report(
            id: 2,
            attempt: 2,
            outcome: .retry(status: 500, error: "HTTP 500", retryAfter: nil),
            now: t0 + .seconds(10),
            jitter: 0
        )
        #expect(last?.delivery.state == .failed)
        #expect(last?.gaveUp == true)
        #expect(queue.isEmpty)
        #expect(queue.failures.map(\.id) == [1, 2])
    }

    @Test func nobodyIsReachedOnlyWhenEveryCallDeliveryOfTheEventFailed() {
        var queue = DeliveryQueue()
        queue.add(delivery(1, event: "s-1"))
        queue.add(delivery(2, event: "s-1", channel: "sms"))
        queue.add(delivery(3, event: "s-1", to: .line("L1"), channel: "tower", purpose: .update))
        queue.add(delivery(4, event: "s-2", to: .responder("b")))
        queue.add(delivery(5, event: "s-2", to: .responder("c")))
        _ = queue.claim(now: t0, limit: 10, lease: lease)
        let fail = DeliveryOutcome.failed(status: 404, error: "HTTP 404")
        #expect(queue.report(id: 1, attempt: 1, outcome: fail, now: t0, jitter: 0)?.nobodyReached == nil)
        // A line's update is no call: it neither reaches nor fails to reach anyone.
        #expect(
            queue.report(id: 3, attempt: 1, outcome: .delivered(status: 200), now: t0, jitter: 0)?.nobodyReached == nil
        )
        #expect(queue.report(id: 2, attempt: 1, outcome: fail, now: t0, jitter: 0)?.nobodyReached == IncidentID(7))
        // One of two reached: someone knows.
        #expect(
            queue.report(id: 4, attempt: 1, outcome: .delivered(status: 200), now: t0, jitter: 0)?.nobodyReached == nil
        )
        #expect(queue.report(id: 5, attempt: 1, outcome: fail, now: t0, jitter: 0)?.nobodyReached == nil)
    }

    @Test func aRestoredRoundCountsItsEndedDeliveries() {
        var queue = DeliveryQueue()
        var delivered = delivery(1, event: "s-1")
        delivered.state = .delivered
        queue.add(delivered)
        queue.add(delivery(2, event: "s-1", channel: "sms"))
        _ = queue.claim(now: t0, limit: 10, lease: lease)
        let failed = queue.report(id: 2, attempt: 1, outcome: .failed(status: 410, error: "gone"), now: t0, jitter: 0)
        #expect(failed?.nobodyReached == nil)
    }

    @Test func whatNobodyClaimedIsGivenUpAfterItsTimeAndAGrace() {
        var queue = DeliveryQueue()
        queue.add(delivery(1, giveUpAfter: .seconds(60)))
        #expect(queue.expire(now: t0 + .seconds(119)).isEmpty)
        let expired = queue.expire(now: t0 + .seconds(120))
        #expect(expired.map(\.delivery.id) == [1])
        #expect(expired.first?.gaveUp == true)
        #expect(expired.first?.nobodyReached == IncidentID(7))
        #expect(queue.isEmpty)
    }
}

/// Whom an event notifies, through which channels.
@Suite struct NotificationPlanTests {
    let t0 = TestPlant.local("2026-11-25 10:00")

    func plant() -> Plant {
        var plant = TestPlant.make()
        plant.channels = ["pager": ChannelPolicy(), "sms": ChannelPolicy(), "tower": ChannelPolicy()]
        plant.responders["a"]?.notify = [
            ChannelRef(channel: "pager", parameters: ["topic": "a-1"]), ChannelRef(channel: "sms"),
        ]
        plant.responders["g"]?.notify = [ChannelRef(channel: "pager")]
        plant.lines["L1"]?.notify = [ChannelRef(channel: "tower")]
        return plant
    }

    @Test func aCallReachesEachChannelOfEachRespondersAndTheLine() throws {
        let plant = plant()
        var engine = EscalationEngine(plant: plant, startingAt: t0)
        let raised = engine.receive(.andon(line: "L1", station: "S3", category: .help, text: nil), at: t0)
        let id = try #require(raised.incident)
        let intents = raised.events.flatMap { NotificationPlan.intents(for: $0, plant: plant) }
        #expect(
            intents.map { "\($0.recipient)/\($0.channel.channel)/\($0.purpose)" } == [
                "a/pager/call", "a/sms/call", "line:L1/tower/update",
            ]
        )
        #expect(intents[0].channel.parameters == ["topic": "a-1"])
        // Escalated to g; then g acknowledges: a hears it was taken, g (who took it) does not.
        let escalated = engine.advance(to: t0 + .seconds(180))
        #expect(
            escalated.flatMap { NotificationPlan.intents(for: $0, plant: plant) }.filter { $0.purpose == .call }
                .map(\.recipient) == [.responder("g")]
        )
        let ack = engine.acknowledge(id, by: .responder("g"), at: t0 + .seconds(200)).events
        #expect(
            ack.flatMap { NotificationPlan.intents(for: $0, plant: plant) }.map { "\($0.recipient)/\($0.purpose)" } == [
                "a/taken", "a/taken", "line:L1/update",
            ]
        )
        let resolved = engine.resolve(id, by: .responder("g"), note: "fixed", at: t0 + .seconds(300)).events
        #expect(
            resolved.flatMap { NotificationPlan.intents(for: $0, plant: plant) }.map { "\($0.recipient)/\($0.purpose)" }
                == [
                    "a/ended", "a/ended", "line:L1/update",
                ]
        )
    }

    @Test func aSafetyCallReachesEveryTierAtOnce() throws {
        var plant = TestPlant.make(pageEveryone: [.safety])
        plant.channels = ["pager": ChannelPolicy()]
        for id in plant.responders.keys { plant.responders[id]?.notify = [ChannelRef(channel: "pager")] }
        var engine = EscalationEngine(plant: plant, startingAt: t0)
        let raised = engine.receive(.andon(line: "L1", station: "S3", category: .safety, text: "guard open"), at: t0)
        let called = Set(
            raised.events.flatMap { NotificationPlan.intents(for: $0, plant: plant) }.filter { $0.purpose == .call }
                .map(\.recipient)
        )
        // Every responder the engine called, through their channel, in the same instant: team leader to KPO.
        let named = Set(raised.events.filter(\.kind.notifies).flatMap(\.responders).map(Recipient.responder))
        #expect(called == named)
        #expect(called.contains(.responder("a")))
        #expect(called.contains(.responder("g")))
        #expect(called.count >= 3)
    }

    @Test func aPlantWithoutChannelsNotifiesNobody() {
        let plant = TestPlant.make()
        var engine = EscalationEngine(plant: plant, startingAt: t0)
        let raised = engine.receive(.andon(line: "L1", station: "S3", category: .help, text: nil), at: t0)
        #expect(raised.events.flatMap { NotificationPlan.intents(for: $0, plant: plant) }.isEmpty)
    }
}
