import AndonConfig
import AndonCore
import AndonProtocol
import AndonSimulation
import AndonStore
import AndonSystemd
import AndonTestSupport
import Foundation
import Testing

@testable import AndonDaemon

/// Restore in-process: every memory dropped, as a kill does, then the stages opened again on the same directory, on
/// a manual clock. What was answered `ok` is there, what was not committed is not, what fell due while andond was
/// down happens at once and says how late, and the journal gets every entry it did not confirm.
@Suite struct RestoreTests {
    static func within(_ duration: String) -> String {
        PlantFixture.yaml(socket: "/tmp/unused.sock", within: duration, resolveWithin: nil)
    }

    /// A restart gives the same engine as before the crash, and arms the same deadline.
    @Test func aRestartRestoresWhatWasCommittedExactly() throws {
        let harness = try StageHarness(yaml: Self.within("10m"))
        defer { harness.remove() }
        for station in 1...5 {
            #expect(harness.send("andon line=L1 station=S\(station) category=help seq=\(station)")?.isOK == true)
            harness.clock.advance(by: .seconds(7))
        }
        #expect(harness.send("ack id=2 note=coming", from: StageHarness.user(PlantFixture.teamLeader))?.isOK == true)
        #expect(harness.send("stop line=L2 seq=1")?.isOK == true)
        let before = harness.stages.escalation.engine
        let deadline = harness.timer.deadline
        try harness.crash()
        let after = harness.stages.escalation.engine
        #expect(after.openIncidents == before.openIncidents)
        #expect(harness.timer.deadline == deadline)
        let restored = harness.journal.written.last { $0.entry[JournalField.messageID] == MessageID.restored }
        #expect(restored?.entry[JournalField.restored] == "6" && restored?.entry[JournalField.cleanStop] == "0")
    }

    /// A torn last batch: inputs appended and not committed when andond died were never answered, and are not in
    /// the state after the restart; the controller resends, and the call is raised once.
    @Test func aTornBatchWasNeverAnsweredAndIsNotRestored() throws {
        let harness = try StageHarness(yaml: Self.within("10m"))
        defer { harness.remove() }
        #expect(harness.send("andon line=L1 station=S1 category=help seq=1")?.isOK == true)
        let box = ReplyBox()
        harness.stages.signals.handle(
            Array("andon line=L1 station=S2 category=help seq=2".utf8),
            from: StageHarness.controller,
            reply: box.deliver
        )
        #expect(harness.stages.escalation.engine.openIncidentCount == 2, "taken by the engine, not yet on disk")
        try harness.crash()
        #expect(box.all.isEmpty, "never answered")
        #expect(harness.stages.escalation.engine.openIncidentCount == 1)
        #expect(harness.send("andon line=L1 station=S2 category=help seq=2")?.isOK == true, "the resend is taken")
        #expect(harness.stages.escalation.engine.openIncidentCount == 2)
    }

    /// Deadlines that passed while andond was down happen at the restart, in order, each entry saying how late; the
    /// restored entry counts them.
    @Test func whatFellDueWhileDownHappensAtOnceAndSaysHowLate() throws {
        let harness = try StageHarness()
        defer { harness.remove() }
        #expect(harness.send("andon line=L1 station=S1 category=help seq=1")?.isOK == true)
        let written = harness.journal.writtenCount
        harness.stages.escalation.stop()
        harness.stages.committer.step(ending: true)
        let down = harness.clock.now
        harness.clock.advance(by: .seconds(90))
        try harness.crash()
        let late = harness.journal.written(from: written).filter { $0.entry[JournalField.event] == "escalated" }
        #expect(late.count == 2, "group leader, then KPO")
        #expect(late.map { $0.entry[JournalField.late] } == ["89000", "88000"])
        let restored = harness.journal.written.last { $0.entry[JournalField.messageID] == MessageID.restored }
        #expect(restored?.entry[JournalField.cleanStop] == "1")
        #expect(
            restored?.entry[JournalField.down].flatMap { Int64($0) }
                == harness.clock.now.duration(since: down).milliseconds
        )
        #expect(Int(restored?.entry[JournalField.lateEvents] ?? "") ?? 0 >= 2)
    }

    /// Entries committed while journald was away, and not confirmed when andond died, are written after the
    /// restart from the outbox, once each and in order.
    @Test func theOutboxIsWrittenAfterARestartInOrder() throws {
        let harness = try StageHarness(yaml: Self.within("10m"))
        defer { harness.remove() }
        harness.journal.setAvailable(false)
        for station in 1...3 {
            #expect(harness.send("andon line=L1 station=S\(station) category=help")?.isOK == true)
        }
        #expect(harness.journal.written.allSatisfy { $0.sequence == nil })
        try harness.crash()
        harness.journal.setAvailable(true)
        let durable = harness.journal.written.compactMap(\.sequence)
        #expect(durable == Array(1...Int64(durable.count)) && durable.count >= 3)
        #expect(harness.journal.statistics.waiting == 0)
    }
}
