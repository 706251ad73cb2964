import AndonCore
import Foundation
import GRDB

/// andond's durable state, in one SQLite database (WAL, `synchronous=FULL`) in the state directory:
///
/// - `input`: every input the engine took, in order (a signal, a responder's action, a configuration, a timer tick),
///   each with its instant and origin. The engine is deterministic, so these rebuild it exactly.
/// - `snapshot`: the engine's state after a given input, with the configuration it ran under; restoring starts from
///   the latest and replays the inputs after it. A large state is stored in `snapshot_part` rows of at most 1 MiB,
///   written one per commit so that no commit (and no reply waiting for it) carries megabytes; the `snapshot` row
///   comes with the last part, so a snapshot is complete or absent.
/// - `outbox`: journal entries committed but not yet confirmed written to journald, in event order.
/// - `meta`: the store's identity, the next event number, when andond was last alive, whether it stopped cleanly.
///
/// The store knows records and blobs, not what is inside them. One writer at a time: the daemon's committer thread
/// (the journal thread reads the outbox through the same serialized queue). Every method blocks on disk I/O and must
/// never be called on an event loop.
public final class StateStore: @unchecked Sendable {
    /// The schema this andond writes; a database with migrations this build does not know is refused.
    public static let databaseName = "andond.sqlite"

    public let directory: String
    public let path: String
    private let lock: StateLock
    // Replaced only by `moveAside`, which the single owner calls before any commit.
    private(set) var queue: DatabaseQueue
    /// A second connection for the journal thread's outbox reads: in WAL mode they run beside commits, never behind
    /// one (a journal that reads spilled entries back must not delay replies). Opened on first use.
    private let readerLock = NSLock()
    private var reader: DatabaseQueue?
    /// Set when a bad database was moved aside while opening: where it went and why.
    public private(set) var movedAside: (path: String, reason: String)?
    /// Names a database moved aside by when (the daemon's one clock).
    private let clock: any AndonClock

