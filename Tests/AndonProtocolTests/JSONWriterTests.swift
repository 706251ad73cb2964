import AndonProtocol
import Foundation
import Testing

/// The streamed status JSON is exactly what `JSONEncoder` (sorted keys, slashes unescaped) writes for the same
/// report, so andonctl and scripts read the same thing whichever way the daemon wrote it.
@Suite struct JSONWriterTests {
    static func report(_ index: Int, text: String?) -> IncidentReport {
        var report = try! JSONDecoder().decode(  // a literal report of known fields
            IncidentReport.self,
            from: Data(
                """
                {"id":\(index),"kind":"andon","line":"L\(index % 3)","tier":"team-leader","tierNumber":1,"tiers":3,
                "rota":"team-leader","responders":["anna","ben"],"raisedAt":1770000000000,"ageMilliseconds":\(index * 7),
                "signals":\(index % 4 + 1)}
                """.utf8
            )
        )
        if index % 2 == 0 {
            report.station = "S\(index)"
            report.category = "quality"
            report.acknowledgedBy = "anna"
            report.acknowledgedAt = 1_770_000_001_000
            report.nextDeadline = -5
            report.owners = ["anna"]
            report.state = index % 4 == 0 ? "arrived" : "acknowledged"
            report.arrivedAt = index % 4 == 0 ? 1_770_000_002_000 : nil
            report.arrivedBy = index % 4 == 0 ? "station L1/S\(index)" : nil
            report.stations = ["S\(index)", "S\(index + 1)"]
            report.lineStop = UInt64(index + 100)
        }
        report.text = text
        report.responders = Array(report.responders.prefix(index % 3))
        return report
    }

    @Test func theStreamedStatusIsWhatJSONEncoderWrites() throws {
        let texts: [String?] = [
            nil, "plain", "quote \" and backslash \\ and slash /", "tab\tnew\nline\r", "\u{01}\u{08}\u{0c}\u{1f}",
            "Grüße, ünïcødé ✓ 🏭", "",
        ]
        let report = StatusReport(
            site: "Werk \"Süd\"",
            now: 1_770_000_009_000,
            incidents: texts.indices.map { Self.report($0, text: texts[$0]) },
            counters: ["messages": 12, "rejected-syntax": 1, "journal-written": 40, "a": -3],
            total: 9,
            omitted: 2
        )
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let expected = String(decoding: try encoder.encode(report), as: UTF8.self)
        #expect(report.json == expected)
        #expect(try JSONDecoder().decode(StatusReport.self, from: Data(report.json.utf8)) == report)
        let empty = StatusReport(site: "x", now: 0, incidents: [], counters: [:])
        #expect(empty.json == String(decoding: try encoder.encode(empty), as: UTF8.self))
    }

    @Test func thePlantWithShelvesAndStationsOutOfServiceIsWhatJSONEncoderWrites() throws {
        let plant = try JSONDecoder().decode(  // a literal plant view of every field
            PlantView.self,
            from: Data(
                #"""
                {"lines":[{"id":"L1","stations":[]}],"kpo":["Kai (k)"],"timeZone":"Europe/Berlin",
                "pageEveryone":["safety"],"shift":"early","shiftStart":1770000000000,
                "shelves":[{"id":3,"line":"L1","station":"S3","until":1770007200000,"calls":[7,9],
                "reason":"hydraulics \"under\" repair","by":"anna","since":1770000000000},
                {"id":4,"line":"L2","category":"material","calls":[],"reason":"x","by":"root","since":1}],
                "outOfService":[{"line":"L3","station":"S1","reason":"rebuilt","by":"root","since":5,"signals":2}]}
                """#.utf8
            )
        )
        var incident = Self.report(1, text: nil)
        incident.shelf = 3
        let report = StatusReport(site: "x", now: 0, incidents: [incident], counters: [:], plant: plant)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        #expect(report.json == String(decoding: try encoder.encode(report), as: UTF8.self))
    }

    @Test func aLargeValueIsQuotedOnceAndParsesBack() throws {
        let value = String(repeating: #"{"a":"b \"c\" \\"}, "#, count: 20_000)
        let rendered = Reply.ok(["json": value]).rendered
        guard case .ok(let fields) = try Reply.parse(rendered).get() else {
            Issue.record("not ok")
            return
        }
        #expect(fields.first { $0.key == "json" }?.value == value)
    }
}
