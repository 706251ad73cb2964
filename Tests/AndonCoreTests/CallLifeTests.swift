import Testing

@testable import AndonCore

/// The rest of a call's life under the manual clock: arrival and `arrive_within`, reminders, safety paging everyone,
/// one call per category at a station, one stop per line, and who may send a line's signals.
@Suite struct CallLifeTests {
    /// Wednesday 2026-11-25 10:00 CET: early shift (a, g), KPO week of k2.
    let t0 = TestPlant.local("2026-11-25 10:00")
    let help = Signal.andon(line: "L1", station: "S3", category: .help, text: nil)

    // MARK: Arrival

    @Test func acknowledgedButNobodyArrivedInTimeEscalates() throws {
        var engine = EscalationEngine(plant: TestPlant.make(arriveWithin: .minutes(5)), startingAt: t0)
        let id = try #require(engine.receive(help, at: t0).incident)
        _ = engine.acknowledge(id, by: .responder("a"), at: t0 + .minutes(1))
        #expect(engine.incident(id)?.deadline == Deadline(at: t0 + .minutes(6), purpose: .arrive))
        #expect(engine.advance(to: t0 + .minutes(6) - .milliseconds(1)).kinds == [])
        let events = engine.advance(to: t0 + .minutes(6))
        #expect(events.kinds == [.overdue])
        #expect(events[0].missed == .arrive)
        #expect(events[0].tier?.name == "gl")
        #expect(events[0].waited == .minutes(5))
        #expect(events[0].reason == "acknowledged at team-leader but nobody was at the station within 5m")
        #expect(events[0].message(in: engine.plant).contains("acknowledged but nobody at the station within 5m"))
        // The time to acknowledge stays on record although the acknowledgement was undone.
        #expect(events[0].acknowledgedAfter == .minutes(1))
        #expect(events[0].arrivedAfter == nil)
    }

    @Test func anArrivalInTimeStopsTheArrivalTimerAndRecordsTheThreeTimesApart() throws {
        var engine = EscalationEngine(plant: TestPlant.make(arriveWithin: .minutes(5)), startingAt: t0)
        let id = try #require(engine.receive(help, at: t0).incident)
        _ = engine.acknowledge(id, by: .responder("a"), at: t0 + .minutes(1))
        let arrived = engine.arrive(id, by: .responder("a"), note: "at the press", at: t0 + .minutes(4))
        #expect(arrived.events.kinds == [.arrived])
        #expect(arrived.events[0].waited == .minutes(3))
        #expect(arrived.events[0].acknowledgedAfter == .minutes(1))
        #expect(arrived.events[0].arrivedAfter == .minutes(4))
        #expect(arrived.events[0].state == "arrived")
        // No arrival timer any more: the tier has no resolve_within, so the next thing is a reminder.
        #expect(engine.incident(id)?.deadline == Deadline(at: t0 + .minutes(31), purpose: .remind))
        let again = engine.arrive(id, by: .responder("a"), at: t0 + .minutes(5))
        guard case .failure(let error) = again.result else {
            Issue.record("a second arrival must be refused")
            return
        }
        #expect(error.code == .alreadyArrived)
        let resolved = engine.resolve(id, by: .responder("a"), note: "jam cleared", at: t0 + .minutes(9))
        #expect(resolved.events[0].acknowledgedAfter == .minutes(1))
        #expect(resolved.events[0].arrivedAfter == .minutes(4))
        #expect(resolved.events[0].closes)
        #expect(resolved.events[0].elapsed == .minutes(9))
    }

