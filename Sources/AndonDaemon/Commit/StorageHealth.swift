import AndonCore
import AndonProtocol
import AndonSystemd

/// Whether andond can write its state, and what it takes meanwhile: a value the committer keeps under its lock and
/// asks at each step; its transitions come back as the journal entries that say them.
///
/// While commits fail (disk full, I/O error), inputs wait in memory with their replies (`ok` means on disk); at most
/// `waitingLimit` wait: past it `admits()` says no, and signals and answers are refused with `storage-failing` (the
/// controller resends) before they change anything. When a commit works again, everything that waited is written
/// and answered, and andond takes input again without a restart. Each transition is one entry with its MESSAGE_ID.
struct StorageHealth: Sendable {
    var waitingLimit = 10_000
    /// Why commits fail now, or nil.
    private(set) var failing: String?
    /// Inputs appended and not yet on disk (pending, or in a batch that failed and is retried).
    private(set) var waiting = 0
    /// Whether signals and answers are refused now, how many were since that began, and whether that is said yet.
    private(set) var refusing = false
    private(set) var refusedSinceFull = 0
    private var refusalToSay = false
    /// Where the state is, for what the entries tell the admin to fix.
    let path: String
    let directory: String

    init(path: String, directory: String) {
        self.path = path
        self.directory = directory
    }

    mutating func appended() { waiting += 1 }

    /// Whether a signal or an answer may be taken now; each refusal is counted. Called under the escalation lock:
    /// builds no entry (the first refusal is said by `announcements()`, on the commit thread).
    mutating func admits() -> Bool {
        guard failing != nil, waiting >= waitingLimit else { return true }
        refusedSinceFull += 1
        if !refusing {
            refusing = true
            refusalToSay = true
        }
        return false
    }

    /// What is to be said since the last look: the first refusal, with how much waited then.
    mutating func announcements() -> [JournalEntry] {
        guard refusalToSay else { return [] }
        refusalToSay = false
        return [
            .daemon(
                "andond refuses signals and answers: its state cannot be written (\(failing ?? "")) and "
                    + "\(waiting) inputs wait in memory for the disk; controllers get err code=storage-failing and "
                    + "resend, nothing answered ok is lost, calls already open still escalate. Free space or fix "
                    + "\(directory); andond takes signals again as soon as it can write",
                priority: .critical,
                id: MessageID.inputsRefused,
                fields: [(.state, path), (.waitingInputs, String(waiting))]
            )
        ]
    }

    /// A commit failed: the first failure's entry, or nil while it goes on.
    mutating func failed(_ message: String) -> JournalEntry? {
        let first = failing == nil
        failing = message
        guard first else { return nil }
        return .daemon(
            "andond cannot write its state: \(message); replies wait until it can (controllers resend), calls are "
                + "still escalated and journaled, and a restart now would lose what was not written. Free space or fix "
                + "\(directory)",
            priority: .critical,
            id: MessageID.stateWriteFailed,
            fields: [(.state, path)]
        )
    }

    /// A commit of `count` inputs worked: the entries that say storage and input are back, when they were not.
    mutating func committed(_ count: Int) -> [JournalEntry] {
        waiting -= count
        var entries: [JournalEntry] = []
        if refusing {
            entries.append(
                .daemon(
                    "andond takes signals and answers again: its state is written; \(refusedSinceFull) were refused "
                        + "with storage-failing meanwhile (controllers resend them)",
                    priority: .notice,
                    id: MessageID.inputsRefused,
                    fields: [(.refused, String(refusedSinceFull))]
                )
            )
        }
        if let was = failing {
            entries.append(
                .daemon(
                    "andond writes its state again (it could not: \(was)); the replies that waited are sent now",
                    priority: .notice,
                    id: MessageID.stateWriteFailed
                )
            )
        }
        failing = nil
        refusing = false
        refusalToSay = false
        refusedSinceFull = 0
        return entries
    }
}
