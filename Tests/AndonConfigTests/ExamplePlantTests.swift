import AndonConfig
import AndonCore
import Testing

/// Calls on the example plant (etc/andond/andond.yaml) followed across its shift changes, both DST nights of 2026 and
/// its Christmas Eve shift swap, under the manual clock.
@Suite struct ExamplePlantTests {
    static let plant = try! ConfigurationLoader.load(path: ConfigurationTests.examplePath, now: ConfigurationTests.now)
        .plant  // the example is valid (ConfigurationTests)

    static func local(_ text: String) -> Instant { plant.timeZone.instant(of: LocalDateTime(parsing: text)!) }

    let help = Signal.andon(line: "L2", station: "S3", category: .help, text: nil)

    /// Raises L2/S3's help andon at `raised`, has the team leader on duty acknowledge it a minute later and arrive two
    /// minutes after that, then returns the handovers up to `until`.
    func follow(from raised: String, by teamLeader: ResponderID, until: String) throws -> [Event] {
        var engine = EscalationEngine(plant: Self.plant, startingAt: Self.local(raised))
        let outcome = engine.receive(help, at: Self.local(raised))
        guard case .success(.opened(let id)) = outcome.result else { throw ExampleError.notOpened }
        #expect(outcome.events.first?.responders == [teamLeader])
        _ = engine.acknowledge(id, by: .responder(teamLeader), at: Self.local(raised) + .seconds(60))
        _ = engine.arrive(id, by: .responder(teamLeader), at: Self.local(raised) + .seconds(180))
        // (L1's controller, with a heartbeat watch, goes silent meanwhile: a call of its own.)
        let events = engine.advance(to: Self.local(until)).filter { $0.incident == id }
        #expect(!events.contains { $0.kind == .overdue || $0.kind == .escalated }, "nothing escalates once arrived")
        #expect(engine.incident(id)?.isAcknowledged == true)
        return events.filter { $0.kind == .handedOver }
    }

    @Test func theFallBackNightHandsTheLateShiftsCallToTheMorningAfterNineHours() throws {
        // Saturday 2026-10-24: eva (late) to felix (night) at 22:00 CEST; felix to dirk (early) at 06:00 CET.
        let handovers = try follow(from: "2026-10-24 21:50", by: "eva", until: "2026-10-25 06:30")
        #expect(handovers.map(\.at) == [Self.local("2026-10-24 22:00"), Self.local("2026-10-25 06:00")])
        #expect(handovers.map(\.previous) == [["eva"], ["felix"]])
        #expect(handovers.map(\.responders) == [["felix"], ["dirk"]])
        #expect(handovers.map(\.state) == ["arrived", "arrived"])
        #expect(handovers[1].elapsed == .seconds(9 * 3600 + 600))
        #expect(handovers[1].graceUntil == Self.local("2026-10-25 06:15"))
    }

    @Test func theSpringForwardNightHandsOverAfterSevenHours() throws {
        let handovers = try follow(from: "2026-03-28 21:50", by: "eva", until: "2026-03-29 06:30")
        #expect(handovers.map(\.at) == [Self.local("2026-03-28 22:00"), Self.local("2026-03-29 06:00")])
        #expect(handovers[1].elapsed == .seconds(7 * 3600 + 600))
        #expect(handovers.map(\.responders) == [["felix"], ["dirk"]])
    }

    @Test func theChristmasEveSwapHandsOverToFelixAndTheNightKeepsHim() throws {
        // 2026-12-24 14:00-22:00 felix replaces eva ("shift swap"); the night is felix's anyway: no handover at 22:00.
        let handovers = try follow(from: "2026-12-24 13:50", by: "dirk", until: "2026-12-25 06:30")
        #expect(handovers.map(\.at) == [Self.local("2026-12-24 14:00"), Self.local("2026-12-25 06:00")])
        #expect(handovers.map(\.responders) == [["felix"], ["dirk"]])
    }

    @Test func aSafetyCallPagesTheWholeChainAtOnce() throws {
        let at = Self.local("2026-12-02 10:00")
        var engine = EscalationEngine(plant: Self.plant, startingAt: at)
        let outcome = engine.receive(.andon(line: "L1", station: "S1", category: .safety, text: "guard open"), at: at)
        #expect(outcome.events.first?.responders == ["anna", "jonas", "mia"])  // mia: KPO since 2026-11-30 06:00
        #expect(outcome.events.first?.severity == .alert)
    }
}

private enum ExampleError: Error { case notOpened }
