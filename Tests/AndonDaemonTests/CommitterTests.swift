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

    /// Snapshots are proportional to change: none until the log after the latest one holds half its size (at least
    /// 64 KiB), however long that takes; then one, and the count starts again. (And at most one a minute so, which
    /// the test lifts.)
    @Test func aSnapshotIsDueWhenTheLogHoldsHalfWhatTheLastOneWeighed() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let (store, journal) = (scratch.store, scratch.journal)
        // As after a restore of a 17 MB snapshot (100,000 open calls).
        let committer = Committer(
            store: store,
            journal: journal,
            storeID: "t",
            nextInput: 1,
            nextEvent: 1,
            snapshotBytes: 17_000_000
        )
        committer.snapshotMinimumGap = 0
        let message = "andon line=L1 station=S1 category=help seq=1"
        let source = "127.0.0.1:40000"
        let signal = EngineInput.signal(
            .andon(line: "L1", station: "S1", category: .help, text: nil),
            sequence: 1,
            drill: false,
            source: source,
            message: message
        )
        let perInput = message.utf8.count + source.utf8.count + Committer.inputRowOverhead
        let due = (8_500_000 + perInput - 1) / perInput
        var first: Int?
        for index in 1...(due + 10)
        where committer.append(signal, at: Instant(secondsSinceEpoch: 1), entries: [], deliver: nil) {
            first = first ?? index
        }
        #expect(first == due, "\(perInput) bytes an input")
        // A small state: at least 64 KiB of log between two snapshots, so a busy small plant does not snapshot each
        // input.
        let small = Committer(
            store: store,
            journal: journal,
            storeID: "t",
            nextInput: 1,
            nextEvent: 1,
            snapshotBytes: 2_000
        )
        small.snapshotMinimumGap = 0
        let smallDue = (65_536 + perInput - 1) / perInput
        var dues: [Int] = []
        for index in 1...(2 * smallDue)
        where small.append(signal, at: Instant(secondsSinceEpoch: 1), entries: [], deliver: nil) {
            dues.append(index)
        }
        #expect(dues == [smallDue, 2 * smallDue])
    }

    @Test func aBurstWaitsAMinuteBetweenSnapshotsUpToTheInputCount() throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let (store, journal) = (scratch.store, scratch.journal)
        let committer = Committer(store: store, journal: journal, storeID: "t", nextInput: 1, nextEvent: 1)
        committer.snapshotEvery = 5_000
        var dues: [Int] = []
        for index in 1...12_000
        where committer.append(.tick, at: Instant(secondsSinceEpoch: 1), entries: [], deliver: nil) {
            dues.append(index)
        }
        // 12,000 ticks are 480,000 bytes of log, many times the minimum, within a second: only the count decides.
        #expect(dues == [5_000, 10_000])
    }
}
