import AndonCore
import AndonStore
import AndonTestSupport
import Foundation
import Testing

@Suite struct StateStoreTests {
    static func directory() -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("andond-store-\(UUID().uuidString)")
            .path
        return path
    }

    static func input(_ sequence: Int64, _ body: String) -> StoredInput {
        StoredInput(sequence: sequence, at: 1_000 + sequence, kind: .signal, source: "127.0.0.1:9", body: body)
    }

    @Test func committedInputsSnapshotsAndTheOutboxComeBackAfterReopening() throws {
        let directory = Self.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        do {
            let store = try StateStore(
                directory: directory,
                clock: ManualClock(Instant(millisecondsSinceEpoch: 1_796_000_000_000))
            )
            var batch = CommitBatch()
            batch.inputs = [Self.input(1, "andon a"), Self.input(2, "andon b")]
            batch.outbox = [(1, Data("one".utf8)), (2, Data("two".utf8)), (3, Data("three".utf8))]
            batch.nextEventSequence = 4
            batch.aliveAt = 5_000
            batch.stoppedCleanly = false
            try store.commit(batch)
            var second = CommitBatch()
            second.inputs = [Self.input(3, "andon c")]
            second.snapshot = StoredSnapshot(
                inputSequence: 2,
                at: 1_002,
                configuration: "yaml",
                configurationFile: "/etc/x",
                state: Data("{}".utf8)
            )
            second.journalWrittenThrough = 2
            try store.commit(second)
        }
        let store = try StateStore(
            directory: directory,
            clock: ManualClock(Instant(millisecondsSinceEpoch: 1_796_000_000_000))
        )
        let state = try store.load()
        #expect(state.snapshot?.inputSequence == 2)
        #expect(state.snapshot?.configuration == "yaml")
        #expect(state.inputs.map(\.body) == ["andon c"], "only the inputs after the snapshot are replayed")
        #expect(state.lastInputSequence == 3)
        #expect(state.nextEventSequence == 4)
        #expect(state.aliveAt == 5_000)
        #expect(state.stoppedCleanly == false)
        #expect(try store.outbox(after: 0, limit: 10).map(\.sequence) == [3], "written entries are pruned")
        #expect(try store.inputs(from: 0, to: 10_000).count == 3, "the log keeps every input for replay")
        #expect(store.movedAside == nil)
    }

    /// A large snapshot goes in parts, one commit each; it exists once its row lands with the last part, and the
    /// parts of one that never completed are dropped when the next one does.
    @Test func aSnapshotInPartsIsCompleteOrAbsent() throws {
        let directory = Self.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let state = Data((0..<3_000_000).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        let parts = stride(from: 0, to: state.count, by: SnapshotPart.size).map {
            state.subdata(in: $0..<min(state.count, $0 + SnapshotPart.size))
        }
        #expect(parts.count == 3)
        let row = StoredSnapshot(inputSequence: 7, at: 9, configuration: "yaml", configurationFile: "/x", state: Data())
        do {
            let store = try StateStore(
                directory: directory,
                clock: ManualClock(Instant(millisecondsSinceEpoch: 1_796_000_000_000))
            )
            // An earlier snapshot that stopped after its first part (andond ended while writing it).
            var orphan = CommitBatch()
            orphan.snapshotParts = [SnapshotPart(inputSequence: 5, index: 0, bytes: Data("old".utf8))]
            try store.commit(orphan)
            for (index, bytes) in parts.enumerated().dropLast() {
                var batch = CommitBatch()
                batch.inputs = [Self.input(Int64(index + 1), "andon \(index)")]
                batch.snapshotParts = [SnapshotPart(inputSequence: 7, index: index, bytes: bytes)]
                try store.commit(batch)
            }
            #expect(try store.load().snapshot == nil, "not complete before its last part")
            var last = CommitBatch()
            last.snapshotParts = [SnapshotPart(inputSequence: 7, index: 2, bytes: parts[2])]
            last.snapshot = row
            last.snapshotPartCount = 3
            try store.commit(last)
        }
        let store = try StateStore(
            directory: directory,
            clock: ManualClock(Instant(millisecondsSinceEpoch: 1_796_000_000_000))
        )
        let loaded = try store.load()
        #expect(loaded.snapshot?.inputSequence == 7)
        #expect(loaded.snapshot?.state == state)
    }

    /// One commit deletes at most `outboxDeletesPerCommit` written entries, and says how far it got.
    @Test func outboxPruningIsBoundedPerCommit() throws {
        let directory = Self.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try StateStore(
            directory: directory,
            clock: ManualClock(Instant(millisecondsSinceEpoch: 1_796_000_000_000))
        )
        let total = StateStore.outboxDeletesPerCommit * 2 + 10
        var fill = CommitBatch()
        fill.outbox = (1...total).map { ($0, Data("e".utf8)) }
        try store.commit(fill)
        var prune = CommitBatch()
        prune.journalWrittenThrough = total
        #expect(try store.commit(prune) == StateStore.outboxDeletesPerCommit)
        #expect(try store.commit(prune) == StateStore.outboxDeletesPerCommit * 2)
        #expect(try store.commit(prune) == total)
        #expect(try store.outbox(after: 0, limit: 10).isEmpty)
    }

    /// `ok` means on disk: the database runs in WAL mode with every commit fsynced (`synchronous = FULL`, 2).
    @Test func everyCommitIsFsynced() throws {
        let directory = Self.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try StateStore(
            directory: directory,
            clock: ManualClock(Instant(millisecondsSinceEpoch: 1_796_000_000_000))
        )
        let durability = try store.durability()
        #expect(durability.journalMode == "wal")
        #expect(durability.synchronous == 2)
    }

    @Test func aSecondStoreOnTheSameDirectoryIsRefusedAndNamesTheHolder() throws {
        let directory = Self.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let first = try StateStore(
            directory: directory,
            clock: ManualClock(Instant(millisecondsSinceEpoch: 1_796_000_000_000))
        )
        // flock locks belong to the open file description: a second open in this process conflicts as another
        // process would.
        #expect {
            try StateStore(directory: directory, clock: ManualClock(Instant(millisecondsSinceEpoch: 1_796_000_000_000)))
        } throws: { error in
            guard let error = error as? StoreError, error.code == .locked else { return false }
            return error.holder == getpid() && error.message.contains("another andond (pid \(getpid()))")
        }
        _ = first
    }

    @Test func aDatabaseThatIsNotOneIsMovedAsideAndANewOneStarts() throws {
        let directory = Self.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = (directory as NSString).appendingPathComponent(StateStore.databaseName)
        try Data(repeating: 0x5A, count: 8192).write(to: URL(fileURLWithPath: path))
        let store = try StateStore(
            directory: directory,
            clock: ManualClock(Instant(millisecondsSinceEpoch: 1_796_000_000_000))
        )
        let aside = try #require(store.movedAside)
        #expect(aside.path == path + ".bad-20261130T005320Z", "named by the injected clock")
        #expect(FileManager.default.fileExists(atPath: aside.path))
        #expect(try store.load().inputs.isEmpty)
        var batch = CommitBatch()
        batch.inputs = [Self.input(1, "andon a")]
        try store.commit(batch)
        #expect(try store.load().inputs.count == 1)
    }

    @Test func aDatabaseFromANewerAndondIsRefusedAndKept() throws {
        let directory = Self.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        do {
            _ = try StateStore(
                directory: directory,
                clock: ManualClock(Instant(millisecondsSinceEpoch: 1_796_000_000_000))
            )
        }
        // A newer andond would have applied a migration this one does not know.
        let path = (directory as NSString).appendingPathComponent(StateStore.databaseName)
        let sqlite = Process()
        sqlite.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        sqlite.arguments = [
            "python3", "-c",
            "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); "
                + "c.execute(\"INSERT INTO grdb_migrations VALUES ('v99')\"); c.commit()", path,
        ]
        try sqlite.run()
        sqlite.waitUntilExit()
        #expect(sqlite.terminationStatus == 0)
        #expect {
            try StateStore(directory: directory, clock: ManualClock(Instant(millisecondsSinceEpoch: 1_796_000_000_000)))
        } throws: { error in
            guard let error = error as? StoreError else { return false }
            return error.code == .newer && error.message.contains("newer andond") && error.message.contains("v99")
        }
        #expect(FileManager.default.fileExists(atPath: path), "a newer database is never moved aside")
    }
}
