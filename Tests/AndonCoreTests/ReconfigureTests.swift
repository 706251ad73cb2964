import Testing

@testable import AndonCore

/// A reload swaps the configuration: open incidents keep their state and follow the new rotas from then on.
@Suite struct ReconfigureTests {
    let t0 = TestPlant.local("2026-11-25 10:00")

    @Test func openIncidentsKeepTheirStateAndFollowTheNewRota() throws {
        var engine = EscalationEngine(plant: TestPlant.make(), startingAt: t0)
        let id = try #require(
            engine.receive(.andon(line: "L1", station: "S1", category: .help, text: nil), at: t0).incident
        )
        var plant = TestPlant.make()
        plant.rotas["gl"] = Rota(id: "gl", byShift: ["early": ["x"], "late": ["x"]])
        #expect(
            plant.changes(from: TestPlant.make()) == [
                "rota gl changed: joined x; left g; shift early: g -> x; shift late: g -> x"
            ]
        )
        // D13: a handover that keeps a member on another shift says who left which shift; a line says what changed.
        var handover = TestPlant.make()
        handover.rotas["tl"] = Rota(id: "tl", byShift: ["early": ["b"], "late": ["b"], "night": ["c"]])
        handover.lines["L2"]?.heartbeatWithin = .seconds(60)
        handover.lines["L2"]?.policies[.cost] = nil
        handover.kpoWidenAfter = 5
        #expect(
            handover.changes(from: TestPlant.make()) == [
                "line L2 changed: categories -cost; heartbeat_within none -> 1m",
                "rota tl changed: left a; shift early: a -> b",
                "kpo_widen_after 3 -> 5",
            ]
        )
        #expect(engine.reconfigure(plant, at: t0 + .minutes(1)).kinds == [])
        #expect(engine.incident(id)?.tierName == "team-leader")
        #expect(engine.nextDeadline == t0 + .minutes(3))
        let escalated = engine.advance(to: t0 + .minutes(3))
        #expect(escalated.kinds == [.escalated])
        #expect(escalated[0].responders == ["x"])
    }

    @Test func aChainThatLostTiersKeepsTheIncidentAtItsLastTier() throws {
        var engine = EscalationEngine(plant: TestPlant.make(), startingAt: t0)
        let id = try #require(
            engine.receive(.andon(line: "L1", station: "S1", category: .help, text: nil), at: t0).incident
        )
        _ = engine.advance(to: t0 + .minutes(3))
        #expect(engine.incident(id)?.tierIndex == 1)
        var plant = TestPlant.make()
        plant.policies["andon"] = Policy(
            id: "andon",
            tiers: [Tier(name: "kpo", ackWithin: .minutes(1), repeatEvery: .minutes(1))]
        )
        _ = engine.reconfigure(plant, at: t0 + .minutes(4))
        #expect(engine.incident(id)?.tierIndex == 0)
        #expect(plant.changes(from: TestPlant.make()) == ["chain andon changed"])
        // It stays armed: the old deadline fires at KPO now, as unanswered.
        let events = engine.advance(to: t0 + .minutes(8))
        #expect(events.kinds == [.unanswered])
    }

    @Test func heartbeatWatchesStartAndStopWithTheirLines() {
        var engine = EscalationEngine(plant: TestPlant.make(), startingAt: t0)
        #expect(engine.nextCallDeadline == nil)
        _ = engine.reconfigure(TestPlant.make(heartbeat: .seconds(30)), at: t0 + .seconds(10))
        #expect(engine.nextDeadline == t0 + .seconds(40))
        #expect(engine.advance(to: t0 + .seconds(40)).kinds == [.silent])
        _ = engine.reconfigure(TestPlant.make(), at: t0 + .seconds(50))
        // The open silent incident stays; no new watch deadlines remain besides its escalation.
        #expect(engine.openIncidentCount == 1)
        #expect(engine.nextDeadline == t0 + .seconds(40) + .minutes(2))
    }
}
