import AndonConfig
import AndonCore
import AndonProtocol
import AndonSimulation
import AndonStore
import AndonSystemd
import AndonTestSupport
import Foundation
import Synchronization
import Testing

@testable import AndonDaemon

/// What the escalation stage hands to the commit stage, recorded.
final class RecordingHandoff: CommitHandoff {
    private let state = Mutex<(applied: [Applied], deliveries: Int, admitting: Bool)>(([], 0, true))
    var applied: [Applied] { state.withLock { $0.applied } }
    func refuse() { state.withLock { $0.admitting = false } }
    func append(_ applied: Applied) -> Bool {
        state.withLock { $0.applied.append(applied) }
        return false
    }
    func attachSnapshot(engine: EscalationEngine, window: SequenceWindow, at instant: Instant) {}
    func afterCommit(_ deliver: @escaping @Sendable () -> Void) { state.withLock { $0.deliveries += 1 } }
    func admits() -> Bool { state.withLock { $0.admitting } }
    func wantSnapshot() {}
}

/// The escalation stage in-process: the engine, the window and the timer under one lock; inputs in, values out to
/// the commit stage, the timer armed for the next deadline, to the millisecond on a manual clock.
@Suite struct EscalationServiceTests {
    static func service() throws -> (EscalationService, RecordingHandoff, ManualTimer, ManualClock) {
        let clock = ManualClock(StageHarness.start)
        let plant = try ConfigurationLoader.parse(
            PlantFixture.yaml(socket: "/tmp/unused.sock"),
            file: "t.yaml",
            now: clock.now
        ).plant
        let handoff = RecordingHandoff()
        let timer = ManualTimer()
        let service = EscalationService(
            engine: EscalationEngine(plant: plant, startingAt: clock.now),
            window: SequenceWindow(),
            clock: clock,
            commit: handoff,
            timer: timer
        )
        service.start()
        return (service, handoff, timer, clock)
    }

    /// L1/S1's help andon with seq=1, as admission lets it through.
    static func raise(on service: EscalationService) -> EscalationService.Outcome {
        service.signal(
            .andon(line: LineID(rawValue: "L1"), station: StationID(rawValue: "S1"), category: .help, text: nil),
            sequence: 1,
            drill: false,
            source: "127.0.0.1:1",
            message: "andon line=L1 station=S1 category=help seq=1",
            refusal: nil,
            deliver: { _ in }
        )
    }

    /// Each input with an effect is handed over once, in order, with its events and instant; a tick without any is
    /// not; the timer always stands at the engine's next deadline.
    @Test func inputsAreHandedOverInOrderAndTheTimerFollowsTheNextDeadline() throws {
        let (service, handoff, timer, clock) = try Self.service()
        let raised = Self.raise(on: service)
        #expect(!raised.immediate && raised.reply.isOK)
        #expect(raised.events.map(\.kind.rawValue).first == "raised")
        #expect(timer.deadline == clock.now + .seconds(1) && raised.nextDeadline == timer.deadline)
        #expect(handoff.applied.count == 1 && handoff.applied[0].events.count == raised.events.count)

        // Nothing due yet: a tick changes nothing and is not handed over.
        clock.advance(by: .milliseconds(999))
        service.tick()
        #expect(handoff.applied.count == 1)
        // At the deadline to the millisecond: the call escalates, and the tick is handed over with its events.
        clock.advance(by: .milliseconds(1))
        timer.fireIfDue(at: clock.now)
        let tick = try #require(handoff.applied.last)
        #expect(tick.input.isTick && tick.at == StageHarness.start + .seconds(1))
        #expect(tick.events.allSatisfy { $0.at == tick.at }, "no event late")
        #expect(service.engine.openIncidents.first?.tierName == "group-leader", "quality has nobody: skipped")
        #expect(timer.deadline == service.engine.nextDeadline)

        // A retransmit gets the first reply after the commit, and changes nothing.
        let again = Self.raise(on: service)
        #expect(again.reply.rendered == raised.reply.rendered && handoff.applied.count == 2)
        #expect(service.retransmits.load(ordering: .relaxed) == 1)
    }

    /// While the commit stage admits nothing (storage failing), a signal and an answer are refused before the engine
    /// changes; a refusal admission found answers a signal that is not a retransmit.
    @Test func nothingChangesWhenTheCommitStageAdmitsNothing() throws {
        let (service, handoff, _, _) = try Self.service()
        handoff.refuse()
        let signal = service.signal(
            .stop(line: LineID(rawValue: "L2"), station: nil, reason: nil),
            sequence: 5,
            drill: false,
            source: "127.0.0.1:1",
            message: "stop line=L2 seq=5",
            refusal: nil,
            deliver: { _ in }
        )
        #expect(signal.immediate && signal.reply.errorCode == "storage-failing")
        let answer = service.act(
            .acknowledge(IncidentID(1), note: nil),
            on: IncidentID(1),
            by: .administrator(user: "root"),
            message: "ack id=1",
            deliver: { _ in }
        )
        #expect(answer.immediate && answer.reply.errorCode == "storage-failing")
        #expect(service.engine.openIncidentCount == 0 && handoff.applied.isEmpty)
    }

    /// Through every stage: the reply to a signal comes only once it is on disk, and the journal holds the call's
    /// steps at their instants: team leader, group leader 1 s later (quality skipped), KPO 1 s after that, then
    /// KPO's repeats every second; each entry of a tick says it was handled 0 ms late.
    @Test func aCallEscalatesToTheMillisecondAndItsReplyWaitsForTheDisk() throws {
        let harness = try StageHarness()
        defer { harness.remove() }
        let box = ReplyBox()
        harness.stages.signals.handle(
            Array("andon line=L1 station=S1 category=help seq=1".utf8),
            from: StageHarness.controller,
            reply: box.deliver
        )
        #expect(box.all.isEmpty, "no reply before the commit")
        harness.stages.committer.step()
        #expect(box.last?.isOK == true)
        harness.advance(by: .seconds(4))
        let steps = harness.journal.written.compactMap { written -> (String, Int64, String?)? in
            guard let event = written.entry[JournalField.event], let at = written.entry[JournalField.at] else {
                return nil
            }
            return (event, Int64(at)! - StageHarness.start.millisecondsSinceEpoch, written.entry[JournalField.late])
        }
        let escalations = steps.filter { $0.0 == "escalated" || $0.0 == "unanswered" }
        #expect(escalations.map(\.1) == [1_000, 2_000, 3_000, 4_000], "\(steps)")
        #expect(escalations.allSatisfy { $0.2 == "0" })
        // Every stored input reads back as the one taken, and nothing is owed to the journal.
        #expect(harness.journal.statistics.waiting == 0)
    }
}
