import Testing

@testable import AndonCore

/// Defects a plant found (issue 20), each under the manual clock: a real signal never becomes a drill, a `joined`
/// entry names the station that joined, a stop that ended lets go of its calls, and an unanswered call at KPO widens
/// to the whole KPO group.
@Suite struct PlantFoundTests {
    /// Wednesday 2026-11-25 10:00 CET: early shift (a, g), KPO week of k2.
    let t0 = TestPlant.local("2026-11-25 10:00")
    let drill = SignalOrigin(source: "test", drill: true)
    let real = SignalOrigin(source: "test")

    // MARK: D3: a real signal is never a drill

    @Test func aRealStopJoiningADrillStopMakesItReal() throws {
        var engine = EscalationEngine(plant: TestPlant.make(), startingAt: t0)
        let practice = engine.receive(.stop(line: "L1", station: "D2", reason: "drill"), at: t0, origin: drill)
        let id = try #require(practice.incident)
        #expect(practice.events.allSatisfy { $0.drill })
        let jam = engine.receive(
            .stop(line: "L1", station: "R9", reason: "real jam"),
            at: t0 + .seconds(5),
            origin: real
        )
        #expect(jam.incident == id)
        let joined = try #require(jam.events.last)
        #expect(joined.kind == .joined)
        #expect(!joined.drill)
        #expect(joined.madeReal)
        #expect(joined.message(in: engine.plant).hasSuffix("a real signal: no longer a drill"))
        #expect(engine.incident(id)?.origin.drill == false)
        // Every later entry of the call is real too.
        let escalated = engine.advance(to: t0 + .minutes(1))
        #expect(escalated.kinds == [.escalated])
        #expect(escalated.allSatisfy { !$0.drill && !$0.madeReal })
    }

    @Test func aRealAndonAtADrillsStationMakesTheCallRealEvenWithinTheCoalesceWindow() throws {
        var engine = EscalationEngine(plant: TestPlant.make(), startingAt: t0)
        let help = Signal.andon(line: "L1", station: "S3", category: .help, text: nil)
        let id = try #require(engine.receive(help, at: t0, origin: drill).incident)
        // The first repeat is logged; a second drill signal within the window is coalesced, no entry.
        #expect(engine.receive(help, at: t0 + .seconds(1), origin: drill).events.kinds == [.repeated])
        #expect(engine.receive(help, at: t0 + .seconds(2), origin: drill).events.isEmpty)
        let again = engine.receive(help, at: t0 + .seconds(3), origin: real)
        #expect(again.incident == id)
        #expect(again.events.kinds == [.repeated])
        #expect(again.events.first?.madeReal == true)
        #expect(again.events.first?.drill == false)
        #expect(engine.incident(id)?.origin.drill == false)
    }

    @Test func aRealStopPromotingADrillAndonIsReal() throws {
        var engine = EscalationEngine(plant: TestPlant.make(), startingAt: t0)
        let help = Signal.andon(line: "L1", station: "S3", category: .help, text: nil)
        let id = try #require(engine.receive(help, at: t0, origin: drill).incident)
        let stop = engine.receive(.stop(line: "L1", station: "S3", reason: "jam"), at: t0 + .seconds(3), origin: real)
        #expect(stop.incident == id)
        let promoted = try #require(stop.events.last { $0.kind == .promoted })
        #expect(!promoted.drill)
        #expect(promoted.madeReal)
        #expect(engine.incident(id)?.kind == .stop)
        #expect(engine.incident(id)?.origin.drill == false)
    }

