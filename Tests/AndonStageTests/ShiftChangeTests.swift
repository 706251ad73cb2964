import AndonConfig
import AndonCore
import AndonProtocol
import AndonSimulation
import AndonSystemd
import AndonTestSupport
import Foundation
import Testing

@testable import AndonDaemon

/// A shift change through every stage, in-process on the manual clock: the call passes to the incoming team leader at
/// the boundary to the millisecond, the outgoing one keeps the right for the grace (1 s) and not a millisecond more.
/// (The spawned daemon waited for the next real minute for this: up to 68 s.)
@Suite struct ShiftChangeTests {
    /// The harness starts at 01:53:20 Berlin time: `tl` has the night until 02:00, then `tl2` the day.
    static let yaml = PlantFixture.shiftChange(socket: "/tmp/unused.sock", day: "02:00", night: "14:00")
    static let boundary = StageHarness.start + .seconds(6 * 60 + 40)

    @Test func theIncomingTeamLeaderTakesTheCallAtTheShiftChange() throws {
        let harness = try StageHarness(yaml: Self.yaml)
        defer { harness.remove() }
        let (outgoing, incoming) = (
            StageHarness.user(PlantFixture.teamLeader), StageHarness.user(PlantFixture.incomingTeamLeader, uid: 1001)
        )
        let raised = harness.send("andon line=L1 station=S1 category=help")
        #expect(raised?.rendered == "ok incident=1 event=raised tier=team-leader responders=\(PlantFixture.teamLeader)")
        #expect(harness.send("ack id=1", from: incoming)?.errorCode == "not-authorized", "not before the change")
        #expect(harness.timer.deadline == Self.boundary, "the one timer stands at the shift change")

        harness.advance(to: Self.boundary)
        let handover = try #require(
            harness.journal.written.last { $0.entry[JournalField.event] == "handed-over" }?.entry
        )
        #expect(handover[JournalField.messageID] == MessageID.of(.handedOver))
        #expect(handover[JournalField.from] == PlantFixture.teamLeader)
        #expect(handover[JournalField.responder] == PlantFixture.incomingTeamLeader)
        #expect(handover[JournalField.callState] == "open")
        #expect(handover[JournalField.at] == String(Self.boundary.millisecondsSinceEpoch))
        #expect(handover[JournalField.graceUntil] == String(Self.boundary.millisecondsSinceEpoch + 1_000))
        #expect(handover[JournalField.late] == "0")
        #expect(handover[JournalField.message]?.contains("handed over at") == true)

        #expect(harness.send("ack id=1 note=\"taking over\"", from: incoming)?.isOK == true)
        #expect(harness.stages.escalation.engine.incident(IncidentID(1))?.owners.map(\.rawValue) == ["tl2"])
        // The outgoing team leader may act within the grace, and not a millisecond after it.
        harness.advance(to: Self.boundary + .milliseconds(1_000))
        let late = harness.send("resolve id=1 note=done", from: outgoing)
        #expect(late?.errorCode == "not-authorized")
        if case .error(let error) = late { #expect(error.reason.contains("handed incident 1 over at a shift change")) }
        #expect(harness.send("resolve id=1 note=done", from: incoming)?.isOK == true)
        #expect(harness.stages.escalation.engine.openIncidentCount == 0)
    }
}
