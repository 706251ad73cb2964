import AndonConfig
import AndonCore
import AndonProtocol
import AndonStore
import AndonSystemd
import Foundation

/// Group commit: inputs and their journal entries collect in one pending batch (appended under the dispatcher's
/// engine lock, so in engine order); one thread writes each batch in one transaction, fsyncs it, and only then sends
/// the batch's replies and hands its entries to the journal writer. While one batch is on its way to the disk the
/// next one fills, so a burst of signals costs one fsync, not one per signal, and no event loop ever waits for the
/// disk. The engine lock is never held across a commit.
///
/// A commit that fails (disk full, I/O error) is retried every second with the batches after it; meanwhile its
/// replies wait (`ok` means on disk), its entries go to the journal at once as plain entries (people must still be
/// called), and one `crit` entry says why. At most `waitingLimit` inputs wait in memory so: beyond it, `admits()`
/// says no and the dispatcher refuses signals and answers (`storage-failing`; the controller resends) until a commit
/// works again. The timer's ticks still go on (calls must still escalate), and wait with the rest.
final class Committer: @unchecked Sendable {
    // Everything mutable is guarded by `condition`.
    private let condition = NSCondition()
    private var pending = Pending()
    private var closing = false
    private let exit = WorkerExit()
    private var nextInput: Int64
    private var nextEvent: Int64
    /// When the next snapshot is due (`SnapshotPolicy`; tests may tune it before the first input).
    var snapshotPolicy: SnapshotPolicy
    private var failing: String?
    /// Inputs appended and not yet on disk (pending, or in a batch that failed and is retried).
    private var waiting = 0
    /// Whether signals and answers are refused now, and how many were since that began.
    private var refusing = false
    private var refusedSinceFull = 0
    /// The journal watermark the last commit recorded (outbox entries through it are deleted).
    private var recordedWatermark: Int64 = 0
    /// Written entries remain in the outbox beyond what one commit deletes: the next commit comes at once.
    private var outboxBehind = false
    /// A large snapshot on its way to disk, one part per commit; its row comes with the last part.
    /// Each part is copied out of `state` only when its commit takes it.
    private var snapshotParts: (row: StoredSnapshot, state: [UInt8], parts: [Range<Int>], next: Int)?
    private(set) var committedBatches = 0

    let store: StateStore
    let journal: JournalWriter
    let storeID: String
    /// While commits fail, at most this many inputs wait in memory before signals and answers are refused.
    var waitingLimit = 10_000
    /// While idle, a commit records that andond is alive (and prunes the outbox) this often.
    var aliveInterval: TimeInterval = 10
    /// Inputs older than this are deleted when a snapshot covers them.
    var retention: Duration = .seconds(90 * 86_400)
    /// At most this many journal entries wait in the outbox for journald (about 300 MB on disk; at 100 signals/s,
    /// about 40 minutes of outage). Beyond it, new entries are not kept: they go to the journal writer at once as
    /// plain entries (journald gets them if it answers by then, standard error otherwise), their calls still escalate
    /// and are in the input log, and one `crit` entry says so; a notice counts them once the outbox has room again.
    var outboxLimit: Int64 = 500_000
    /// Entries not kept because the outbox was full, in all and since it last had room.
    private var unkeptTotal = 0
    private var unkeptSinceRoom = 0

    struct Pending {
        var inputs: [StoredInput] = []
        var outbox: [(sequence: Int64, entry: JournalEntry)] = []
        var deliveries: [@Sendable () -> Void] = []
        /// Entries for which the outbox had no room: written as plain entries after the commit.
        var unkept: [JournalEntry] = []
        /// An encoded snapshot, ready to be written with this batch: whole, or (with `snapshotPartCount`) its row.
        var snapshot: StoredSnapshot?
        var snapshotParts: [SnapshotPart] = []
        var snapshotPartCount = 0
        var isEmpty: Bool {
            inputs.isEmpty && outbox.isEmpty && deliveries.isEmpty && snapshot == nil && snapshotParts.isEmpty
                && unkept.isEmpty
        }
    }

    /// Builds and encodes snapshots off the engine lock and off the commit thread.
    private let snapshots = DispatchQueue(label: "andond.snapshot", qos: .utility)
    private var encoding = false

    /// - Parameter unsnapshotted: inputs in the log after the latest snapshot (a restore replayed them): the next
    ///   snapshot is due by the count of the log, not of this process, and right away when a restore replayed many.
    init(
        store: StateStore,
        journal: JournalWriter,
        storeID: String,
        nextInput: Int64,
        nextEvent: Int64,
        outboxFrom: Int64? = nil,
        unsnapshotted: Int = 0,
        snapshotBytes: Int = 0
    ) {
        self.store = store
        self.journal = journal
        self.storeID = storeID
        self.nextInput = nextInput
        self.nextEvent = nextEvent
        self.recordedWatermark = (outboxFrom ?? nextEvent) - 1
        self.snapshotPolicy = SnapshotPolicy(
            unsnapshotted: unsnapshotted,
            snapshotBytes: snapshotBytes,
            now: Date().timeIntervalSince1970
        )
    }