    /// Opens (or creates) the store in `directory`, taking its lock first. A database that cannot be read is moved
    /// aside (`movedAside` says where) and an empty one is created; one from a newer andond is refused.
    public init(directory: String, clock: any AndonClock) throws(StoreError) {
        self.directory = directory
        self.clock = clock
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw StoreError(
                .unusable,
                "cannot create the state directory \(directory): \(String(cString: strerror(errno))); give andond a "
                    + "writable one (StateDirectory=, --state-directory)"
            )
        }
        lock = try StateLock(directory: directory)
        path = (directory as NSString).appendingPathComponent(Self.databaseName)
        do {
            queue = try Self.open(path)
        } catch let error as StoreError where error.code == .newer {
            throw error
        } catch {
            let reason = Self.describe(error)
            let aside = try Self.moveFiles(of: path, reason: reason, at: clock.now)
            movedAside = (aside, reason)
            do {
                queue = try Self.open(path)
            } catch {
                throw StoreError(.unusable, "cannot create a new database at \(path): \(Self.describe(error))")
            }
        }
    }

    private static func open(_ path: String) throws -> DatabaseQueue {
        let queue = try connect(path)
        try check(queue, path: path)
        return queue
    }

    /// A connection with andond's settings (WAL, every commit fsynced).
    private static func connect(_ path: String) throws -> DatabaseQueue {
        var configuration = Configuration()
        configuration.label = "andond-state"
        // Two connections (commits, outbox reads) share the file: one waits briefly for the other's lock.
        configuration.busyMode = .timeout(5)
        // WAL, set here rather than with `journalMode = .wal`: GRDB's WAL setup also sets `synchronous = NORMAL`,
        // which does not fsync at commit. `ok` means on disk, so every commit is fsynced (FULL).
        configuration.prepareDatabase { db in
            let mode = try String.fetchOne(db, sql: "PRAGMA journal_mode = WAL")
            guard mode == "wal" else {
                throw DatabaseError(
                    message: "could not switch \(db.description) to WAL mode (got \(mode ?? "nothing"))"
                )
            }
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        return try DatabaseQueue(path: path, configuration: configuration)
    }

    private static func check(_ queue: DatabaseQueue, path: String) throws {
        let migrator = Self.migrator
        try queue.read { db in
            // Reads the schema: a file that is not a database fails here, before anything is written.
            _ = try db.tableExists("meta")
            if try migrator.hasBeenSuperseded(db) {
                let known = Set(migrator.migrations)
                let unknown = try migrator.appliedIdentifiers(db).subtracting(known).sorted()
                throw StoreError(
                    .newer,
                    "the database \(path) was written by a newer andond (schema \(unknown.joined(separator: ", ")); "
                        + "this one knows \(migrator.migrations.joined(separator: ", "))). Run the newer andond, or "
                        + "move the state directory aside to start over"
                )
            }
        }
        try migrator.migrate(queue)
        try queue.write { db in
            if try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'store_id'") == nil {
                let id = (0..<6).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
                try db.execute(sql: "INSERT INTO meta(key, value) VALUES ('store_id', ?)", arguments: [id])
            }
        }
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
                    CREATE TABLE input (
                        seq INTEGER PRIMARY KEY, at INTEGER NOT NULL, kind INTEGER NOT NULL,
                        source TEXT NOT NULL, body TEXT NOT NULL);
                    CREATE INDEX input_at ON input(at);
                    CREATE TABLE snapshot (
                        input_seq INTEGER PRIMARY KEY, at INTEGER NOT NULL, configuration TEXT NOT NULL,
                        configuration_file TEXT NOT NULL, state BLOB NOT NULL);
                    CREATE TABLE outbox (seq INTEGER PRIMARY KEY, entry BLOB NOT NULL);
                    """
            )
        }
        migrator.registerMigration("v2") { db in
            try db.execute(
                sql: """
                    ALTER TABLE snapshot ADD COLUMN parts INTEGER NOT NULL DEFAULT 0;
                    CREATE TABLE snapshot_part (
                        input_seq INTEGER NOT NULL, part INTEGER NOT NULL, bytes BLOB NOT NULL,
                        PRIMARY KEY (input_seq, part));
                    """
            )
        }
        migrator.registerMigration("v3") { db in
            try db.execute(
                sql: """
                    CREATE TABLE delivery (
                        id INTEGER PRIMARY KEY, event_id TEXT NOT NULL, incident INTEGER NOT NULL,
                        recipient TEXT NOT NULL, channel TEXT NOT NULL, parameters TEXT NOT NULL,
                        purpose TEXT NOT NULL, content TEXT NOT NULL, created_at INTEGER NOT NULL,
                        give_up_at INTEGER NOT NULL, state INTEGER NOT NULL, attempts INTEGER NOT NULL,
                        next_at INTEGER NOT NULL, last_status INTEGER, last_error TEXT, ended_at INTEGER);
                    CREATE INDEX delivery_state ON delivery(state);
                    CREATE INDEX delivery_event ON delivery(event_id);
                    CREATE TABLE ack_token_used (delivery INTEGER PRIMARY KEY, at INTEGER NOT NULL);
                    """
            )
        }
        return migrator
    }

    /// Moves a database that cannot be used aside (with its WAL), as `andond.sqlite.bad-YYYYMMDDTHHMMSSZ`; returns
    /// the new path. Then a new, empty database is opened in its place.
    public func moveAside(reason: String) throws(StoreError) -> String {
        // Close the old connection before moving its files: the placeholder queue is an in-memory one.
        do { queue = try DatabaseQueue() } catch { throw StoreError(.unusable, Self.describe(error)) }
        readerLock.withLock { reader = nil }
        let aside = try Self.moveFiles(of: path, reason: reason, at: clock.now)
        movedAside = (aside, reason)
        do {
            queue = try Self.open(path)
        } catch {
            throw StoreError(.unusable, "cannot create a new database at \(path): \(Self.describe(error))")
        }
        return aside
    }

    private static func moveFiles(of path: String, reason: String, at now: Instant) throws(StoreError) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        let aside =
            path + ".bad-"
            + formatter.string(from: Date(timeIntervalSince1970: Double(now.millisecondsSinceEpoch) / 1000))
        guard rename(path, aside) == 0 || errno == ENOENT else {
            throw StoreError(
                .unusable,
                "the database \(path) cannot be read (\(reason)) and cannot be moved aside: "
                    + "\(String(cString: strerror(errno)))"
            )
        }
        for suffix in ["-wal", "-shm"] { _ = rename(path + suffix, aside + suffix) }
        return aside
    }

    static func describe(_ error: any Error) -> String {
        if let error = error as? DatabaseError { return error.message ?? "\(error.resultCode)" }
        return "\(error)"
    }

    /// The connection's `journal_mode` and `synchronous` (2 is FULL), as SQLite reports them.
    public func durability() throws -> (journalMode: String, synchronous: Int) {
        try queue.read { db in
            (
                try String.fetchOne(db, sql: "PRAGMA journal_mode") ?? "",
                try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1
            )
        }
    }

    // MARK: Reading

    /// Everything a restore needs: the latest snapshot, the inputs after it, the outbox, and the meta values.
    public func load() throws(StoreError) -> StoredState {
        do {
            return try queue.read { db in
                var meta: [String: String] = [:]
                for row in try Row.fetchAll(db, sql: "SELECT key, value FROM meta") { meta[row[0]] = row[1] }
                let snapshotValue = try Self.fetchSnapshot(db, where: "1")
                let after = snapshotValue?.inputSequence ?? 0
                let inputs = try Row.fetchAll(
                    db,
                    sql: "SELECT seq, at, kind, source, body FROM input WHERE seq > ? ORDER BY seq",
                    arguments: [after]
                ).map(Self.input)
                let lastInput = try Int64.fetchOne(db, sql: "SELECT MAX(seq) FROM input") ?? 0
                return StoredState(
                    storeID: meta["store_id"] ?? "0",
                    snapshot: snapshotValue,
                    inputs: inputs,
                    lastInputSequence: max(lastInput, after),
                    nextEventSequence: meta["next_event"].flatMap(Int64.init) ?? 1,
                    aliveAt: meta["alive_at"].flatMap(Int64.init),
                    stoppedCleanly: meta["clean_stop"] == "1"
                )
            }
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError(.corrupt, "cannot read \(path): \(Self.describe(error))")
        }
    }

    /// Which snapshots and inputs stay after a new snapshot:
    ///
    /// - the newest two snapshots (a restore starts from the newest);
    /// - the first snapshot of every UTC day, the *anchors*: a replay of history starts from the latest one before
    ///   its window, so the log never has to be replayed from its very beginning;
    /// - the inputs after the latest anchor older than `keepFrom` (the retention period), and that anchor. Nothing
    ///   older stays. So the log always starts right after a snapshot it can be replayed from. A store written before
    ///   anchors existed keeps its inputs until it has an anchor that old.
    ///
    /// Parts of a snapshot that never completed (andond ended while writing it) go too.
    private static func prune(_ db: Database, keepingInputsFrom keepFrom: Int64?) throws {
        try db.execute(
            sql: """
                DELETE FROM snapshot
                WHERE input_seq NOT IN (SELECT input_seq FROM snapshot ORDER BY input_seq DESC LIMIT 2)
                  AND input_seq NOT IN (SELECT MIN(input_seq) FROM snapshot GROUP BY at / \(Self.anchorInterval))
                """
        )
        if let keepFrom,
            let base = try Int64.fetchOne(
                db,
                sql: "SELECT MAX(input_seq) FROM snapshot WHERE at < ? "
                    + "AND input_seq IN (SELECT MIN(input_seq) FROM snapshot GROUP BY at / \(Self.anchorInterval))",
                arguments: [keepFrom]
            )
        {
            try db.execute(sql: "DELETE FROM snapshot WHERE input_seq < ?", arguments: [base])
            try db.execute(sql: "DELETE FROM input WHERE seq <= ?", arguments: [base])
        }
        try db.execute(sql: "DELETE FROM snapshot_part WHERE input_seq NOT IN (SELECT input_seq FROM snapshot)")
    }

    /// The next incident number recorded by andond before durable state existed (`next-incident`), else 1: the
    /// number the log's first configuration starts counting from.
    public static func legacyNextIncident(in directory: String) -> UInt64 {
        let path = (directory as NSString).appendingPathComponent("next-incident")
        return (try? String(contentsOfFile: path, encoding: .utf8))
            .flatMap { UInt64($0.trimmingCharacters(in: .whitespacesAndNewlines)) } ?? 1
    }

    /// One anchor snapshot stays per this many milliseconds (a UTC day).
    public static let anchorInterval: Int64 = 86_400_000

    /// The snapshot `condition` selects (an SQL expression on `input_seq` and `at`, the first row in `order`), its
    /// parts put together.
    static func fetchSnapshot(
        _ db: Database,
        where condition: String,
        arguments: StatementArguments = [],
        order: String = "input_seq DESC"
    ) throws -> StoredSnapshot? {
        guard
            let row = try Row.fetchOne(
                db,
                sql: "SELECT input_seq, at, configuration, configuration_file, state, parts FROM snapshot "
                    + "WHERE \(condition) ORDER BY \(order) LIMIT 1",
                arguments: arguments
            )
        else { return nil }
        var stored = StoredSnapshot(
            inputSequence: row[0],
            at: row[1],
            configuration: row[2],
            configurationFile: row[3],
            state: row[4]
        )
        let parts: Int = row[5]
        guard parts > 0 else { return stored }
        var state = Data()
        let rows = try Row.fetchCursor(
            db,
            sql: "SELECT part, bytes FROM snapshot_part WHERE input_seq = ? ORDER BY part",
            arguments: [stored.inputSequence]
        )
        var count = 0
        while let row = try rows.next() {
            guard row[0] as Int == count else { break }
            state.append(row[1] as Data)
            count += 1
        }
        guard count == parts else {
            throw StoreError(
                .corrupt,
                "the snapshot after input \(stored.inputSequence) has \(count) of its \(parts) parts"
            )
        }
        stored.state = state
        return stored
    }

    static func input(_ row: Row) -> StoredInput {
        StoredInput(
            sequence: row[0],
            at: row[1],
            kind: StoredInput.Kind(rawValue: row[2]) ?? .tick,
            source: row[3],
            body: row[4]
        )
    }

    /// Journal entries of the outbox after `sequence`, in order, at most `limit`.
    public func outbox(after sequence: Int64, limit: Int) throws(StoreError) -> [(sequence: Int64, entry: Data)] {
        do {
            let connection = try readerLock.withLock {
                if let reader { return reader }
                let opened = try Self.connect(path)
                reader = opened
                return opened
            }
            return try connection.read { db in
                try Row.fetchAll(
                    db,
                    sql: "SELECT seq, entry FROM outbox WHERE seq > ? ORDER BY seq LIMIT ?",
                    arguments: [sequence, limit]
                ).map { (sequence: $0[0], entry: $0[1]) }
            }
        } catch {
            throw StoreError(.corrupt, "cannot read the journal outbox of \(path): \(Self.describe(error))")
        }
    }

    /// Inputs with an instant in `range` (milliseconds since the epoch), in order: for replaying history.
    public func inputs(from start: Int64, to end: Int64) throws(StoreError) -> [StoredInput] {
        do {
            return try queue.read { db in
                try Row.fetchAll(
                    db,
                    sql: "SELECT seq, at, kind, source, body FROM input WHERE at >= ? AND at < ? ORDER BY seq",
                    arguments: [start, end]
                ).map(Self.input)
            }
        } catch {
            throw StoreError(.corrupt, "cannot read the input log of \(path): \(Self.describe(error))")
        }
    }

    // MARK: Writing

    /// Outbox entries deleted per commit at most: a commit after a long journald outage must stay short.
    public static let outboxDeletesPerCommit: Int64 = 4096

    /// Writes one batch in one transaction, and returns once it is on disk (fsynced). Returns the outbox sequence
    /// number through which entries are now deleted (at most `outboxDeletesPerCommit` more than before), or nil
    /// when the batch had no `journalWrittenThrough`.
    @discardableResult
    public func commit(_ batch: CommitBatch) throws(StoreError) -> Int64? {
        do {
            return try queue.write { db -> Int64? in
                if !batch.inputs.isEmpty {
                    let insert = try db.cachedStatement(
                        sql: "INSERT INTO input(seq, at, kind, source, body) VALUES (?, ?, ?, ?, ?)"
                    )
                    for input in batch.inputs {
                        try insert.execute(arguments: [
                            input.sequence, input.at, input.kind.rawValue, input.source, input.body,
                        ])
                    }
                }
                if !batch.outbox.isEmpty {
                    let insert = try db.cachedStatement(sql: "INSERT OR REPLACE INTO outbox(seq, entry) VALUES (?, ?)")
                    for (sequence, entry) in batch.outbox { try insert.execute(arguments: [sequence, entry]) }
                }
                var deletedThrough: Int64?
                if let written = batch.journalWrittenThrough {
                    let first = try Int64.fetchOne(db, sql: "SELECT MIN(seq) FROM outbox")
                    let through = first.map { min(written, $0 + Self.outboxDeletesPerCommit - 1) } ?? written
                    try db.cachedStatement(sql: "DELETE FROM outbox WHERE seq <= ?").execute(arguments: [through])
                    deletedThrough = through
                }
                try Self.write(batch.deliveries, in: db)
                try Self.update(batch.deliveryUpdates, in: db)
                for delivery in batch.usedTokens {
                    try db.cachedStatement(sql: "INSERT OR REPLACE INTO ack_token_used(delivery, at) VALUES (?, ?)")
                        .execute(arguments: [delivery, batch.aliveAt ?? 0])
                }
                for part in batch.snapshotParts {
                    try db.cachedStatement(
                        sql: "INSERT OR REPLACE INTO snapshot_part(input_seq, part, bytes) VALUES (?, ?, ?)"
                    ).execute(arguments: [part.inputSequence, part.index, part.bytes])
                }
                if let snapshot = batch.snapshot {
                    try db.execute(
                        sql: "INSERT OR REPLACE INTO snapshot(input_seq, at, configuration, configuration_file, state, "
                            + "parts) VALUES (?, ?, ?, ?, ?, ?)",
                        arguments: [
                            snapshot.inputSequence, snapshot.at, snapshot.configuration, snapshot.configurationFile,
                            batch.snapshotPartCount > 0 ? Data() : snapshot.state, batch.snapshotPartCount,
                        ]
                    )
                    try Self.prune(db, keepingInputsFrom: batch.pruneInputsBefore)
                    try db.execute(
                        sql: "DELETE FROM delivery WHERE state != 0 AND ended_at < ?",
                        arguments: [snapshot.at - Self.endedDeliveriesKeptFor.milliseconds]
                    )
                    try db.execute(
                        sql: "DELETE FROM ack_token_used WHERE at < ?",
                        arguments: [snapshot.at - Self.endedDeliveriesKeptFor.milliseconds]
                    )
                }
                let setMeta = try db.cachedStatement(sql: "INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)")
                if let next = batch.nextEventSequence { try setMeta.execute(arguments: ["next_event", String(next)]) }
                if let alive = batch.aliveAt { try setMeta.execute(arguments: ["alive_at", String(alive)]) }
                if let clean = batch.stoppedCleanly {
                    try setMeta.execute(arguments: ["clean_stop", clean ? "1" : "0"])
                }
                return deletedThrough
            }
        } catch {
            throw StoreError(.write, "cannot write to \(path): \(Self.describe(error))")
        }
    }
}

/// One input as stored.
public struct StoredInput: Sendable, Hashable {
    public enum Kind: Int, Sendable, Hashable {
        /// A configuration swapped in (at start or by a reload): `source` is its file, `body` its text.
        case configuration = 1
        /// A controller signal: `source` is the sender, `body` the message as received.
        case signal = 2
        /// A responder's action: `source` is the actor, `body` the request.
        case action = 3
        /// The timer fired deadlines that were due.
        case tick = 4
    }

    public var sequence: Int64
    /// Milliseconds since the epoch.
    public var at: Int64
    public var kind: Kind
    public var source: String
    public var body: String

    public init(sequence: Int64, at: Int64, kind: Kind, source: String, body: String) {
        self.sequence = sequence
        self.at = at
        self.kind = kind
        self.source = source
        self.body = body
    }
}

/// The engine's state after input `inputSequence`, with the configuration it ran under.
public struct StoredSnapshot: Sendable, Hashable {
    public var inputSequence: Int64
    public var at: Int64
    public var configuration: String
    public var configurationFile: String
    public var state: Data

    public init(inputSequence: Int64, at: Int64, configuration: String, configurationFile: String, state: Data) {
        self.inputSequence = inputSequence
        self.at = at
        self.configuration = configuration
        self.configurationFile = configurationFile
        self.state = state
    }
}

/// What `load()` found.
public struct StoredState: Sendable {
    public var storeID: String
    public var snapshot: StoredSnapshot?
    public var inputs: [StoredInput]
    public var lastInputSequence: Int64
    public var nextEventSequence: Int64
    /// When andond last recorded that it was alive (milliseconds since the epoch).
    public var aliveAt: Int64?
    public var stoppedCleanly: Bool
}

/// A piece of a snapshot's state (at most `SnapshotPart.size` bytes).
public struct SnapshotPart: Sendable, Hashable {
    public static let size = 1 << 20

    public var inputSequence: Int64
    public var index: Int
    public var bytes: Data

    public init(inputSequence: Int64, index: Int, bytes: Data) {
        self.inputSequence = inputSequence
        self.index = index
        self.bytes = bytes
    }
}

/// One transaction's worth of writes.
public struct CommitBatch: Sendable {
    public var inputs: [StoredInput] = []
    public var outbox: [(sequence: Int64, entry: Data)] = []
    /// Outbox entries up to this one reached journald: they are deleted.
    public var journalWrittenThrough: Int64?
    /// The snapshot row, with its last part (or, with no parts, its whole state in `snapshot.state`).
    public var snapshot: StoredSnapshot?
    /// Parts of a snapshot being written (one per commit, in order).
    public var snapshotParts: [SnapshotPart] = []
    /// With `snapshot`: how many parts it has (0: its state is in the row).
    public var snapshotPartCount = 0
    /// With a snapshot: inputs older than this instant (and covered by the snapshot) are deleted.
    public var pruneInputsBefore: Int64?
    public var nextEventSequence: Int64?
    public var aliveAt: Int64?
    public var stoppedCleanly: Bool?
    /// Deliveries created (each row written whole), and deliveries whose attempt was reported (their progress).
    public var deliveries: [Delivery] = []
    public var deliveryUpdates: [Delivery] = []
    /// Deliveries whose acknowledge link was used (at `aliveAt`).
    public var usedTokens: [Int64] = []

    public init() {}

    public var isEmpty: Bool {
        inputs.isEmpty && outbox.isEmpty && snapshot == nil && snapshotParts.isEmpty && deliveries.isEmpty
            && deliveryUpdates.isEmpty && usedTokens.isEmpty
    }
}