    @Test func aDrillSignalNeverMakesARealCallADrill() throws {
        var engine = EscalationEngine(plant: TestPlant.make(), startingAt: t0)
        let id = try #require(
            engine.receive(.stop(line: "L1", station: "A1", reason: nil), at: t0, origin: real).incident
        )
        let practice = engine.receive(
            .stop(line: "L1", station: "A2", reason: nil),
            at: t0 + .seconds(1),
            origin: drill
        )
        #expect(practice.incident == id)
        #expect(practice.events.allSatisfy { !$0.drill && !$0.madeReal })
        #expect(engine.incident(id)?.origin.drill == false)
    }

    // MARK: D6: joined names the station that joined

    @Test func joinedNamesTheJoiningStationAndTheResponders() throws {
        var engine = EscalationEngine(plant: TestPlant.make(), startingAt: t0)
        _ = engine.receive(.stop(line: "L1", station: "A1", reason: nil), at: t0, origin: real)
        let joined = try #require(
            engine.receive(.stop(line: "L1", station: "B7", reason: nil), at: t0 + .seconds(2), origin: real).events
                .last
        )
        #expect(joined.kind == .joined)
        #expect(joined.station == "B7")
        #expect(joined.stations == ["A1", "B7"])
        #expect(joined.responders == ["a"])
        #expect(joined.message(in: engine.plant).contains("stopped again at B7"))
    }

    // MARK: D7: a stop that ended lets go of its calls

    @Test func aCallLeavesItsLineStopWhenTheLineResumes() throws {
        var engine = EscalationEngine(plant: TestPlant.make(), startingAt: t0)
        let before = try #require(
            engine.receive(.andon(line: "L1", station: "S1", category: .quality, text: nil), at: t0).incident
        )
        let stop = try #require(
            engine.receive(.stop(line: "L1", station: "S1", reason: nil), at: t0 + .seconds(1)).incident
        )
        let during = try #require(
            engine.receive(.andon(line: "L1", station: "S1", category: .material, text: nil), at: t0 + .seconds(2))
                .incident
        )
        // The quality andon was promoted into the stop itself; the material andon joined it.
        #expect(stop == before)
        #expect(engine.incident(during)?.lineStop == stop)
        let resumed = engine.receive(.resume(line: "L1"), at: t0 + .seconds(30))
        #expect(resumed.events.kinds == [.resumed])
        #expect(engine.incident(during)?.lineStop == nil)
        // Its next entry is that of a running line.
        let next = engine.advance(to: t0 + .minutes(4))
        #expect(next.first { $0.incident == during }?.lineStop == nil)
    }

    @Test func aCallTakenUpByAStopIsReleasedByTheResume() throws {
        var engine = EscalationEngine(plant: TestPlant.make(), startingAt: t0)
        let help = try #require(
            engine.receive(.andon(line: "L1", station: "S1", category: .help, text: nil), at: t0).incident
        )
        // A stop at another station first, then S1 joins it: S1's andon is taken up.
        let stop = try #require(engine.receive(.stop(line: "L1", station: "S9", reason: nil), at: t0).incident)
        _ = engine.receive(.stop(line: "L1", station: "S1", reason: nil), at: t0 + .seconds(1))
        #expect(engine.incident(help)?.lineStop == stop)
        _ = engine.receive(.resume(line: "L1"), at: t0 + .seconds(9))
        #expect(engine.incident(help)?.lineStop == nil)
        #expect(engine.incident(help) != nil, "the andon is still open")
    }

    // MARK: D8: a reload may not remove a line with open calls

    @Test func aPlantWithoutALineThatHasOpenCallsIsRefused() throws {
        var engine = EscalationEngine(plant: TestPlant.make(), startingAt: t0)
        _ = engine.receive(.andon(line: "L3", station: "S1", category: .help, text: nil), at: t0)
        _ = engine.receive(.stop(line: "L3", station: "S2", reason: nil), at: t0)
        _ = engine.receive(.andon(line: "L1", station: "S1", category: .help, text: nil), at: t0)
        var withoutL3 = engine.plant
        withoutL3.lines["L3"] = nil
        #expect(
            engine.reconfigureRefusal(for: withoutL3)
                == "the new configuration removes a line that has open calls: line L3 has 2 open calls "
                + "(incidents 1, 2); close them first (andonctl resolve ID, or the line's clear and resume), "
                + "or keep the line"
        )
        var withoutL2 = engine.plant
        withoutL2.lines["L2"] = nil
        #expect(engine.reconfigureRefusal(for: withoutL2) == nil, "L2 has no open call")
        _ = engine.resolve(IncidentID(1), by: .administrator(user: "root"), note: "done", at: t0 + .seconds(5))
        _ = engine.receive(.resume(line: "L3"), at: t0 + .seconds(6))
        #expect(engine.reconfigureRefusal(for: withoutL3) == nil)
    }

    // MARK: D13: texts that say what happened

    @Test func heardAgainCountsTheSilenceFromTheLastSignal() throws {
        var engine = EscalationEngine(plant: TestPlant.make(heartbeat: .seconds(4)), startingAt: t0)
        _ = engine.receive(.heartbeat(line: "L2"), at: t0)
        #expect(engine.advance(to: t0 + .seconds(4)).kinds == [.silent])
        let heard = engine.receive(.heartbeat(line: "L2"), at: t0 + .milliseconds(7600))
        let event = try #require(heard.events.first { $0.kind == .heard })
        #expect(event.waited == .milliseconds(7600))
        #expect(event.message(in: engine.plant).contains("heard again after 7s600ms of silence"))
    }

    @Test func unansweredSaysHowLongKPOHadIt() throws {
        let plant = TestPlant.make()
        let calls = try unansweredCalls(plant)
        #expect(calls[0].message(in: plant).contains("not acknowledged at KPO within 10m (open 18m), KPO call 1"))
        #expect(calls[1].message(in: plant).contains("not acknowledged at KPO within 5m (open 23m), KPO call 2"))
    }

    @Test func aGraceOfSecondsIsShownToTheSecond() throws {
        var plant = TestPlant.make()
        plant.handoverGrace = .seconds(20)
        let raised = TestPlant.local("2026-11-25 13:58")
        var engine = EscalationEngine(plant: plant, startingAt: raised)
        _ = try #require(
            engine.receive(.andon(line: "L1", station: "S1", category: .help, text: nil), at: raised).incident
        )
        let handover = try #require(engine.advance(to: TestPlant.local("2026-11-25 14:00")).first)
        #expect(handover.message(in: plant).hasSuffix("a may act until 14:00:20"))
    }

    /// D16: a local time in the hour the clocks skip is refused, not moved an hour on.
    @Test func aLocalTimeTheClocksSkipIsNamedAsSuch() throws {
        let zone = TestPlant.berlin
        let skipped = try #require(LocalDateTime(parsing: "2026-03-29 02:30"))
        #expect(
            zone.gap(at: skipped)
                == "2026-03-29 02:30 does not exist in Europe/Berlin: the clocks go forward then "
                + "(the same instant reads 2026-03-29 03:30)"
        )
        #expect(zone.gap(at: try #require(LocalDateTime(parsing: "2026-03-29 03:30"))) == nil)
        // The hour that happens twice in October exists (its first occurrence is taken).
        #expect(zone.gap(at: try #require(LocalDateTime(parsing: "2026-10-25 02:30"))) == nil)
    }

    /// D16: every step of a safety call (which pages everyone) is an alert, its escalations too.
    @Test func aSafetyCallsEscalationsStayAlerts() throws {
        var engine = EscalationEngine(plant: TestPlant.make(pageEveryone: [.safety]), startingAt: t0)
        let raised = engine.receive(.andon(line: "L1", station: "S1", category: .safety, text: nil), at: t0)
        #expect(raised.events.map(\.severity) == [.alert])
        let escalated = engine.advance(to: t0 + .minutes(3))
        #expect(escalated.kinds == [.escalated])
        #expect(escalated.map(\.severity) == [.alert])
    }

    /// D14: a refusal names people as they know them (display name, Unix user), not by their rota keys.
    @Test func aRefusalNamesPeopleByTheirNamesNotTheirKeys() throws {
        var plant = TestPlant.make()
        plant.responders["g"] = Responder(id: "g", name: "Gina Lang", user: "glang")
        plant.responders["a"] = Responder(id: "a", name: "Anna Becker", user: "abecker")
        var engine = EscalationEngine(plant: plant, startingAt: t0)
        let id = try #require(
            engine.receive(.andon(line: "L1", station: "S1", category: .help, text: nil), at: t0).incident
        )
        let refused = engine.acknowledge(id, by: .responder("g"), at: t0 + .seconds(5))
        guard case .failure(let error) = refused.result else {
            Issue.record("g was not notified: refused")
            return
        }
        #expect(
            error.message
                == "Gina Lang (glang) was not notified for incident 1 and is not on the KPO rota "
                + "(notified: Anna Becker (abecker)); ask one of them or KPO to act on it"
        )
    }

    // MARK: KPO widens after its repeats

    /// An andon nobody answers: team leader 3m, group leader 5m, KPO after 10m, then every 5m.
    func unansweredCalls(_ plant: Plant) throws -> [Event] {
        var engine = EscalationEngine(plant: plant, startingAt: t0)
        _ = try #require(engine.receive(.andon(line: "L1", station: "S1", category: .help, text: nil), at: t0).incident)
        return engine.advance(to: t0 + .minutes(38)).filter { $0.kind == .unanswered }
    }

    @Test func anUnansweredCallWidensToEveryKPOMemberAfterThreeRepeats() throws {
        let plant = TestPlant.make()
        let calls = try unansweredCalls(plant)
        #expect(calls.map(\.count) == [1, 2, 3, 4, 5])
        #expect(calls.map(\.at) == [18, 23, 28, 33, 38].map { t0 + .minutes($0) })
        #expect(calls.prefix(3).allSatisfy { $0.responders == ["k2"] })
        // k2's week: k2 first, then the others in the rotation's order.
        #expect(calls[3].responders == ["k2", "k1", "k3"])
        #expect(calls[4].responders == ["k2", "k1", "k3"])
        #expect(calls[2].message(in: plant).hasSuffix("KPO call 3: calling k2"))
        #expect(calls[3].message(in: plant).hasSuffix("KPO call 4: calling every KPO member: k2, k1, k3"))
    }

    @Test func wideningLeavesOutWhoAnOverrideHasAwayAndFollowsTheSetting() throws {
        let sick = Override(from: t0, until: t0 + .seconds(86_400), responder: nil, replaces: "k3", note: "sick")
        // A stand-in of last month is not on call today.
        let past = Override(
            from: t0 - .seconds(40 * 86_400),
            until: t0 - .seconds(30 * 86_400),
            responder: "x",
            replaces: nil
        )
        var plant = TestPlant.make(kpoOverrides: [sick, past])
        plant.kpoWidenAfter = 1
        let calls = try unansweredCalls(plant)
        #expect(calls[0].responders == ["k2"])
        #expect(calls[1].responders == ["k2", "k1"])
        plant.kpoWidenAfter = 0
        let widenedAtOnce = try unansweredCalls(plant)
        #expect(widenedAtOnce[0].responders == ["k2", "k1"])
    }
}