    func start() {
        let thread = Thread { [self] in run() }
        thread.name = "andond-commit"
        thread.start()
    }

    /// Appends an input and its events' journal entries (stamped with `ANDON_EVENT_ID` here); `deliver` runs once the
    /// batch is on disk. Call under the engine lock, so the log has the engine's order. Returns true when the caller
    /// should add a snapshot of the state after this input (`attachSnapshot`).
    @discardableResult
    func append(
        _ input: EngineInput,
        at instant: Instant,
        entries: [JournalEntry],
        deliver: (@Sendable () -> Void)?
    ) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        let stored = input.stored(sequence: nextInput, at: instant)
        pending.inputs.append(stored)
        nextInput += 1
        waiting += 1
        if nextEvent - 1 - recordedWatermark + Int64(entries.count) > outboxLimit {
            outboxFull(entries)
        } else {
            for var entry in entries {
                entry.add(.eventID, "\(storeID)-\(nextEvent)")
                pending.outbox.append((nextEvent, entry))
                nextEvent += 1
            }
        }
        if let deliver { pending.deliveries.append(deliver) }
        condition.signal()
        return snapshotPolicy.logged(stored, at: Date().timeIntervalSince1970)
    }

    /// Entries the full outbox cannot keep: stamped with an ID of their own (`STORE-uN`), written as plain entries
    /// after the commit. Call with `condition` locked.
    private func outboxFull(_ entries: [JournalEntry]) {
        if unkeptSinceRoom == 0 {
            journal.submit(
                .daemon(
                    "the journal outbox is full (\(outboxLimit) entries wait for journald): further entries are not "
                        + "kept until journald takes some; their calls are still escalated and in the state, and the "
                        + "entries go to journald at once if it answers (else to standard error)",
                    priority: .critical,
                    id: MessageID.outboxFull,
                    fields: [(.state, store.path)]
                )
            )
        }
        for var entry in entries {
            unkeptTotal += 1
            unkeptSinceRoom += 1
            entry.add(.eventID, "\(storeID)-u\(unkeptTotal)")
            pending.unkept.append(entry)
        }
    }

    /// After a commit: once the outbox has room for a tenth of its limit again, one notice counts what it could not
    /// keep. Call with `condition` locked.
    private func noteOutboxRoom() {
        guard unkeptSinceRoom > 0, nextEvent - 1 - recordedWatermark < outboxLimit - outboxLimit / 10 else { return }
        journal.submit(
            .daemon(
                "the journal outbox has room again; \(unkeptSinceRoom) entries were not kept while it was full (they "
                    + "went to journald or standard error once, without a resend)",
                priority: .notice,
                id: MessageID.outboxFull,
                fields: [(.journalUnkept, String(unkeptSinceRoom))]
            )
        )
        unkeptSinceRoom = 0
    }

    /// Stores the state after the last appended input: `engine` and `window` are values copied under the engine
    /// lock (O(1): persistent maps); the snapshot is encoded on its own queue, then written with later batches, which
    /// commit after the inputs it covers: in parts of `SnapshotPart.size`, one per batch, so that no commit carries
    /// megabytes while replies wait for it. One at a time: a snapshot asked for while one is encoding or being
    /// written waits for the next turn.
    func attachSnapshot(
        engine: EscalationEngine,
        window: SequenceWindow,
        configuration: Configuration,
        at instant: Instant
    ) {
        condition.lock()
        let covered = nextInput - 1
        guard !encoding, snapshotParts == nil else {
            snapshotPolicy.wanted = true
            condition.unlock()
            return
        }
        encoding = true
        condition.unlock()
        snapshots.async { [self] in
            let state = DurableState.encode(engine: engine, window: window)
            let stored = StoredSnapshot(
                inputSequence: covered,
                at: instant.millisecondsSinceEpoch,
                configuration: configuration.text,
                configurationFile: configuration.file,
                state: state.count > SnapshotPart.size ? Data() : Data(state)
            )
            condition.lock()
            snapshotPolicy.snapshotBytes = state.count
            if state.count > SnapshotPart.size {
                let parts = stride(from: 0, to: state.count, by: SnapshotPart.size).map {
                    $0..<min(state.count, $0 + SnapshotPart.size)
                }
                snapshotParts = (stored, state, parts, 0)
            } else {
                pending.snapshot = stored
            }
            encoding = false
            condition.signal()
            condition.unlock()
        }
    }

    /// Waits until a snapshot being encoded has joined the pending batch (at a clean stop).
    private func waitForSnapshot() {
        condition.lock()
        while encoding { condition.wait() }
        condition.unlock()
    }

    /// Runs `deliver` once everything appended so far is on disk (a retransmit's reply, for instance).
    func afterCommit(_ deliver: @escaping @Sendable () -> Void) {
        condition.lock()
        pending.deliveries.append(deliver)
        condition.signal()
        condition.unlock()
    }

    /// Asks for a snapshot with the next input (at a clean stop, for a quick next start).
    func wantSnapshot() {
        condition.lock()
        snapshotPolicy.wanted = true
        condition.unlock()
    }

    /// Journal entries not kept in the outbox because it was full, since andond started.
    var unkeptEntries: Int {
        condition.lock()
        defer { condition.unlock() }
        return unkeptTotal
    }

    /// Whether a signal or an answer may be taken now: always while commits work; while they fail, until
    /// `waitingLimit` inputs wait. The first refusal is a `crit` journal entry; each one is counted. Call before the
    /// input changes the engine (under the engine lock: the dispatcher's lock, then this one).
    func admits() -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard failing != nil, waiting >= waitingLimit else { return true }
        refusedSinceFull += 1
        if !refusing {
            refusing = true
            journal.submit(
                .daemon(
                    "andond refuses signals and answers: its state cannot be written (\(failing ?? "")) and "
                        + "\(waiting) inputs wait in memory for the disk; controllers get err code=storage-failing and "
                        + "resend, nothing answered ok is lost, calls already open still escalate. Free space or fix "
                        + "\(store.directory); andond takes signals again as soon as it can write",
                    priority: .critical,
                    id: MessageID.inputsRefused,
                    fields: [(.state, store.path), (.waitingInputs, String(waiting))]
                )
            )
        }
        return false
    }

    /// The reason commits fail now, or nil.
    var failure: String? {
        condition.lock()
        defer { condition.unlock() }
        return failing
    }

    /// Writes what is pending, records a clean stop, and ends the thread.
    func finish() async {
        beginClosing()
        await exit.wait()
    }

    private func beginClosing() {
        condition.lock()
        closing = true
        condition.signal()
        condition.unlock()
    }

    /// Commits synchronously on the caller's thread (at start, before the commit thread runs).
    func commitNow(stoppedCleanly: Bool? = nil) throws(StoreError) {
        condition.lock()
        let taken = pending
        pending = Pending()
        condition.unlock()
        try commit(taken, stoppedCleanly: stoppedCleanly)
        committed(taken)
        deliver(taken)
    }

    /// Counts what a successful commit took off the waiting inputs.
    private func committed(_ taken: Pending) {
        condition.lock()
        waiting -= taken.inputs.count
        condition.unlock()
    }

    /// After this many inputs and `trimAfterIdle` without any, the commit thread gives freed memory back once.
    static let trimAfterInputs = 10_000
    var trimAfterIdle: TimeInterval = 5

    private func run() {
        var lastCommit = Date()
        var lastInputs = Date()
        var inputsSinceTrim = 0
        var retry: Pending?
        while true {
            condition.lock()
            while pending.isEmpty && retry == nil && !closing && snapshotParts == nil && !outboxBehind
                && Date().timeIntervalSince(lastCommit) < aliveInterval
            {
                // Journal progress is recorded within a second, so a crash writes at most that much twice. Once all
                // of it is recorded, an idle andond sleeps until the next alive commit.
                let lagging = recordedWatermark < nextEvent - 1
                if lagging, journal.durableWrittenThrough > recordedWatermark,
                    Date().timeIntervalSince(lastCommit) >= 1
                {
                    break
                }
                if inputsSinceTrim >= Self.trimAfterInputs, Date().timeIntervalSince(lastInputs) >= trimAfterIdle {
                    // A burst left freed memory between what stays: with nothing coming in, give it back (1-15 ms
                    // here at 100,000 open calls). Never on a busy andond: `malloc_trim` holds the heap's lock.
                    condition.unlock()
                    returnFreedMemory()
                    inputsSinceTrim = 0
                    condition.lock()
                    continue
                }
                let alive = lastCommit.addingTimeInterval(aliveInterval)
                var until = lagging ? min(alive, Date().addingTimeInterval(1)) : alive
                if inputsSinceTrim >= Self.trimAfterInputs {
                    until = min(until, lastInputs.addingTimeInterval(trimAfterIdle))
                }
                _ = condition.wait(until: until)
            }
            let ending = closing
            if ending {
                condition.unlock()
                waitForSnapshot()
                condition.lock()
            }
            var taken = pending
            pending = Pending()
            if !taken.inputs.isEmpty {
                lastInputs = Date()
                inputsSinceTrim += taken.inputs.count
            }
            takeSnapshotParts(into: &taken, all: ending)
            condition.unlock()
            let fresh = taken.outbox

            if var earlier = retry {
                earlier.inputs += taken.inputs
                earlier.outbox += taken.outbox
                earlier.deliveries += taken.deliveries
                earlier.unkept += taken.unkept
                earlier.snapshot = taken.snapshot ?? earlier.snapshot
                earlier.snapshotParts += taken.snapshotParts
                earlier.snapshotPartCount = max(earlier.snapshotPartCount, taken.snapshotPartCount)
                taken = earlier
                retry = nil
            }
            do {
                try commit(taken, stoppedCleanly: ending ? true : nil)
                lastCommit = Date()
                committed(taken)
                recovered()
                deliver(taken)
            } catch {
                failed(error, freshEntries: fresh)
                retry = taken
                if ending { break }
                Thread.sleep(forTimeInterval: 1)
                continue
            }
            if ending { break }
        }
        exit.finished()
    }

    /// Moves the next part of a snapshot being written (every part, at a clean stop) into `taken`; with the last
    /// part goes the snapshot's row. Call with `condition` locked.
    private func takeSnapshotParts(into taken: inout Pending, all: Bool) {
        guard var writing = snapshotParts else { return }
        repeat {
            taken.snapshotParts.append(
                SnapshotPart(
                    inputSequence: writing.row.inputSequence,
                    index: writing.next,
                    bytes: Data(writing.state[writing.parts[writing.next]])
                )
            )
            writing.next += 1
        } while all && writing.next < writing.parts.count
        if writing.next == writing.parts.count {
            taken.snapshot = writing.row
            taken.snapshotPartCount = writing.parts.count
            snapshotParts = nil
        } else {
            snapshotParts = writing
        }
    }

    private func commit(_ taken: Pending, stoppedCleanly: Bool?) throws(StoreError) {
        var batch = CommitBatch()
        batch.inputs = taken.inputs
        batch.outbox = taken.outbox.map { ($0.sequence, Data($0.entry.serialized)) }
        batch.snapshotParts = taken.snapshotParts
        batch.snapshotPartCount = taken.snapshotPartCount
        let watermark = journal.durableWrittenThrough
        batch.journalWrittenThrough = watermark
        batch.aliveAt = Int64(Date().timeIntervalSince1970 * 1000)
        batch.stoppedCleanly = stoppedCleanly ?? (committedBatches == 0 ? false : nil)
        condition.lock()
        batch.nextEventSequence = nextEvent
        condition.unlock()
        // A snapshot joins a batch that commits with or after the inputs it covers (batches commit in order).
        if let snapshot = taken.snapshot {
            batch.snapshot = snapshot
            batch.pruneInputsBefore = snapshot.at - retention.milliseconds
        }
        let deletedThrough = try store.commit(batch) ?? watermark
        committedBatches += 1
        condition.lock()
        recordedWatermark = max(recordedWatermark, deletedThrough)
        outboxBehind = deletedThrough < watermark
        noteOutboxRoom()
        condition.unlock()
    }

    private func deliver(_ taken: Pending) {
        for delivery in taken.deliveries { delivery() }
        for (sequence, entry) in taken.outbox { journal.submitDurable(entry, sequence: sequence) }
        for entry in taken.unkept { journal.submit(entry) }
    }

    private func failed(_ error: StoreError, freshEntries: [(sequence: Int64, entry: JournalEntry)]) {
        condition.lock()
        let first = failing == nil
        failing = error.message
        condition.unlock()
        if first {
            journal.submit(
                .daemon(
                    "andond cannot write its state: \(error.message); replies wait until it can (controllers resend), "
                        + "calls are still escalated and journaled, and a restart now would lose what was not written. "
                        + "Free space or fix \(store.directory)",
                    priority: .critical,
                    id: MessageID.stateWriteFailed,
                    fields: [(.state, store.path)]
                )
            )
        }
        // People must still be called: the entries go out now, and again (same ANDON_EVENT_ID) once committed.
        for (_, entry) in freshEntries { journal.submit(entry) }
    }

    private func recovered() {
        condition.lock()
        let was = failing
        failing = nil
        let refused = refusing ? refusedSinceFull : nil
        refusing = false
        refusedSinceFull = 0
        condition.unlock()
        if let refused {
            journal.submit(
                .daemon(
                    "andond takes signals and answers again: its state is written; \(refused) were refused with "
                        + "storage-failing meanwhile (controllers resend them)",
                    priority: .notice,
                    id: MessageID.inputsRefused,
                    fields: [(.refused, String(refused))]
                )
            )
        }
        guard let was else { return }
        journal.submit(
            .daemon(
                "andond writes its state again (it could not: \(was)); the replies that waited are sent now",
                priority: .notice,
                id: MessageID.stateWriteFailed
            )
        )
    }
}
