import AndonCore
import AndonDaemon
import AndonProtocol
import AndonSimulation
import AndonSystemd
import AndonTestSupport
import Testing

/// Shelving through the stages under the manual clock: who may, the reply, the journal's entries, nobody notified,
/// a restart from the log (the shelf and the station out of service come back and end on time).
@Suite struct ShelvingStageTests {
    @Test func aShelfSurvivesACrashAndEndsAtItsInstantWithItsEntries() throws {
        let harness = try StageHarness(
            yaml: PlantFixture.yaml(socket: "/tmp/unused.sock", within: "1h", resolveWithin: nil)
                + "\nmax_shelve: 4h\n"
        )
        defer { harness.remove() }
        let start = harness.clock.now
        #expect(harness.send("andon line=L1 station=S3 category=help seq=1")?.isOK == true)
        // Someone who is not a responder may not shelve.
        #expect(
            harness.send("shelve line=L1 for=1h reason=x", from: StageHarness.user("nobody"))?.errorCode
                == "not-authorized"
        )
        #expect(harness.send("shelve line=L1 for=5h reason=x", from: StageHarness.root)?.errorCode == "bad-value")
        #expect(
            harness.send("shelve line=L1 category=safety for=1h reason=x", from: StageHarness.root)?.errorCode
                == "not-shelvable"
        )
        let reply = try #require(
            harness.send("shelve line=L1 station=S3 for=2h reason=\"seal replaced\"", from: StageHarness.root)
        )
        let until = (start + .seconds(7200)).millisecondsSinceEpoch / 1000
        #expect(reply.rendered.hasPrefix("ok shelf=1 incidents=1 until=\(until) until_local=\""))
        #expect(harness.send("out-of-service line=L2 station=S9 reason=rebuilt", from: StageHarness.root)?.isOK == true)
        // who says what a call there would meet now.
        let who = try #require(harness.send("who line=L1 station=S3 category=help", from: StageHarness.root))
        #expect(who.rendered.contains("SHELVED: shelf 1 (seal replaced") && who.rendered.contains("\\\"standing\\\":"))
        let oos = try #require(harness.send("who line=L2 station=S9 category=help", from: StageHarness.root))
        #expect(oos.rendered.contains("OUT OF SERVICE: station S9 of line L2"))
        #expect(
            harness.send("who line=L2 station=S9 category=safety", from: StageHarness.root)?.rendered.contains(
                "OUT OF SERVICE"
            ) == false
        )
        let entries = harness.journal.written.map(\.entry)
        #expect(entries.contains { $0[JournalField.event] == "shelved" && $0[JournalField.shelf] == "1" })
        let shelve = try #require(entries.first { $0[JournalField.event] == "shelve" })
        #expect(shelve[JournalField.messageID] == MessageID.of(PlantNotice.Kind.shelve))
        #expect(shelve[JournalField.reason] == "seal replaced" && shelve[JournalField.incidents] == "1")
        #expect(shelve[JournalField.until] == String((start + .seconds(7200)).millisecondsSinceEpoch))
        #expect(entries.contains { $0[JournalField.event] == "out-of-service" && $0[JournalField.station] == "S9" })

        // andond dies; the restart replays the log (or reads the snapshot): the shelf and the station are back.
        try harness.crash()
        let engine = harness.stages.escalation.engine
        #expect(engine.standingShelves.map(\.id) == [1] && engine.incident(IncidentID(1))?.shelf == 1)
        #expect(engine.stationsOutOfService.map(\.station) == ["S9"])
        #expect(harness.send("andon line=L2 station=S9 category=help")?.rendered.contains("out of service") == true)
        let before = harness.journal.written.count
        harness.advance(to: start + .seconds(7200) - .milliseconds(1))
        #expect(!harness.journal.written.dropFirst(before).contains { $0.entry[JournalField.event] == "unshelved" })
        harness.advance(to: start + .seconds(7200))
        let ended = harness.journal.written.dropFirst(before).map(\.entry)
        #expect(ended.filter { $0[JournalField.event] == "unshelved" }.map { $0[JournalField.incident] } == ["1"])
        let unshelve = try #require(ended.first { $0[JournalField.event] == "unshelve" })
        #expect(unshelve[JournalField.expired] == "1" && unshelve[JournalField.lasted] == "7200000")
        // A status shows the station out of service and no shelf.
        let status = harness.stages.signals.statusView(line: nil, limit: nil).json
        #expect(status.contains("\"outOfService\":[{") && !status.contains("\"shelves\""))
    }
}