    @Test func theStationsArrivalSignalAcknowledgesAndArrivesEveryCallThere() throws {
        var engine = EscalationEngine(plant: TestPlant.make(), startingAt: t0)
        let first = try #require(engine.receive(help, at: t0).incident)
        let second = try #require(
            engine.receive(.andon(line: "L1", station: "S3", category: .material, text: nil), at: t0).incident
        )
        let badge = engine.receive(.arrived(line: "L1", station: "S3", responder: "a"), at: t0 + .minutes(2))
        #expect(badge.result == .success(.arrived([first, second])))
        #expect(badge.events.kinds == [.acknowledged, .arrived, .acknowledged, .arrived])
        #expect(badge.events.allSatisfy { $0.by == .responder("a") })
        #expect(badge.events[0].note == "on arrival")
        // A button without a badge reader names the station; calls already arrived are left alone.
        let third = try #require(
            engine.receive(.andon(line: "L1", station: "S3", category: .quality, text: nil), at: t0).incident
        )
        let button = engine.receive(.arrived(line: "L1", station: "S3", responder: nil), at: t0 + .minutes(3))
        #expect(button.result == .success(.arrived([third])))
        #expect(button.events.last?.by == .station("L1", "S3"))
        #expect(button.events.last?.message(in: engine.plant).contains("station L1/S3 at the station") == true)
        #expect(engine.incident(third)?.owners == ["a"], "the station owns nothing: the tier does")
        // Nobody to arrive for: fine. An unknown badge: refused.
        #expect(
            engine.receive(.arrived(line: "L1", station: "S9", responder: nil), at: t0 + .minutes(4)).result
                == .success(.arrived([]))
        )
        guard
            case .failure(let rejection) = engine.receive(
                .arrived(line: "L1", station: "S3", responder: "nobody"),
                at: t0 + .minutes(4)
            ).result
        else {
            Issue.record("an unknown responder must be refused")
            return
        }
        #expect(rejection.code == .unknownResponder)
    }

    // MARK: Reminders

    @Test func anAcknowledgedCallWithoutResolveWithinIsRemindedWithRisingPriority() throws {
        var engine = EscalationEngine(plant: TestPlant.make(remindEvery: .minutes(20)), startingAt: t0)
        let id = try #require(engine.receive(help, at: t0).incident)
        _ = engine.acknowledge(id, by: .responder("a"), at: t0 + .minutes(1))
        let events = engine.advance(to: t0 + .minutes(1) + .minutes(100))
        #expect(events.kinds == Array(repeating: .reminder, count: 5))
        #expect(events.map(\.at) == (1...5).map { t0 + .minutes(1) + .minutes(20 * Int64($0)) })
        #expect(events.map(\.severity) == [.notice, .warning, .error, .critical, .critical])
        #expect(events.compactMap(\.count) == [1, 2, 3, 4, 5])
        #expect(events.allSatisfy { $0.responders == ["a"] })
        #expect(events[1].waited == .minutes(40))
        #expect(events[0].message(in: engine.plant).contains("still open 20m after it was acknowledged (reminder 1)"))
    }

    @Test func atKPOToo() throws {
        var engine = EscalationEngine(plant: TestPlant.make(), startingAt: t0)
        let id = try #require(engine.receive(help, at: t0).incident)
        _ = engine.advance(to: t0 + .minutes(8))
        #expect(engine.incident(id)?.isAtKPO == true)
        _ = engine.acknowledge(id, by: .responder("k2"), at: t0 + .minutes(9))
        let events = engine.advance(to: t0 + .minutes(9) + .minutes(30))
        #expect(events.kinds == [.reminder])
        #expect(events[0].responders == ["k2"])
    }

    @Test func aTierOrItsChainMaySetItsOwnReminderInterval() throws {
        var plant = TestPlant.make()
        plant.policies["andon"]!.remindEvery = .minutes(11)  // the test plant has it
        var engine = EscalationEngine(plant: plant, startingAt: t0)
        let chain = try #require(engine.receive(help, at: t0).incident)
        _ = engine.acknowledge(chain, by: .responder("a"), at: t0)
        #expect(engine.advance(to: t0 + .minutes(22)).map(\.at) == [t0 + .minutes(11), t0 + .minutes(22)])
        // The tier's own comes first.
        plant.policies["andon"]!.tiers[0].remindEvery = .minutes(7)
        engine = EscalationEngine(plant: plant, startingAt: t0)
        let tier = try #require(engine.receive(help, at: t0).incident)
        _ = engine.acknowledge(tier, by: .responder("a"), at: t0)
        #expect(engine.advance(to: t0 + .minutes(14)).map(\.at) == [t0 + .minutes(7), t0 + .minutes(14)])
    }

    // MARK: Safety

    @Test func aSafetyCallPagesEveryTierAtOnceAndIsNeverThrottled() throws {
        var engine = EscalationEngine(plant: TestPlant.make(pageEveryone: [.safety]), startingAt: t0)
        let safety = Signal.andon(line: "L1", station: "S3", category: .safety, text: "smoke")
        let outcome = engine.receive(safety, at: t0)
        let id = try #require(outcome.incident)
        #expect(outcome.events.kinds == [.raised])
        #expect(outcome.events[0].responders == ["a", "g", "k2"])
        #expect(outcome.events[0].severity == .alert)
        // Anyone paged may act: the group leader takes it at once.
        #expect(engine.acknowledge(id, by: .responder("g"), at: t0 + .seconds(5)).events.kinds == [.acknowledged])
        // Every repeat is logged, however close.
        #expect(engine.receive(safety, at: t0 + .seconds(6)).events.kinds == [.repeated])
        #expect(engine.receive(safety, at: t0 + .seconds(7)).events.kinds == [.repeated])
        // Another category at the station is its own call, with its own chain.
        let quality = engine.receive(.andon(line: "L1", station: "S3", category: .quality, text: nil), at: t0)
        #expect(quality.incident != id)
        #expect(quality.events[0].responders == ["a"])
        // A station clear closes both; the safety call is flagged for KPO, having no countermeasure.
        let clear = engine.receive(.clear(line: "L1", station: "S3"), at: t0 + .minutes(1))
        #expect(clear.events.kinds == [.cleared, .cleared])
        #expect(clear.events.map(\.needsReview) == [true, false])
        #expect(clear.events.map(\.severity) == [.warning, .info])
        #expect(clear.events[0].message(in: engine.plant).contains("flagged for KPO review"))
    }

    @Test func aSafetyCallFollowsEveryShiftChangeOfEveryTier() throws {
        let raised = TestPlant.local("2026-11-25 13:50")
        var engine = EscalationEngine(plant: TestPlant.make(pageEveryone: [.safety]), startingAt: raised)
        let id = try #require(
            engine.receive(.andon(line: "L1", station: "S3", category: .safety, text: nil), at: raised).incident
        )
        _ = engine.acknowledge(id, by: .responder("g"), at: raised)
        let events = engine.advance(to: TestPlant.local("2026-11-25 14:00"))
        // g stays on duty (early and late); the team leader changes: the call is still g's.
        #expect(events.kinds == [])
        #expect(engine.incident(id)?.responders == ["b", "g", "k2"])
        #expect(engine.incident(id)?.owners == ["g"])
    }

    // MARK: One call per category, one stop per line

    @Test func aStopJoinsTheOpenStopAndTakesUpTheStationsCalls() throws {
        var engine = EscalationEngine(plant: TestPlant.make(), startingAt: t0)
        let quality = try #require(
            engine.receive(.andon(line: "L1", station: "A2", category: .quality, text: nil), at: t0).incident
        )
        let maintenance = try #require(
            engine.receive(.andon(line: "L1", station: "A2", category: .maintenance, text: nil), at: t0).incident
        )
        #expect(quality != maintenance)
        // A2 stops the line: its oldest call becomes the line stop; the other is taken up, keeping its chain.
        let stop = engine.receive(.stop(line: "L1", station: "A2", reason: "leak"), at: t0 + .minutes(1))
        #expect(stop.result == .success(.promoted(quality)))
        #expect(stop.events.kinds == [.promoted, .promoted])
        #expect(stop.events[1].incident == maintenance)
        #expect(stop.events[1].lineStop == quality)
        #expect(engine.incident(maintenance)?.policy == "maintenance")
        // A3 stops it again: the same stop, listing both stations.
        let again = engine.receive(.stop(line: "L1", station: "A3", reason: nil), at: t0 + .seconds(90))
        #expect(again.result == .success(.joined(quality)))
        #expect(again.events.kinds == [.joined])
        #expect(again.events[0].stations == ["A2", "A3"])
        #expect(again.events[0].waited == .seconds(30))
        // A stop of the whole line, and A3 again: repeats of the same stop.
        #expect(
            engine.receive(.stop(line: "L1", station: nil, reason: nil), at: t0 + .minutes(3)).result
                == .success(.repeated(quality, count: 4))
        )
        #expect(
            engine.receive(.stop(line: "L1", station: "A3", reason: nil), at: t0 + .minutes(3)).result
                == .success(.repeated(quality, count: 5))
        )
        #expect(engine.openSummary.stops == 1)
        // The badge at A3 arrives at the stop; resume ends it once, with its whole duration.
        #expect(
            engine.receive(.arrived(line: "L1", station: "A3", responder: "a"), at: t0 + .minutes(4)).result
                == .success(.arrived([quality]))
        )
        let resumed = engine.receive(.resume(line: "L1"), at: t0 + .minutes(11))
        #expect(resumed.result == .success(.closed([quality])))
        #expect(resumed.events[0].waited == .minutes(10))
        #expect(resumed.events[0].stations == ["A2", "A3"])
        #expect(engine.incident(maintenance) != nil, "the maintenance call is its own")
        // With the line running, the next stop is a new one.
        let next = engine.receive(.stop(line: "L1", station: nil, reason: nil), at: t0 + .minutes(12))
        #expect(next.events.last?.kind == .raised)
        #expect(next.incident != quality)
    }

    @Test func clearingACategoryLeavesTheStationsOtherCalls() throws {
        var engine = EscalationEngine(plant: TestPlant.make(), startingAt: t0)
        let quality = try #require(
            engine.receive(.andon(line: "L1", station: "S1", category: .quality, text: nil), at: t0).incident
        )
        let material = try #require(
            engine.receive(.andon(line: "L1", station: "S1", category: .material, text: nil), at: t0).incident
        )
        let outcome = engine.receive(.clear(line: "L1", station: "S1", category: .material), at: t0 + .minutes(1))
        #expect(outcome.result == .success(.closed([material])))
        #expect(engine.incident(quality) != nil)
    }

    // MARK: Who may send what

    @Test func onlyALinesControllersRootAndHandRaisingResponders() {
        let rule = ControllerRule(users: ["plc-l1"], groups: ["andon-l1"])
        let plant = TestPlant.make(controllers: rule)
        let stop = Signal.stop(line: "L1", station: nil, reason: nil)
        let clear = Signal.clear(line: "L1", station: "S1")
        #expect(plant.authorize(stop, from: LocalSender(uid: 990, user: "plc-l1", groups: ["plc-l1"])) == nil)
        #expect(plant.authorize(clear, from: LocalSender(uid: 991, user: "pc7", groups: ["users", "andon-l1"])) == nil)
        #expect(plant.authorize(clear, from: LocalSender(uid: 0, user: "root", groups: ["root"])) == nil)
        // A responder may raise by hand, but not clear, stop or resume.
        let responder = LocalSender(uid: 1000, user: "a", groups: ["a"])
        #expect(plant.authorize(help, from: responder) == nil)
        let refused = plant.authorize(clear, from: responder)
        #expect(refused?.code == .notAuthorized)
        #expect(
            refused?.message
                == "user a may not send clear for line L1: its controllers are users plc-l1; groups andon-l1 "
                + "(lines.L1.controllers), and root; as a responder, user a may raise andons by hand only"
        )
        #expect(plant.authorize(help, from: LocalSender(uid: 1001, user: "guest", groups: [])) != nil)
        #expect(plant.authorize(.resume(line: "L1"), from: LocalSender(uid: 1002, user: nil, groups: [])) != nil)
        // A line that names no controllers leaves it to the socket's permissions.
        #expect(plant.authorize(.resume(line: "L2"), from: responder) == nil)
    }
}
