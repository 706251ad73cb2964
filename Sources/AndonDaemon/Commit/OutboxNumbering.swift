import AndonCore
import AndonProtocol
import AndonSystemd

/// Numbers journal entries for the outbox (`ANDON_EVENT_ID` = STORE-N, N increasing without gaps) and keeps the
/// outbox within its limit: past it, entries are not kept (stamped STORE-uN and written once, plainly), one `crit`
/// entry says so, and a notice counts them once the outbox has room again. A value on the committing thread.
struct OutboxNumbering: Sendable {
    let storeID: String
    /// The next entry's number, and the highest whose deletion the last commit recorded.
    private(set) var next: Int64
    var recordedWatermark: Int64
    /// At most this many entries wait in the outbox for journald (about 300 MB on disk; at 100 signals/s, about 40
    /// minutes of outage).
    var limit: Int64 = 500_000
    /// Entries not kept because the outbox was full, in all and since it last had room.
    private(set) var unkeptTotal = 0
    private var unkeptSinceRoom = 0
    let statePath: String

    init(storeID: String, next: Int64, recordedWatermark: Int64, statePath: String) {
        self.storeID = storeID
        self.next = next
        self.recordedWatermark = recordedWatermark
        self.statePath = statePath
    }

    /// Stamps `entries`: kept ones into `outbox` with their numbers, the rest into `unkept`, with the `crit` entry
    /// the first time the outbox is full. Returns each entry's `ANDON_EVENT_ID`.
    @discardableResult
    mutating func stamp(
        _ entries: [JournalEntry],
        outbox: inout [(sequence: Int64, entry: JournalEntry)],
        unkept: inout [JournalEntry]
    ) -> [String] {
        var ids: [String] = []
        ids.reserveCapacity(entries.count)
        guard next - 1 - recordedWatermark + Int64(entries.count) > limit else {
            for var entry in entries {
                let id = "\(storeID)-\(next)"
                entry.add(.eventID, id)
                ids.append(id)
                outbox.append((next, entry))
                next += 1
            }
            return ids
        }
        if unkeptSinceRoom == 0 {
            unkept.append(
                .daemon(
                    "the journal outbox is full (\(limit) entries wait for journald): further entries are not kept "
                        + "until journald takes some; their calls are still escalated and in the state, and the "
                        + "entries go to journald at once if it answers (else to standard error)",
                    priority: .critical,
                    id: MessageID.outboxFull,
                    fields: [(.state, statePath)]
                )
            )
        }
        for var entry in entries {
            unkeptTotal += 1
            unkeptSinceRoom += 1
            let id = "\(storeID)-u\(unkeptTotal)"
            entry.add(.eventID, id)
            ids.append(id)
            unkept.append(entry)
        }
        return ids
    }

    /// After a commit recorded `deletedThrough`: once the outbox has room for a tenth of its limit again, one notice
    /// counts what it could not keep.
    mutating func recorded(_ deletedThrough: Int64) -> JournalEntry? {
        recordedWatermark = max(recordedWatermark, deletedThrough)
        guard unkeptSinceRoom > 0, next - 1 - recordedWatermark < limit - limit / 10 else { return nil }
        defer { unkeptSinceRoom = 0 }
        return .daemon(
            "the journal outbox has room again; \(unkeptSinceRoom) entries were not kept while it was full (they "
                + "went to journald or standard error once, without a resend)",
            priority: .notice,
            id: MessageID.outboxFull,
            fields: [(.journalUnkept, String(unkeptSinceRoom))]
        )
    }
}
