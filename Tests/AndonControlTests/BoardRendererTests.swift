import AndonControl
import AndonCore
import AndonProtocol
import Foundation
import Testing

/// The board's layout as a pure function of a status: the most urgent calls are never the ones that do not fit.
@Suite struct BoardRendererTests {
    static let now: Int64 = 1_796_000_000_000

    static func call(
        _ id: UInt64,
        line: String,
        station: String,
        category: String?,
        kind: String = "andon",
        tier: String = "team-leader",
        minutesAgo: Int64
    ) -> IncidentReport {
        let object: [String: Any] = [
            "id": id, "kind": kind, "line": line, "station": station, "category": category ?? NSNull(), "tier": tier,
            "tierNumber": tier == "kpo" ? 3 : 1, "tiers": 3, "rota": tier, "responders": ["ines"],
            "raisedAt": now - minutesAgo * 60_000, "ageMilliseconds": minutesAgo * 60_000, "signals": 1,
        ]
        // A literal of the report's own fields: it decodes.
        return try! JSONDecoder().decode(IncidentReport.self, from: JSONSerialization.data(withJSONObject: object))
    }

    static func status(_ incidents: [IncidentReport], lines count: Int = 3) -> StatusReport {
        let lines = (1...count).map { "L\($0)" }.map { PlantView.Line(id: $0, description: nil, stations: []) }
        return StatusReport(
            site: "Werk Nord",
            now: now,
            incidents: incidents,
            counters: [:],
            total: incidents.count,
            plant: PlantView(lines: lines, kpo: ["mia"], shift: "early", shiftStart: nil, timeZone: "Europe/Berlin")
        )
    }

    /// D4: at 80x24 with 27 open calls, the newest one a safety andon, the safety andon, the line stop and the
    /// call unanswered at KPO are shown first, whatever their age; the overflow row counts what it hides by kind.
    @Test func theMostUrgentCallsComeFirstAndKeepTheirRows() throws {
        var calls = (1...24).map {
            Self.call(UInt64($0), line: "L1", station: "S\($0)", category: "help", minutesAgo: 60 - Int64($0))
        }
        calls.append(Self.call(25, line: "L2", station: "K1", category: "quality", tier: "kpo", minutesAgo: 40))
        calls.append(Self.call(26, line: "L2", station: "P4", category: nil, kind: "stop", minutesAgo: 2))
        calls.append(Self.call(27, line: "L3", station: "B1", category: "safety", minutesAgo: 0))
        let renderer = BoardRenderer(width: 80, height: 24, color: false)
        let rows = renderer.render(
            Self.status(calls),
            extras: .init(),
            zone: SiteTimeZone(identifier: "Europe/Berlin")!
        )
        #expect(rows.count == 24)
        #expect(rows.allSatisfy { $0.count <= 80 })
        let callRows = rows.filter { $0.contains(" #") }
        #expect(callRows.count == 24 - 2 - 3 - 1)  // header, three lines, the overflow row
        #expect(callRows[0].contains("#26 line stop L2/P4"))
        #expect(callRows[1].contains("#27 safety L3/B1"))
        #expect(callRows[2].contains("#25 quality L2/K1"))
        #expect(callRows[3].contains("#1 help L1/S1"), "then the rest, oldest first")
        #expect(rows.last?.hasPrefix("9 more calls (9 help): andonctl status") == true, "\(rows.last ?? "")")

        // Safety is red, like a stop; help is yellow.
        let painted = BoardRenderer(width: 80, height: 24, color: true)
            .render(Self.status(calls), extras: .init(), zone: .utc)
        let safety = try #require(painted.first { $0.contains("#27") })
        #expect(safety.contains("\u{1b}[97;41;1msafety L3/B1"))
        let help = try #require(painted.first { $0.contains("#1 ") })
        #expect(help.contains("\u{1b}[30;43mhelp L1/S1"))
    }

    /// On a terminal too small for every line and the severe calls, the severe calls keep their rows; lines with
    /// calls come before the running ones.
    @Test func severeCallsKeepTheirRowsOnASmallTerminal() {
        let calls = [
            Self.call(1, line: "L3", station: "B1", category: "safety", minutesAgo: 1),
            Self.call(2, line: "L2", station: "P4", category: nil, kind: "stop", minutesAgo: 3),
            Self.call(3, line: "L1", station: "S1", category: "help", minutesAgo: 9),
        ]
        // The smallest board: 8 rows, with 6 lines to show.
        let rows = BoardRenderer(width: 80, height: 8, color: false)
            .render(Self.status(calls, lines: 6), extras: .init(), zone: .utc)
        #expect(rows.count == 8)
        #expect(rows.filter { $0.hasPrefix("L") }.map { String($0.prefix(2)) } == ["L1", "L2", "L3"])
        #expect(rows.contains { $0.contains("#2 line stop L2/P4") })
        #expect(rows.contains { $0.contains("#1 safety L3/B1") })
        #expect(rows.last?.hasPrefix("1 more call (1 help)") == true, "\(rows)")
        #expect(rows.last?.contains("3 more lines") == true, "\(rows)")
    }
}
