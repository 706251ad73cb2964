import AndonCore
import AndonStore
import AndonSystemd

/// Where the commit stage writes: the state store in andond; in the simulation, the same store behind a switch that
/// makes commits fail for a while (a full disk).
package protocol CommitStore: AnyObject, Sendable {
    var path: String { get }
    var directory: String { get }
    /// Writes one batch in one transaction; returns the outbox watermark it deleted through.
    func commit(_ batch: CommitBatch) throws(StoreError) -> Int64?
}

extension StateStore: CommitStore {}

/// One batch on its way to disk: the inputs, their journal entries with their outbox numbers, the replies that wait
/// for it, and what the store writes beside them (a snapshot or a part of one).
struct Batch {
    var inputs: [StoredInput] = []
    var outbox: [(sequence: Int64, entry: JournalEntry)] = []
    /// Entries for which the outbox had no room: written once, plainly, after the commit.
    var unkept: [JournalEntry] = []
    var deliveries: [@Sendable () -> Void] = []
    var snapshot = CommitBatch()
    var hasEvents = false
    /// Notification deliveries the events created (handed to the notification stage once on disk), and rows of
    /// deliveries whose attempts were reported.
    var created: [Delivery] = []
    var rows: [Delivery] = []
    /// Deliveries whose acknowledge link was used.
    var usedTokens: [Int64] = []
    /// The line-side changes of the batch's events (sent to the stations once on disk).
    var states: [CallState] = []

    var isEmpty: Bool {
        inputs.isEmpty && outbox.isEmpty && unkept.isEmpty && deliveries.isEmpty && snapshot.snapshot == nil
            && snapshot.snapshotParts.isEmpty && rows.isEmpty && usedTokens.isEmpty
    }

    /// A batch that failed, with the one after it: retried as one, in order.
    mutating func append(_ later: Batch) {
        inputs += later.inputs
        outbox += later.outbox
        unkept += later.unkept
        deliveries += later.deliveries
        created += later.created
        rows += later.rows
        usedTokens += later.usedTokens
        states += later.states
        snapshot.snapshot = later.snapshot.snapshot ?? snapshot.snapshot
        snapshot.snapshotParts += later.snapshot.snapshotParts
        snapshot.snapshotPartCount = max(snapshot.snapshotPartCount, later.snapshot.snapshotPartCount)
        hasEvents = hasEvents || later.hasEvents
    }
}
