import AndonCore
import AndonProtocol
import AndonSimulation
import AndonStore
import AndonSystemd
import AndonTestSupport
import Foundation
import Testing

@testable import AndonDaemon

/// The commit stage against a real store, in-process on a manual clock: the outbox's limit, snapshots that follow
/// what changed, and storage that fails and comes back.
@Suite struct CommitterTests {
    /// A full outbox keeps its limit: the rest of the entries go out once, plainly, and are counted; every input is
    /// kept in the state.
    @Test func aFullOutboxKeepsItsLimitAndCountsWhatItCouldNotKeep() throws {
        let harness = try StageHarness()
        defer { harness.remove() }
        harness.journal.setAvailable(false)  // journald takes nothing: the outbox only fills
        harness.stages.committer.outboxLimit = 5
        let before = try harness.stages.store.load().inputs.count
        for index in 1...8 {
            #expect(harness.send("andon line=L1 station=S\(index) category=help seq=\(index)")?.isOK == true)
        }
        #expect(try harness.stages.store.outbox(after: 0, limit: 100).map(\.sequence) == [1, 2, 3, 4, 5])
        #expect(harness.stages.committer.unkeptEntries > 0)
        #expect(try harness.stages.store.load().inputs.count == before + 8, "every input is kept")
        harness.journal.setAvailable(true)
        let ids = harness.journal.written.compactMap { $0.entry[JournalField.eventID] }
        #expect(ids.filter { $0.contains("-u") }.count == harness.stages.committer.unkeptEntries)
        #expect(harness.journal.written.contains { $0.entry[JournalField.messageID] == MessageID.outboxFull })
    }

    /// A failing store: replies wait (nothing is `ok` before it is on disk), entries go out plainly at once, past the
    /// limit signals are refused with storage-failing before they change anything; once the store works, what
    /// waited is written and answered, and input is taken again: each transition an entry with its MESSAGE_ID.
    @Test func failingStorageHoldsAtMostTheLimitThenRecovers() throws {
        let failing = FailingStore.Switch()
        let harness = try StageHarness(options: { $0.commitStore = { FailingStore(store: $0, failing: failing) } })
        defer { harness.remove() }
        harness.stages.committer.waitingLimit = 3
        failing.fail(true)
        let box = ReplyBox()
        for index in 1...5 {
            harness.stages.signals.handle(
                Array("andon line=L1 station=S\(index) category=help seq=\(index)".utf8),
                from: StageHarness.controller,
                reply: box.deliver
            )
            harness.stages.committer.step()
        }
        // Three wait for the disk, unanswered; the fourth and fifth are refused before the engine saw them.
        #expect(box.all.map(\.errorCode) == ["storage-failing", "storage-failing"])
        #expect(harness.stages.escalation.engine.openIncidentCount == 3)
        let ids = harness.journal.written.compactMap { $0.entry[JournalField.messageID] }
        #expect(ids.contains(MessageID.stateWriteFailed) && ids.contains(MessageID.inputsRefused))
        #expect(harness.journal.written.contains { $0.sequence == nil && $0.entry[JournalField.event] == "raised" })
        failing.fail(false)
        harness.stages.committer.step()
        #expect(box.all.filter(\.isOK).count == 3, "what waited is answered once on disk")
        #expect(harness.send("andon line=L1 station=S4 category=help seq=4")?.isOK == true)
        let notices = harness.journal.written.filter {
            $0.entry[JournalField.messageID] == MessageID.inputsRefused && $0.entry[JournalField.refused] == "2"
        }
        #expect(notices.count == 1)
        try harness.crash()
        #expect(harness.stages.escalation.engine.openIncidentCount == 4, "every ok'd call is in the state")
    }

    static let signal = StoredInput(
        sequence: 1,
        at: 0,
        kind: .signal,
        source: "127.0.0.1:40000",
        body: "andon line=L1 station=S1 category=help seq=1"
    )
    static let perInput = signal.source.utf8.count + signal.body.utf8.count + SnapshotPolicy.rowOverhead

    /// Snapshots are proportional to change: after a restored 17 MB state, none until the log holds 8.5 MB, however
    /// long that takes; then one, and the count starts again.
    @Test func aSnapshotIsDueWhenTheLogHoldsHalfWhatTheLastOneWeighed() {
        var policy = SnapshotPolicy(snapshotBytes: 17_000_000, now: 0)
        let due = (8_500_000 + Self.perInput - 1) / Self.perInput
        let dues = (1...(2 * due)).filter { index in policy.logged(Self.signal, at: 100 + Double(index) / 1_000) }
        #expect(dues == [due, 2 * due], "\(Self.perInput) bytes an input")
    }

    /// A small state waits for 64 KiB of log, and a size-triggered snapshot for a minute after the last one.
    @Test func theSizeRuleWaitsFor64KiBAndAMinute() {
        var policy = SnapshotPolicy(snapshotBytes: 2_000, now: 0)
        let enough = (65_536 + Self.perInput - 1) / Self.perInput
        let early = (1...(2 * enough)).filter { _ in policy.logged(Self.signal, at: 59.9) }
        #expect(early.isEmpty)
        let atTheMinute = policy.logged(Self.signal, at: 60)
        #expect(atTheMinute)
        let later = policy.logged(Self.signal, at: 200)
        #expect(!later, "the log starts again")
    }

    /// A burst: within a second, only the input count decides.
    @Test func aBurstSnapshotsByTheCountOnly() {
        var policy = SnapshotPolicy(now: 0)
        policy.every = 5_000
        let tick = StoredInput(sequence: 1, at: 0, kind: .tick, source: "", body: "")
        let dues = (1...12_000).filter { _ in policy.logged(tick, at: 0.5) }
        #expect(dues == [5_000, 10_000])
    }

    /// With no input nothing is due, however long; the first input a day after the last snapshot is the day's anchor.
    @Test func theFirstInputOfADayIsItsAnchor() {
        var policy = SnapshotPolicy(snapshotBytes: 17_000_000, now: 0)
        let withinADay = policy.logged(Self.signal, at: 86_399)
        #expect(!withinADay)
        let aDayOn = policy.logged(Self.signal, at: 86_400 + 86_399 + 1)
        #expect(aDayOn)
        let rightAfter = policy.logged(Self.signal, at: 2 * 86_400 + 1)
        #expect(!rightAfter)
    }

    /// After a restore that replayed many inputs, the first input takes a snapshot (the next start is quick).
    @Test func aLongReplayIsSnapshottedWithTheFirstInput() throws {
        var policy = SnapshotPolicy(unsnapshotted: SnapshotPolicy.afterRestore, now: 0)
        let tick = StoredInput(sequence: 1, at: 0, kind: .tick, source: "", body: "")
        let first = policy.logged(tick, at: 1)
        let second = policy.logged(tick, at: 1)
        #expect(first && !second)
        var fresh = SnapshotPolicy(unsnapshotted: 2, now: 0)
        let short = fresh.logged(tick, at: 1)
        #expect(!short)
    }
}
