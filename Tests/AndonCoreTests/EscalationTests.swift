import Testing

@testable import AndonCore

/// Escalation under a manual clock: every instant is exact, nothing sleeps.
@Suite struct EscalationTests {
    let plant = TestPlant.make()
    /// Wednesday 2026-11-25 10:00 CET: early shift, KPO week of k2.
    let t0 = TestPlant.local("2026-11-25 10:00")

    @Test func raisedNamesTheFirstTierAndItsResponders() throws {
        var engine = EscalationEngine(plant: plant, startingAt: t0)
        let outcome = engine.receive(
            .andon(line: "L1", station: "S3", category: .help, text: "jam"),
            at: t0,
            origin: SignalOrigin(source: "127.0.0.1:9", sequence: 7)
        )
        let id = try #require(outcome.incident)
        #expect(outcome.events.kinds == [.raised])
        let raised = try #require(outcome.events.first)
        #expect(raised.at == t0)
        #expect(raised.tier?.name == "team-leader")
        #expect(raised.tier?.rota == "tl")
        #expect(raised.tier?.number == 1)
        #expect(raised.responders == ["a"])
        #expect(raised.incidentKind == .andon)
        #expect(raised.category == .help)
        #expect(raised.reason == "jam")
        #expect(raised.origin?.sequence == 7)
        #expect(raised.severity == .warning)
        #expect(engine.nextDeadline == t0 + .minutes(3))
        #expect(engine.incident(id)?.responders == ["a"])
    }

