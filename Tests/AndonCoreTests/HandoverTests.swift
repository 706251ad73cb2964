import Testing

@testable import AndonCore

/// Shift handover under the manual clock: at the exact boundary, across midnight, across both DST changes, with the
/// outgoing responders' grace, and when the incoming tier has nobody.
@Suite struct HandoverTests {
    let plant = TestPlant.make()
    let help = Signal.andon(line: "L1", station: "S3", category: .help, text: nil)

    @Test func aCallPassesToTheIncomingShiftExactlyAtTheBoundaryAndKeepsItsDeadline() throws {
        let raised = TestPlant.local("2026-11-25 13:58")
        let boundary = TestPlant.local("2026-11-25 14:00")
        var engine = EscalationEngine(plant: plant, startingAt: raised)
        let id = try #require(engine.receive(help, at: raised).incident)
        #expect(engine.incident(id)?.owners == ["a"])
        #expect(engine.advance(to: boundary - .milliseconds(1)).kinds == [])
        let events = engine.advance(to: boundary)
        #expect(events.kinds == [.handedOver])
        let handover = try #require(events.first)
        #expect(handover.at == boundary)
        #expect(handover.previous == ["a"])
        #expect(handover.responders == ["b"])
        #expect(handover.state == "open")
        #expect(handover.elapsed == .minutes(2))
        #expect(handover.graceUntil == boundary + Plant.defaultHandoverGrace)
        #expect(handover.severity == .notice)
        #expect(
            handover.message(in: plant).contains(
                "handed over at 14:00 from a to b (open, 2m old); a may act until 14:15"
            )
        )
        // Deadlines do not restart: the call still escalates 3 minutes after it was raised.
        #expect(engine.incident(id)?.deadline == Deadline(at: raised + .minutes(3), purpose: .acknowledge))
        #expect(engine.incident(id)?.owners == ["b"])
        // The incoming team leader may act on it at once.
        let ack = engine.acknowledge(id, by: .responder("b"), at: boundary + .seconds(20))
        #expect(ack.events.kinds == [.acknowledged])
        #expect(engine.incident(id)?.owners == ["b"])
    }

    @Test func theOutgoingResponderMayActForTheGracePeriodOnly() throws {
        let raised = TestPlant.local("2026-11-25 13:40")
        let boundary = TestPlant.local("2026-11-25 14:00")
        var engine = EscalationEngine(plant: plant, startingAt: raised)
        let first = try #require(engine.receive(help, at: raised).incident)
        let second = try #require(
            engine.receive(.andon(line: "L1", station: "S4", category: .help, text: nil), at: raised).incident
        )
        // a takes both; they are hers until the shift ends.
        _ = engine.acknowledge(first, by: .responder("a"), at: raised + .minutes(1))
        _ = engine.acknowledge(second, by: .responder("a"), at: raised + .minutes(1))
        #expect(engine.incident(first)?.owners == ["a"])
        let events = engine.advance(to: boundary)
        #expect(events.kinds == [.handedOver, .handedOver])
        #expect(events.map(\.state) == ["acknowledged", "acknowledged"])
        #expect(events.allSatisfy { $0.previous == ["a"] && $0.responders == ["b"] && $0.by == .responder("a") })
        // An acknowledged call moves its ownership; it stays acknowledged, its reminder stays due when it was.
        #expect(engine.incident(first)?.owners == ["b"])
        #expect(engine.incident(first)?.isAcknowledged == true)
        #expect(engine.incident(first)?.deadline?.at == raised + .minutes(1) + Plant.defaultRemindEvery)
        // Within the grace a may still act; from its end she may not, and the refusal says why.
        let grace = boundary + Plant.defaultHandoverGrace
        let within = engine.resolve(first, by: .responder("a"), note: "belt tension", at: grace - .milliseconds(1))
        #expect(within.events.kinds == [.reminder, .reminder, .resolved])  // the reminders were due at 14:11
        let after = engine.resolve(second, by: .responder("a"), note: "too late", at: grace)
        guard case .failure(let error) = after.result else {
            Issue.record("the grace is over: a may no longer act")
            return
        }
        #expect(error.code == .notAuthorized)
        #expect(error.message.contains("handed incident \(second) over at a shift change"))
        #expect(error.message.contains("ended at 2026-11-25 14:15"))
        #expect(engine.resolve(second, by: .responder("b"), note: "belt", at: grace).events.kinds == [.resolved])
    }

    @Test func midnightIsNoShiftChangeAndTheMorningTakesTheNightsCalls() throws {
        let raised = TestPlant.local("2026-11-25 23:50")
        var engine = EscalationEngine(plant: plant, startingAt: raised)
        let id = try #require(engine.receive(help, at: raised).incident)
        _ = engine.acknowledge(id, by: .responder("c"), at: raised + .minutes(1))
        // Midnight passes (the maintenance rota's daily turn included: m follows m) with only reminders.
        let night = engine.advance(to: TestPlant.local("2026-11-26 05:59"))
        #expect(Set(night.kinds) == [.reminder])
        let morning = engine.advance(to: TestPlant.local("2026-11-26 06:00"))
        #expect(morning.kinds == [.handedOver])
        #expect(morning[0].previous == ["c"])
        #expect(morning[0].responders == ["a"])
        #expect(morning[0].elapsed == .minutes(370))
    }

    @Test func theSpringForwardNightHandsOverAfterSevenHours() throws {
        // 2026-03-29: 02:00 CET becomes 03:00 CEST. The night shift 22:00 CET to 06:00 CEST lasts 7 hours.
        let raised = TestPlant.local("2026-03-28 22:00")
        var engine = EscalationEngine(plant: plant, startingAt: raised - .minutes(1))
        let id = try #require(engine.receive(help, at: raised).incident)
        #expect(engine.incident(id)?.responders == ["c"])
        _ = engine.acknowledge(id, by: .responder("c"), at: raised + .minutes(1))
        let events = engine.advance(to: TestPlant.local("2026-03-29 06:00")).filter { $0.kind == .handedOver }
        #expect(events.count == 1)
        #expect(events.first?.at == TestPlant.local("2026-03-29 06:00"))
        #expect(events.first?.elapsed == .seconds(7 * 3600))
        #expect(events.first?.responders == ["a"])
    }

    @Test func theFallBackNightHandsOverAfterNineHours() throws {
        // 2026-10-25: 03:00 CEST becomes 02:00 CET. The night shift 22:00 CEST to 06:00 CET lasts 9 hours.
        let raised = TestPlant.local("2026-10-24 22:00")
        var engine = EscalationEngine(plant: plant, startingAt: raised - .minutes(1))
        let id = try #require(engine.receive(help, at: raised).incident)
        _ = engine.acknowledge(id, by: .responder("c"), at: raised + .minutes(1))
        let events = engine.advance(to: TestPlant.local("2026-10-25 06:00")).filter { $0.kind == .handedOver }
        #expect(events.map(\.at) == [TestPlant.local("2026-10-25 06:00")])
        #expect(events.first?.elapsed == .seconds(9 * 3600))
        #expect(events.first?.previous == ["c"])
        #expect(events.first?.responders == ["a"])
    }

    @Test func aTierLeftWithNobodyPassesTheCallOnAtTheBoundary() throws {
        // 21:54, late shift: the call reaches gl (g) at 21:57. gl has nobody at night: at 22:00 it goes to KPO.
        let raised = TestPlant.local("2026-11-25 21:54")
        var engine = EscalationEngine(plant: plant, startingAt: raised)
        let id = try #require(engine.receive(help, at: raised).incident)
        #expect(engine.advance(to: raised + .minutes(3)).last?.tier?.name == "gl")
        let events = engine.advance(to: TestPlant.local("2026-11-25 22:00"))
        #expect(events.kinds == [.escalated])
        #expect(events[0].previous == ["g"])
        #expect(events[0].tier?.isKPO == true)
        #expect(events[0].responders == ["k2"])
        #expect(events[0].reason == "nobody is on duty at gl (rota gl) from 22:00")
        #expect(events[0].message(in: plant).contains("escalated to kpo: nobody is on duty at gl"))
        // b and g, off duty now, have the grace; c came on duty for the team-leader tier the call passed.
        let incident = try #require(engine.incident(id))
        #expect(Set(incident.grace.map(\.responder)) == ["b", "g"])
        #expect(incident.notified.contains("c"))
        #expect(!incident.notified.contains("b"))
    }

    @Test func aReloadThatChangesTheRotaHandsOverAtOnce() throws {
        let t0 = TestPlant.local("2026-11-25 10:00")
        var engine = EscalationEngine(plant: plant, startingAt: t0)
        let id = try #require(engine.receive(help, at: t0).incident)
        let swapped = TestPlant.make(tl: ["early": ["x"], "late": ["b"], "night": ["c"]])
        let events = engine.reconfigure(swapped, at: t0 + .minutes(1))
        #expect(events.kinds == [.handedOver])
        #expect(events[0].previous == ["a"])
        #expect(events[0].responders == ["x"])
        #expect(engine.incident(id)?.owners == ["x"])
        // An unchanged configuration hands nothing over.
        #expect(engine.reconfigure(swapped, at: t0 + .minutes(2)).kinds == [])
    }

    @Test func theDutyChangeTimerSurvivesASnapshot() throws {
        let raised = TestPlant.local("2026-11-25 13:58")
        var engine = EscalationEngine(plant: plant, startingAt: raised)
        _ = engine.receive(help, at: raised)
        var restored = try SnapshotTests.roundTrip(engine)
        var fromJSON = try SnapshotTests.roundTrip(engine, json: true)
        #expect(restored.dutyChangeAt == TestPlant.local("2026-11-25 14:00"))
        #expect(fromJSON.dutyChangeAt == restored.dutyChangeAt)
        let boundary = TestPlant.local("2026-11-25 14:00")
        let expected = engine.advance(to: boundary)
        #expect(expected.kinds == [.handedOver])
        #expect(restored.advance(to: boundary) == expected)
        #expect(fromJSON.advance(to: boundary) == expected)
    }

    @Test func manyCallsAreHandedOverInChunksWithSignalsBetween() throws {
        let raised = TestPlant.local("2026-11-25 13:50")
        let boundary = TestPlant.local("2026-11-25 14:00")
        let (chunk, step) = (EscalationEngine.handoverChunk, EscalationEngine.handoverStep)
        var engine = EscalationEngine(plant: plant, startingAt: raised)
        let count = chunk * 3 + chunk / 2
        for index in 0..<count {
            let station = StationID(rawValue: "S\(index)")
            let id = try #require(
                engine.receive(.andon(line: "L1", station: station, category: .help, text: nil), at: raised).incident
            )
            _ = engine.acknowledge(id, by: .responder("a"), at: raised)
        }
        let first = engine.advance(to: boundary)
        #expect(first.count == chunk)
        #expect(first.allSatisfy { $0.kind == .handedOver && $0.at == boundary })
        #expect(first.map(\.incident.number) == Array(1...UInt64(chunk)))
        // Between chunks the engine takes signals; a new call goes to the incoming shift at once.
        let between = engine.receive(
            .andon(line: "L2", station: "S1", category: .help, text: nil),
            at: boundary + step / 2
        )
        #expect(between.events.kinds == [.raised])
        #expect(between.events[0].responders == ["b"])
        // A snapshot in the middle of the sweep goes on exactly where it was.
        var restored = try SnapshotTests.roundTrip(engine)
        #expect(engine.advance(to: boundary + step - .milliseconds(1)).isEmpty)
        let second = engine.advance(to: boundary + step)
        #expect(second.map(\.incident.number) == Array(UInt64(chunk + 1)...UInt64(2 * chunk)))
        #expect(second.allSatisfy { $0.at == boundary })
        #expect(restored.advance(to: boundary + step) == second)
        // A late timer does not make up for lost time with a bigger batch: one chunk per advance, the next a step on.
        let late = engine.advance(to: boundary + step * 5)
        #expect(late.map(\.incident.number) == Array(UInt64(2 * chunk + 1)...UInt64(3 * chunk)))
        #expect(engine.advance(to: boundary + step * 6 - .milliseconds(1)).isEmpty)
        let last = engine.advance(to: boundary + step * 6)
        #expect(last.map(\.incident.number) == Array(UInt64(3 * chunk + 1)...UInt64(count)))
        #expect(engine.sweep == nil)
        #expect(engine.openIncidents.allSatisfy { $0.owners == ["b"] })
        #expect(engine.advance(to: boundary + step * 7).isEmpty)
    }
}
