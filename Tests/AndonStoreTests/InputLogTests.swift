import AndonCore
import AndonStore
import AndonTestSupport
import Foundation
import Testing

/// Retention keeps a snapshot a day, so a replay of history starts from one; `InputLog` reads beside andond.
@Suite struct InputLogTests {
    static let day: Int64 = 86_400_000
    static let hour: Int64 = 3_600_000
    /// Day 100 after the epoch, 00:00 UTC.
    static let start = 100 * day

    /// Four days of one input and one snapshot every 6 hours, with 2 days of retention.
    static func fourDays(in directory: String) throws {
        let store = try StateStore(
            directory: directory,
            clock: ManualClock(Instant(millisecondsSinceEpoch: 1_796_000_000_000))
        )
        var sequence: Int64 = 0
        for hours in stride(from: Int64(0), to: 96, by: 6) {
            sequence += 1
            let at = start + hours * hour
            var batch = CommitBatch()
            batch.inputs = [StoredInput(sequence: sequence, at: at, kind: .tick, source: "", body: "")]
            batch.snapshot = StoredSnapshot(
                inputSequence: sequence,
                at: at,
                configuration: "c",
                configurationFile: "f",
                state: Data([UInt8(sequence)])
            )
            batch.pruneInputsBefore = at - 2 * day
            try store.commit(batch)
        }
    }

    @Test func theLogStartsRightAfterTheLatestDailySnapshotOlderThanTheRetention() throws {
        let directory = StateStoreTests.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Self.fourDays(in: directory)
        // The last snapshot is at 90 h, so inputs before 42 h may go: the latest day's first snapshot before that
        // is the one at 24 h (input 5). The days' first ones (24 h, 48 h, 72 h) and the newest two (84 h, 90 h) stay.
        let store = try StateStore(
            directory: directory,
            clock: ManualClock(Instant(millisecondsSinceEpoch: 1_796_000_000_000))
        )
        #expect(try store.inputs(from: 0, to: .max).map(\.sequence) == Array(6...16))
        let loaded = try store.load()
        #expect(loaded.snapshot?.inputSequence == 16, "a restore starts from the newest")
        #expect(loaded.inputs.isEmpty)

        let log = try InputLog(directory: directory)
        let fromDay2 = try log.start(atOrBefore: Self.start + 30 * Self.hour)
        #expect(fromDay2.snapshot?.inputSequence == 5)
        #expect(fromDay2.snapshot?.state == Data([5]))
        #expect(fromDay2.afterInput == 5)
        #expect(fromDay2.knownFrom == Self.start + 24 * Self.hour)
        #expect(try log.start(atOrBefore: Self.start + 80 * Self.hour).snapshot?.inputSequence == 13)
        #expect(try log.start(atOrBefore: Self.start + 89 * Self.hour).snapshot?.inputSequence == 15)
        // Before the log: it starts from its oldest snapshot and says from when it knows.
        let early = try log.start(atOrBefore: Self.start + 10 * Self.hour)
        #expect(early.snapshot?.inputSequence == 5)
        #expect(early.knownFrom == Self.start + 24 * Self.hour)
        #expect(early.lastInputAt == Self.start + 90 * Self.hour)
        var after: [Int64] = []
        try log.forEachInput(after: 12, before: Self.start + 84 * Self.hour) { after.append($0.sequence) }
        #expect(after == [13, 14])
    }

    @Test func aLogThatStillHasItsFirstInputIsReplayedFromTheBeginning() throws {
        let directory = StateStoreTests.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        do {
            let store = try StateStore(
                directory: directory,
                clock: ManualClock(Instant(millisecondsSinceEpoch: 1_796_000_000_000))
            )
            var batch = CommitBatch()
            batch.inputs = [
                StoredInput(sequence: 1, at: Self.start, kind: .configuration, source: "f", body: "c"),
                StoredInput(sequence: 2, at: Self.start + Self.hour, kind: .tick, source: "", body: ""),
            ]
            batch.aliveAt = Self.start + 2 * Self.hour
            try store.commit(batch)
        }
        let start = try InputLog(directory: directory).start(atOrBefore: Self.start - Self.day)
        #expect(start.snapshot == nil)
        #expect(start.afterInput == 0)
        #expect(start.knownFrom == nil, "it knows all there is")
        #expect(start.aliveAt == Self.start + 2 * Self.hour)
    }

    /// Beside a running andond (its store open) and after it, the reader writes nothing into the state directory:
    /// files it made there would belong to whoever ran the replay, and andond's user might not open them.
    @Test func readingTheLogLeavesTheStateDirectoryAsItWas() throws {
        let directory = StateStoreTests.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Self.fourDays(in: directory)
        let manager = FileManager.default
        let stopped = try manager.contentsOfDirectory(atPath: directory).sorted()
        #expect(!stopped.contains(StateStore.databaseName + "-shm"), "a closed store leaves no -shm")
        do {
            let log = try InputLog(directory: directory)
            #expect(try log.start(atOrBefore: .max).snapshot?.inputSequence == 16)
        }
        #expect(try manager.contentsOfDirectory(atPath: directory).sorted() == stopped)

        let store = try StateStore(
            directory: directory,
            clock: ManualClock(Instant(millisecondsSinceEpoch: 1_796_000_000_000))
        )
        _ = try store.load()
        let running = try manager.contentsOfDirectory(atPath: directory).sorted()
        do {
            let log = try InputLog(directory: directory)
            #expect(try log.start(atOrBefore: .max).snapshot?.inputSequence == 16)
            // andond goes on writing while the log is open for reading.
            var batch = CommitBatch()
            batch.inputs = [
                StoredInput(sequence: 17, at: Self.start + 91 * Self.hour, kind: .tick, source: "", body: "")
            ]
            try store.commit(batch)
            #expect(try log.start(atOrBefore: .max).lastInputAt == Self.start + 91 * Self.hour)
        }
        #expect(try manager.contentsOfDirectory(atPath: directory).sorted() == running)
        withExtendedLifetime(store) {}
    }

    @Test func noLogSaysWhereItIsLookedForAndWhatElseToRead() throws {
        let directory = StateStoreTests.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        #expect {
            try InputLog(directory: directory)
        } throws: { error in
            let error = error as? StoreError
            return error?.code == .unusable && error?.message.contains("--state-directory") == true
                && error?.message.contains("--source journal") == true
        }
    }
}
