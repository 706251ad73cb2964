import Foundation
import GRDB

/// andond's input log, read back for a replay of history (`andonctl replay`): read-only, beside a running andond or
/// after it. It takes no lock, migrates nothing and writes nothing to the state directory.
///
/// With andond running, its database has a `-shm` file and is read in place (SQLite readers do not block its writer).
/// Without one (andond is stopped), reading in place would make SQLite create `-shm` and perhaps `-wal` files owned by
/// whoever runs the replay, which andond's user might then not open: the database and its WAL are copied to a
/// temporary directory first and read there.
public final class InputLog {
    public let path: String
    /// The number the log's first configuration starts counting incidents from.
    public let firstIncidentNumber: UInt64
    private let queue: DatabaseQueue
    private let copy: String?

    public init(directory: String) throws(StoreError) {
        let path = (directory as NSString).appendingPathComponent(StateStore.databaseName)
        self.path = path
        firstIncidentNumber = StateStore.legacyNextIncident(in: directory)
        let manager = FileManager.default
        guard manager.fileExists(atPath: path) else {
            throw StoreError(
                .unusable,
                "no input log at \(path): andond keeps it in its state directory (StateDirectory=, "
                    + "--state-directory); name it with --state-directory, or read the journal with --source journal"
            )
        }
        guard access(path, R_OK) == 0 else {
            throw StoreError(
                .unusable,
                "cannot read \(path): \(String(cString: strerror(errno))); run as root or as andond's user, or read "
                    + "the journal with --source journal"
            )
        }
        var readFrom = path
        var copy: String?
        if !manager.fileExists(atPath: path + "-shm") {
            let temporary = NSTemporaryDirectory() + "andonctl-log-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
            do {
                try manager.createDirectory(atPath: temporary, withIntermediateDirectories: false)
                copy = temporary
                readFrom = (temporary as NSString).appendingPathComponent(StateStore.databaseName)
                try manager.copyItem(atPath: path, toPath: readFrom)
                if manager.fileExists(atPath: path + "-wal") {
                    try manager.copyItem(atPath: path + "-wal", toPath: readFrom + "-wal")
                }
            } catch {
                if let copy { try? manager.removeItem(atPath: copy) }
                throw StoreError(.unusable, "cannot copy \(path) to read it: \(StateStore.describe(error))")
            }
        }
        self.copy = copy
        do {
            var configuration = Configuration()
            configuration.label = "andonctl-input-log"
            configuration.readonly = copy == nil
            configuration.busyMode = .timeout(5)
            queue = try DatabaseQueue(path: readFrom, configuration: configuration)
            try queue.read { db in
                guard try db.tableExists("input"), try db.tableExists("snapshot") else {
                    throw StoreError(.corrupt, "\(path) is not andond's state (no input log in it)")
                }
            }
        } catch {
            if let copy { try? manager.removeItem(atPath: copy) }
            if let error = error as? StoreError { throw error }
            throw StoreError(.corrupt, "cannot read \(path): \(StateStore.describe(error))")
        }
    }

    deinit {
        if let copy { try? FileManager.default.removeItem(atPath: copy) }
    }

    /// Where a replay of history from `since` starts: the latest snapshot taken at or before `since` (an anchor),
    /// or the log's very beginning when it still has its first input, else (the log was pruned past `since`) the
    /// oldest snapshot there is.
    public struct Start: Sendable {
        /// The state to start from; nil: an empty engine, made by the log's first configuration.
        public var snapshot: StoredSnapshot?
        /// Inputs after this one are replayed.
        public var afterInput: Int64
        /// The instant from which the log knows everything (the snapshot's); nil when it holds the store's very
        /// first input, and so all there is.
        public var knownFrom: Int64?
        /// When andond last recorded that it was alive (milliseconds since the epoch).
        public var aliveAt: Int64?
        /// The last input's instant.
        public var lastInputAt: Int64?
    }

    public func start(atOrBefore since: Int64) throws(StoreError) -> Start {
        do {
            return try queue.read { db in
                let firstSequence = try Int64.fetchOne(db, sql: "SELECT MIN(seq) FROM input")
                let aliveAt = try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'alive_at'")
                    .flatMap(Int64.init)
                let lastAt = try Int64.fetchOne(db, sql: "SELECT at FROM input ORDER BY seq DESC LIMIT 1")
                var snapshot = try StateStore.fetchSnapshot(db, where: "at <= ?", arguments: [since])
                if snapshot == nil, firstSequence != 1 {
                    snapshot = try StateStore.fetchSnapshot(db, where: "1", order: "input_seq ASC")
                }
                // A snapshot older than the log's first input cannot be replayed forward (the inputs between are gone).
                if let found = snapshot, let firstSequence, found.inputSequence + 1 < firstSequence {
                    snapshot = try StateStore.fetchSnapshot(
                        db,
                        where: "input_seq >= ?",
                        arguments: [firstSequence - 1],
                        order: "input_seq ASC"
                    )
                }
                if snapshot == nil, let firstSequence, firstSequence > 1 {
                    throw StoreError(
                        .unusable,
                        "the input log in \(path) starts at input \(firstSequence) with no snapshot to start from "
                            + "(an andond older than 0.5 pruned it); read the journal with --source journal"
                    )
                }
                let knownFrom: Int64? = snapshot?.at
                return Start(
                    snapshot: snapshot,
                    afterInput: snapshot?.inputSequence ?? 0,
                    knownFrom: knownFrom,
                    aliveAt: aliveAt,
                    lastInputAt: lastAt
                )
            }
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError(.corrupt, "cannot read the input log of \(path): \(StateStore.describe(error))")
        }
    }

    /// The inputs after input `sequence` with an instant before `end`, in order, without loading them all at once.
    public func forEachInput(
        after sequence: Int64,
        before end: Int64,
        _ body: (StoredInput) throws -> Void
    ) throws {
        try queue.read { db in
            let rows = try Row.fetchCursor(
                db,
                sql: "SELECT seq, at, kind, source, body FROM input WHERE seq > ? AND at < ? ORDER BY seq",
                arguments: [sequence, end]
            )
            while let row = try rows.next() { try body(StateStore.input(row)) }
        }
    }
}