    @Test func escalatesExactlyAtAckWithin() throws {
        var engine = EscalationEngine(plant: plant, startingAt: t0)
        let id = try #require(
            engine.receive(.andon(line: "L1", station: "S3", category: .help, text: nil), at: t0).incident
        )
        let deadline = t0 + .minutes(3)
        #expect(engine.advance(to: deadline - .milliseconds(1)).kinds == [])
        let events = engine.advance(to: deadline)
        #expect(events.kinds == [.escalated])
        #expect(events[0].at == deadline)
        #expect(events[0].incident == id)
        #expect(events[0].tier?.name == "gl")
        #expect(events[0].responders == ["g"])
        #expect(events[0].waited == .minutes(3))
        #expect(events[0].elapsed == .minutes(3))
        #expect(engine.nextDeadline == deadline + .minutes(5))
    }

    @Test func aLateAdvanceStampsEventsAtTheirDeadlines() throws {
        var engine = EscalationEngine(plant: plant, startingAt: t0)
        _ = engine.receive(.andon(line: "L1", station: "S3", category: .help, text: nil), at: t0)
        // One call, 30 minutes later: escalation at +3m, KPO at +8m, unanswered at +18m, +23m, +28m.
        let events = engine.advance(to: t0 + .minutes(30))
        #expect(events.kinds == [.escalated, .escalated, .unanswered, .unanswered, .unanswered])
        #expect(events.map(\.at) == [3, 8, 18, 23, 28].map { t0 + .minutes($0) })
        #expect(events.compactMap(\.count) == [1, 2, 3])
        #expect(engine.now == t0 + .minutes(30))
        #expect(engine.nextDeadline == t0 + .minutes(33))
    }

    @Test func anEmptyTierIsSkippedAtTheSameInstant() throws {
        // 21:58: late shift (b, g). At 22:00 the night's c takes the call over from b; it escalates at 22:01 (the
        // deadline did not restart), on the night shift, where gl has nobody.
        let start = TestPlant.local("2026-11-25 21:58")
        var engine = EscalationEngine(plant: plant, startingAt: start)
        _ = engine.receive(.andon(line: "L1", station: "S1", category: .help, text: nil), at: start)
        var events = engine.advance(to: start + .minutes(3))
        // The tier passed comes before the tier reached.
        #expect(events.kinds == [.handedOver, .skipped, .escalated])
        #expect(events[0].at == TestPlant.local("2026-11-25 22:00"))
        #expect(events[0].previous == ["b"])
        #expect(events[0].responders == ["c"])
        events.removeFirst()
        #expect(events.allSatisfy { $0.at == start + .minutes(3) })
        #expect(events[1].tier?.name == "kpo")
        #expect(events[1].responders == ["k2"])
        #expect(events[1].severity == .alert)
        #expect(events[0].tier?.name == "gl")
        #expect(events[0].responders.isEmpty)
        #expect(events[0].reason == "rota gl has nobody on duty on shift night")
    }

    @Test func aCallRaisedIntoEmptyTiersGoesStraightOn() throws {
        // At night, with no team leader on duty, a quality call finds the team-leader, quality (early only) and
        // gl (no night) tiers empty: it is raised straight at KPO, and each empty tier is logged as skipped.
        let plant = TestPlant.make(tl: ["early": ["a"], "late": ["b"]])
        let night = TestPlant.local("2026-11-25 23:00")
        var engine = EscalationEngine(plant: plant, startingAt: night)
        let outcome = engine.receive(.andon(line: "L1", station: "S1", category: .quality, text: nil), at: night)
        #expect(outcome.events.kinds == [.raised, .skipped, .skipped, .skipped])
        #expect(outcome.events[0].tier?.name == "kpo")
        #expect(outcome.events[0].severity == .alert)
        #expect(outcome.events.dropFirst().map { $0.tier?.name } == ["team-leader", "quality", "gl"])
        #expect(engine.nextDeadline == night + .minutes(10))
    }

    @Test func kpoRepeatsUntilAcknowledgedWithRisingSeverity() throws {
        var engine = EscalationEngine(plant: plant, startingAt: t0)
        let id = try #require(
            engine.receive(.andon(line: "L1", station: "S3", category: .help, text: nil), at: t0).incident
        )
        let atKPO = t0 + .minutes(8)
        #expect(engine.advance(to: atKPO).last?.tier?.isKPO == true)
        var severities: [Severity] = []
        for repeat_ in 1...4 {
            let due = atKPO + .minutes(10) + .minutes(5 * Int64(repeat_ - 1))
            #expect(engine.advance(to: due - .milliseconds(1)).kinds == [])
            let events = engine.advance(to: due)
            #expect(events.kinds == [.unanswered])
            #expect(events[0].count == repeat_)
            // Three repeats to the KPO on duty, then every KPO member (kpo_widen_after: 3).
            #expect(events[0].responders == (repeat_ <= 3 ? ["k2"] : ["k2", "k1", "k3"]))
            #expect(events[0].waited == (repeat_ == 1 ? .minutes(10) : .minutes(5)))
            severities.append(events[0].severity)
        }
        #expect(severities == [.critical, .alert, .alert, .alert])
        let ack = engine.acknowledge(id, by: .responder("k2"), at: atKPO + .minutes(26))
        #expect(ack.events.kinds == [.acknowledged])
        // Acknowledged at KPO, where there is no resolve_within: no more alerts, only the owner's reminders.
        #expect(Set(engine.advance(to: atKPO + .minutes(600)).kinds) == [.reminder])
    }

    @Test func acknowledgingStopsEscalation() throws {
        var engine = EscalationEngine(plant: plant, startingAt: t0)
        let id = try #require(
            engine.receive(.andon(line: "L1", station: "S3", category: .help, text: nil), at: t0).incident
        )
        let outcome = engine.acknowledge(id, by: .responder("a"), note: "on my way", at: t0 + .seconds(50))
        #expect(outcome.events.kinds == [.acknowledged])
        #expect(outcome.events[0].by == .responder("a"))
        #expect(outcome.events[0].waited == .seconds(50))
        #expect(outcome.events[0].note == "on my way")
        // No escalation: the tier has no resolve_within, so its owner is reminded every 30 minutes instead, and
        // the shift changes hand it over.
        #expect(engine.incident(id)?.deadline == Deadline(at: t0 + .seconds(50) + .minutes(30), purpose: .remind))
        let day = engine.advance(to: t0 + .seconds(86_400))
        #expect(Set(day.kinds) == [.reminder, .handedOver])
        #expect(engine.incident(id)?.isAcknowledged == true)
        let again = engine.acknowledge(id, by: .responder("a"), at: t0 + .seconds(86_401))
        guard case .failure(let error) = again.result else {
            Issue.record("a second acknowledgement must be refused")
            return
        }
        #expect(error.code == .alreadyAcknowledged)
    }

    @Test func resolveWithinMakesAnAcknowledgedCallOverdue() throws {
        var engine = EscalationEngine(plant: plant, startingAt: t0)
        let id = try #require(
            engine.receive(.andon(line: "L1", station: "S3", category: .help, text: nil), at: t0).incident
        )
        _ = engine.advance(to: t0 + .minutes(3))  // now at gl, which has resolve_within 30m
        let ackAt = t0 + .minutes(4)
        _ = engine.acknowledge(id, by: .responder("g"), at: ackAt)
        #expect(engine.nextDeadline == ackAt + .minutes(30))
        #expect(engine.advance(to: ackAt + .minutes(30) - .milliseconds(1)).kinds == [])
        let events = engine.advance(to: ackAt + .minutes(30))
        #expect(events.kinds == [.overdue])
        #expect(events[0].tier?.name == "kpo")
        #expect(events[0].by == .responder("g"))
        #expect(events[0].waited == .minutes(30))
        #expect(events[0].severity == .alert)
        #expect(engine.incident(id)?.isAcknowledged == false)
        #expect(engine.nextDeadline == ackAt + .minutes(40))
    }

    @Test func resolvingClosesTheCallWithItsCountermeasure() throws {
        var engine = EscalationEngine(plant: plant, startingAt: t0)
        let id = try #require(
            engine.receive(.andon(line: "L1", station: "S3", category: .help, text: nil), at: t0).incident
        )
        let empty = engine.resolve(id, by: .responder("a"), note: "  ", at: t0 + .minutes(1))
        guard case .failure(let error) = empty.result else {
            Issue.record("resolving without a note must be refused")
            return
        }
        #expect(error.code == .missingNote)
        let outcome = engine.resolve(id, by: .responder("a"), note: "replaced the sensor", at: t0 + .minutes(2))
        #expect(outcome.events.kinds == [.resolved])
        #expect(outcome.events[0].note == "replaced the sensor")
        #expect(outcome.events[0].elapsed == .minutes(2))
        #expect(engine.openIncidentCount == 0)
        #expect(engine.nextCallDeadline == nil)
        // The station may call again: a new incident.
        let next = engine.receive(.andon(line: "L1", station: "S3", category: .help, text: nil), at: t0 + .minutes(3))
        #expect(next.incident != id)
        #expect(next.events.kinds == [.raised])
    }

    @Test func escalatingByHandMovesOnNow() throws {
        var engine = EscalationEngine(plant: plant, startingAt: t0)
        let id = try #require(
            engine.receive(.andon(line: "L1", station: "S3", category: .help, text: nil), at: t0).incident
        )
        let outcome = engine.escalate(id, by: .responder("a"), reason: "needs a crane", at: t0 + .seconds(30))
        #expect(outcome.events.kinds == [.escalated])
        #expect(outcome.events[0].by == .responder("a"))
        #expect(outcome.events[0].note == "needs a crane")
        #expect(outcome.events[0].tier?.name == "gl")
        #expect(engine.nextDeadline == t0 + .seconds(30) + .minutes(5))
        _ = engine.escalate(id, by: .responder("g"), at: t0 + .seconds(40))
        let atKPO = engine.escalate(id, by: .responder("k1"), at: t0 + .seconds(50))
        guard case .failure(let error) = atKPO.result else {
            Issue.record("escalating past KPO must be refused")
            return
        }
        #expect(error.code == .finalTier)
    }

    @Test func onlyNotifiedRespondersKPOAndAdministratorsMayAct() throws {
        var engine = EscalationEngine(plant: plant, startingAt: t0)
        let id = try #require(
            engine.receive(.andon(line: "L1", station: "S3", category: .help, text: nil), at: t0).incident
        )
        let refused = engine.acknowledge(id, by: .responder("x"), at: t0 + .seconds(1))
        guard case .failure(let error) = refused.result else {
            Issue.record("x was not notified and is not KPO")
            return
        }
        #expect(error.code == .notAuthorized)
        #expect(error.message.contains("notified: a"))
        #expect(refused.events.isEmpty)
        #expect(engine.incident(id)?.isAcknowledged == false)
        // Any KPO member, on duty or not, may take the call.
        #expect(engine.authorize(.responder("k3"), for: engine.incident(id)!) == nil)
        #expect(engine.authorize(.administrator(user: "root"), for: engine.incident(id)!) == nil)
        #expect(engine.authorize(.responder("g"), for: engine.incident(id)!)?.code == .notAuthorized)
        _ = engine.advance(to: t0 + .minutes(3))  // g is notified now
        #expect(engine.authorize(.responder("g"), for: engine.incident(id)!) == nil)
        #expect(engine.authorize(.responder("a"), for: engine.incident(id)!) == nil)  // still: a was notified
    }

    @Test func unknownIncidentsAreRefused() {
        var engine = EscalationEngine(plant: plant, startingAt: t0)
        let outcome = engine.acknowledge(IncidentID(99), by: .responder("a"), at: t0)
        guard case .failure(let error) = outcome.result else {
            Issue.record("no such incident")
            return
        }
        #expect(error.code == .unknownIncident)
    }
}
