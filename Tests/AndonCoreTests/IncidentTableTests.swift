import Testing

@testable import AndonCore

/// The incidents are boxed and shared between copies of the engine (a status request, a snapshot): a copy must keep
/// what it saw while the original goes on, and the original must not see what a copy does.
@Suite struct IncidentTableTests {
    let t0 = TestPlant.local("2026-11-25 10:00")

    @Test func aCopyOfTheEngineKeepsItsIncidentsWhileTheOriginalChangesThem() throws {
        var engine = EscalationEngine(plant: TestPlant.make(), startingAt: t0)
        let first = try #require(
            engine.receive(.andon(line: "L1", station: "S3", category: .help, text: nil), at: t0).incident
        )
        let second = try #require(
            engine.receive(.andon(line: "L1", station: "S4", category: .quality, text: "burr"), at: t0).incident
        )
        let copy = engine

        _ = engine.acknowledge(first, by: .responder("a"), at: t0 + .minutes(1))
        _ = engine.resolve(second, by: .responder("a"), note: "deburred", at: t0 + .minutes(2))
        _ = engine.receive(.andon(line: "L2", station: "S1", category: .help, text: nil), at: t0 + .minutes(3))

        #expect(copy.incidents.count == 2)
        #expect(copy.incident(first)?.acknowledgedAt == nil)
        #expect(copy.incident(second)?.text == "burr")
        #expect(engine.incidents.count == 2)
        #expect(engine.incident(first)?.acknowledgedAt != nil)
        #expect(engine.incident(second) == nil)

        var other = copy
        _ = other.resolve(first, by: .responder("a"), note: "done", at: t0 + .minutes(4))
        #expect(other.incident(first) == nil)
        #expect(copy.incident(first) != nil)
        #expect(engine.incident(first) != nil)
    }

    @Test func theTableAnswersLikeTheDictionaryItReplaces() throws {
        var engine = EscalationEngine(plant: TestPlant.make(), startingAt: t0)
        var expected: [IncidentID: Incident] = [:]
        for station in 0..<40 {
            let at = StationID(rawValue: "S\(station)")
            let id = try #require(
                engine.receive(.andon(line: "L1", station: at, category: .help, text: nil), at: t0).incident
            )
            expected[id] = engine.incident(id)
        }
        var table = IncidentTable(uniqueKeysWithValues: expected.map { ($0.key, $0.value) })
        #expect(table.count == 40)
        #expect(Set(table.keys) == Set(expected.keys))
        #expect(Set(table.values.map(\.id)) == Set(expected.keys))
        let some = try #require(expected.keys.first)
        #expect(table.removeValue(forKey: some)?.id == some)
        #expect(table.removeValue(forKey: some) == nil)
        #expect(table[some] == nil)
        #expect(table.updateValue(expected[some]!, forKey: some) == nil)
        #expect(table[some]?.id == some)
        table[some] = nil
        #expect(table.count == 39)
        #expect(!table.isEmpty)
    }
}
