import Testing

@testable import AndonCore

/// One priority queue for every timer: it must stay proportional to the open incidents, however often their
/// timers change.
@Suite struct DeadlineQueueTests {
    @Test func manyIncidentsShareOneQueueThatStaysBounded() throws {
        let t0 = TestPlant.local("2026-11-25 10:00")
        var engine = EscalationEngine(plant: TestPlant.make(), startingAt: t0)
        let count = 2000
        for index in 0..<count {
            let station = StationID(rawValue: "S\(index)")
            _ = engine.receive(.andon(line: "L1", station: station, category: .help, text: nil), at: t0)
        }
        #expect(engine.openIncidentCount == count)
        #expect(engine.queuedTimerCount == count + 1)  // and the duty-change timer
        // Acknowledge and escalate by hand again and again: each replaces a timer, leaving a stale entry behind.
        for round in 0..<6 {
            let at = t0 + .seconds(Int64(round + 1))
            for incident in engine.openIncidents {
                if round % 2 == 0 {
                    _ = engine.escalate(incident.id, by: .administrator(user: "root"), at: at)
                } else {
                    _ = engine.acknowledge(incident.id, by: .administrator(user: "root"), at: at)
                }
            }
            #expect(engine.queuedTimerCount <= 2 * count + 64, "round \(round): \(engine.queuedTimerCount) entries")
        }
        // Every incident was escalated by hand three times: all at KPO, acknowledged, KPO has no resolve_within, so
        // each waits for its reminder.
        #expect(engine.openIncidents.allSatisfy { $0.isAtKPO && $0.isAcknowledged })
        #expect(engine.openIncidents.allSatisfy { $0.deadline?.purpose == .remind })
        // And all of them time out together, in ID order, at one instant.
        var again = EscalationEngine(plant: TestPlant.make(), startingAt: t0)
        for index in 0..<count {
            _ = again.receive(
                .andon(line: "L1", station: StationID(rawValue: "S\(index)"), category: .help, text: nil),
                at: t0
            )
        }
        let events = again.advance(to: t0 + .minutes(3))
        #expect(events.count == count)
        #expect(events.map(\.incident) == again.openIncidents.map(\.id))
    }
}
