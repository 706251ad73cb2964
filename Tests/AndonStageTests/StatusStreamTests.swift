import AndonConfig
import AndonCore
import AndonProtocol
import AndonSimulation
import AndonTestSupport
import Foundation
import Testing

@testable import AndonDaemon

/// A status written in pieces is, byte for byte, the reply line `Reply.rendered` would give for the whole JSON,
/// whatever the size of its pieces; and its JSON decodes.
@Suite struct StatusStreamTests {
    static func view(calls: Int) throws -> StatusView {
        let now = Instant(millisecondsSinceEpoch: 1_796_000_000_000)
        let plant = try ConfigurationLoader.parse(
            PlantFixture.yaml(socket: "/tmp/unused.sock"),
            file: "test.yaml",
            now: now
        ).plant
        var engine = EscalationEngine(plant: plant, startingAt: now)
        for index in 0..<calls {
            // Texts with the characters the wire escapes (quotes, backslashes) and the JSON escapes.
            let text = index % 3 == 0 ? #"say "\stop" \\ now"# : index % 3 == 1 ? "x\u{202E}y\u{2028}" : nil
            _ = engine.receive(
                .andon(
                    line: LineID(rawValue: "L\(index % 3 + 1)"),
                    station: StationID(rawValue: "S\(index)"),
                    category: .help,
                    text: text
                ),
                at: now + .milliseconds(Int64(index))
            )
        }
        return StatusView(
            engine: engine,
            counters: ["messages": calls, "journal-written": 7],
            now: engine.now,
            line: nil,
            limit: nil
        )
    }

    @Test(arguments: [0, 1, 5, 300])
    func thePiecesAreTheWholeReply(calls: Int) throws {
        let view = try Self.view(calls: calls)
        let json = StatusReport.json(
            site: view.engine.plant.name,
            now: view.now.millisecondsSinceEpoch,
            counters: view.counters,
            total: view.engine.openIncidentCount,
            omitted: 0,
            incidents: view.ids.compactMap { view.report($0) },
            plant: StatusView.plantView(view.engine, at: view.now)
        )
        let whole = Reply.ok(["json": json]).rendered
        for pieceSize in [1, 100, 64 << 10] {
            let pieces = Array(StatusStream(view: view, pieceSize: pieceSize).pieces())
            #expect(String(decoding: pieces.joined(), as: UTF8.self) == whole, "pieces of \(pieceSize)")
            if pieceSize == 100 && calls == 300 { #expect(pieces.count > 100, "written in many pieces") }
        }
        // And andonctl reads it back.
        let reply = try Reply.parse(whole).get()
        let decoded = try ControlClientDecode.status(reply)
        #expect(decoded.incidents.count == calls)
        let expected: String? = calls > 0 ? #"say "\stop" \\ now"# : nil
        #expect(decoded.incidents.first { $0.id == 1 }?.text == expected)
    }
}

/// andonctl's decoding of a status reply, as `ControlClient.payload` does it.
enum ControlClientDecode {
    static func status(_ reply: Reply) throws -> StatusReport {
        try JSONDecoder().decode(StatusReport.self, from: Data((reply["json"] ?? "").utf8))
    }
}
