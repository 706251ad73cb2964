import AndonCore
import AndonStore
import Foundation
import Testing

@testable import AndonDaemon
@testable import AndonSystemd

/// The group committer against a real store, with a journal writer that is never started (journald never takes
/// anything, as in a long outage).
@Suite struct CommitterTests {
    /// A store in a directory of its own (`remove()` at the end), and a journal writer that is never started.
    final class Scratch {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("andond-commit-\(UUID())").path
        let store: StateStore
        let journal = JournalWriter(socketPath: "/nonexistent/journal/socket")
        init() throws { store = try StateStore(directory: directory) }
        func remove() { try? FileManager.default.removeItem(atPath: directory) }
    }

    @Test func aFullOutboxKeepsItsLimitAndCountsWhatItCouldNotKeep() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let (store, journal) = (scratch.store, scratch.journal)
        let committer = Committer(store: store, journal: journal, storeID: "t", nextInput: 1, nextEvent: 1)
        committer.outboxLimit = 5
        for index in 1...8 {
            var entry = JournalEntry()
            entry.add("MESSAGE", "call \(index)")
            committer.append(.tick, at: Instant(secondsSinceEpoch: Int64(index)), entries: [entry], deliver: nil)
        }
        try committer.commitNow()
        #expect(try store.outbox(after: 0, limit: 100).map(\.sequence) == [1, 2, 3, 4, 5])
        #expect(committer.unkeptEntries == 3)
        #expect(try store.load().inputs.count == 8, "every input is kept: the calls are in the state")
        // Queued for journald: the 5 kept (durable), one crit entry saying the outbox is full, the 3 not kept.
        #expect(journal.statistics.queued == 9)
    }

    @Test func aRestartedCommitterCountsTheOutboxFromItsFirstWaitingEntry() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let (store, journal) = (scratch.store, scratch.journal)
        // Event numbers far beyond the limit, with nothing waiting: entries are kept.
        let committer = Committer(
            store: store,
            journal: journal,
            storeID: "t",
            nextInput: 1,
            nextEvent: 1_000,
            outboxFrom: 1_000
        )
        committer.outboxLimit = 5
        var entry = JournalEntry()
        entry.add("MESSAGE", "call")
        committer.append(.tick, at: Instant(secondsSinceEpoch: 1), entries: [entry], deliver: nil)
        try committer.commitNow()
        #expect(try store.outbox(after: 0, limit: 10).map(\.sequence) == [1_000])
        #expect(committer.unkeptEntries == 0)
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

    /// After a restore that replayed many inputs, the first input takes a snapshot (the next start is quick); the
    /// committer asks its policy on every append.
    @Test func aLongReplayIsSnapshottedWithTheFirstInput() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let committer = Committer(
            store: scratch.store,
            journal: scratch.journal,
            storeID: "t",
            nextInput: 1,
            nextEvent: 1,
            unsnapshotted: SnapshotPolicy.afterRestore
        )
        #expect(committer.append(.tick, at: Instant(secondsSinceEpoch: 1), entries: [], deliver: nil))
        #expect(!committer.append(.tick, at: Instant(secondsSinceEpoch: 1), entries: [], deliver: nil))
        let fresh = Committer(store: scratch.store, journal: scratch.journal, storeID: "t", nextInput: 3, nextEvent: 1)
        #expect(!fresh.append(.tick, at: Instant(secondsSinceEpoch: 1), entries: [], deliver: nil))
    }
}
