import AndonConfig
import AndonCore
import AndonProtocol
import AndonStore
import AndonSystemd
import Foundation
import Synchronization

/// The commit stage: group commit. Inputs with their events collect in one pending batch (appended under the
/// escalation lock, so in engine order); one thread takes each batch, builds its journal entries from the events,
/// writes it in one transaction, fsyncs it, and only then sends its replies and hands its entries to the journal.
/// While one batch is on its way to the disk the next one fills, so a burst of signals costs one fsync, not one per
/// signal, and no event loop ever waits for the disk.
///
/// A commit that fails (disk full, I/O error) is retried every second with the batches after it; meanwhile its
/// replies wait (`ok` means on disk), its entries go to the journal at once as plain entries (people must still be
/// called), and `StorageHealth` bounds what waits. The timer's ticks still go on (calls must still escalate).
///
/// Every step takes its time from the injected clock. In andond the commit thread runs `run()`; at start, in tests
/// and in the simulation, `step()` commits on the caller's thread.
package final class Committer: CommitHandoff, DeliveryRowWriter, @unchecked Sendable {
    // Guarded by `condition`: what is appended and what the committing thread shares.
    private let condition = NSCondition()
    private var pending = Batch()
    /// The journal entries of what is pending, in order (built by the applying threads or here).
    private var pendingEntries: [PreparedEntries] = []
    private var closing = false
    private var nextInput: Int64
    private var health: StorageHealth
    var snapshotPolicy: SnapshotPolicy
    private var snapshots = SnapshotWriter()
    /// The configuration the log has last (the start's, then each `.configuration` input): a snapshot's row.
    private var configuration: (file: String, text: String)
    /// Written entries remain in the outbox beyond what one commit deletes: the next commit comes at once.
    private var outboxBehind = false

    // Touched by the committing thread only.
    private var numbering: OutboxNumbering
    private var retry: Batch?
    private var lastCommit: Instant
    private(set) var committedBatches = 0
    /// The next delivery's number (the outbox's, on disk).
    var nextDelivery: Int64 = 1
    /// The notification stage: takes the deliveries a commit created (set once, before the commit thread runs).
    weak var notifications: DeliveryService?
    private let unkept = Atomic<Int>(0)

    private let exit = WorkerExit()
    let store: any CommitStore
    let journal: any JournalSink
    let clock: any AndonClock
    /// Builds and encodes snapshots off the escalation lock and off the commit thread.
    private let encoder = DispatchQueue(label: "andond.snapshot", qos: .utility)
    /// Encodes snapshots on the appending thread, not on their own queue: deterministic, for the simulation.
    var inlineSnapshots = false
    /// Runs after a batch with events reached the disk (`STATUS=` may have changed).
    var published: (@Sendable () -> Void)?
    /// Runs on the commit thread after each batch reached the disk: its kept entries (with their outbox numbers), the
    /// entries not kept, and how long the commit took (the web face's live events and metrics; set before start).
    var committedEntries:
        (
            @Sendable (_ kept: [(sequence: Int64, entry: JournalEntry)], _ unkept: [JournalEntry], _ took: Duration) ->
                Void
        )?
    /// Runs on the commit thread after each batch with line-side changes reached the disk (the feedback to the
    /// stations; set before start).
    var committedStates: (@Sendable (_ states: [CallState]) -> Void)?
    /// While idle, a commit records that andond is alive (and prunes the outbox) this often.
    var aliveInterval: Duration = .seconds(10)
    /// Inputs older than this are deleted when a snapshot covers them.
    var retention: Duration = .seconds(90 * 86_400)

    /// - Parameter unsnapshotted: inputs in the log after the latest snapshot (a restore replayed them): the next
    ///   snapshot is due by the count of the log, not of this process, and right away when a restore replayed many.
    init(
        store: any CommitStore,
        journal: any JournalSink,
        clock: any AndonClock,
        storeID: String,
        configuration: (file: String, text: String),
        nextInput: Int64,
        nextEvent: Int64,
        outboxFrom: Int64? = nil,
        unsnapshotted: Int = 0,
        snapshotBytes: Int = 0
    ) {
        self.store = store
        self.journal = journal
        self.clock = clock
        self.configuration = configuration
        self.nextInput = nextInput
        numbering = OutboxNumbering(
            storeID: storeID,
            next: nextEvent,
            recordedWatermark: (outboxFrom ?? nextEvent) - 1,
            statePath: store.path
        )
        health = StorageHealth(path: store.path, directory: store.directory)
        let now = clock.now
        lastCommit = now
        snapshotPolicy = SnapshotPolicy(
            unsnapshotted: unsnapshotted,
            snapshotBytes: snapshotBytes,
            now: Double(now.millisecondsSinceEpoch) / 1000
        )
    }

    /// While commits fail, at most this many inputs wait in memory before signals and answers are refused.
    package var waitingLimit: Int {
        get { locked { health.waitingLimit } }
        set { locked { health.waitingLimit = newValue } }
    }

    /// At most this many journal entries wait in the outbox for journald (set before the first commit).
    package var outboxLimit: Int64 {
        get { numbering.limit }
        set { numbering.limit = newValue }
    }

    // MARK: The hand-off (under the escalation lock)

    func append(_ applied: Applied) -> Bool {
        locked {
            let stored = applied.input.stored(sequence: nextInput, at: applied.at)
            nextInput += 1
            pending.inputs.append(stored)
            if case .configuration(let loaded) = applied.input { configuration = (loaded.file, loaded.text) }
            health.appended()
            if applied.hasEntries { pendingEntries.append(applied.prepared) }
            if let deliver = applied.deliver { pending.deliveries.append(deliver) }
            condition.signal()
            return snapshotPolicy.logged(stored, at: Double(applied.at.millisecondsSinceEpoch) / 1000)
        }
    }

    func attachSnapshot(engine: EscalationEngine, window: SequenceWindow, at instant: Instant) {
        let started: (covered: Int64, configuration: (file: String, text: String))? = locked {
            guard snapshots.begin() else {
                snapshotPolicy.wanted = true
                return nil
            }
            return (nextInput - 1, configuration)
        }
        guard let started else { return }
        let inline = inlineSnapshots
        @Sendable func encode() {
            let encoded = SnapshotWriter.encode(
                engine: engine,
                window: window,
                configuration: started.configuration,
                covered: started.covered,
                at: instant
            )
            locked {
                snapshotPolicy.snapshotBytes = encoded.state.count
                snapshots.finished(encoded)
                condition.broadcast()
            }
        }
        if inline { encode() } else { encoder.async { encode() } }
    }

    func afterCommit(_ deliver: @escaping @Sendable () -> Void) {
        locked {
            pending.deliveries.append(deliver)
            condition.signal()
        }
    }

    func admits() -> Bool { locked { health.admits() } }

    func write(usedToken delivery: Int64) {
        locked {
            pending.usedTokens.append(delivery)
            condition.signal()
        }
    }

    func write(deliveries: [Delivery], then: @escaping @Sendable () -> Void) {
        locked {
            pending.rows += deliveries
            pending.deliveries.append(then)
            condition.signal()
        }
    }

    func wantSnapshot() { locked { snapshotPolicy.wanted = true } }

    /// The number the next committed journal entry will get (before the commit thread runs).
    var nextEventNumber: Int64 { numbering.next }

    /// Journal entries not kept in the outbox because it was full, since andond started.
    package var unkeptEntries: Int { unkept.load(ordering: .relaxed) }

    /// Why commits fail now, or nil.
    package var failure: String? { locked { health.failing } }

    // MARK: Committing

    /// Takes what is pending (with a batch that failed before it), builds its journal entries, and commits it: on
    /// success the replies go out and the entries go to the journal; on failure it is kept for the next step and the
    /// entries go out plainly now. `ending` writes every snapshot part left and records a clean stop. Returns whether
    /// the commit worked.
    @discardableResult
    package func step(ending: Bool = false, stoppedCleanly: Bool? = nil) -> Bool {
        if ending { waitForSnapshot() }
        var (batch, prepared, announcements) = locked {
            var taken = pending
            pending = Batch()
            snapshots.take(into: &taken.snapshot, all: ending)
            defer { pendingEntries = [] }
            return (taken, pendingEntries, health.announcements())
        }
        for entry in announcements { journal.submit(entry) }
        for entries in prepared {
            batch.hasEvents = true
            let built = entries.take()
            batch.states += built.states
            let ids = numbering.stamp(built.entries, outbox: &batch.outbox, unkept: &batch.unkept)
            for planned in built.deliveries {
                batch.created.append(
                    Delivery(
                        id: nextDelivery,
                        eventID: ids[planned.entry],
                        recipient: planned.intent.recipient,
                        channel: planned.intent.channel,
                        content: planned.content,
                        createdAt: planned.content.at,
                        giveUpAfter: planned.giveUpAfter
                    )
                )
                nextDelivery += 1
            }
        }
        prepared = []
        unkept.store(numbering.unkeptTotal, ordering: .relaxed)
        let fresh = batch.outbox
        if var earlier = retry {
            earlier.append(batch)
            batch = earlier
            retry = nil
        }
        let started = clock.now
        do {
            try commit(batch, stoppedCleanly: ending ? true : stoppedCleanly)
        } catch {
            let first = locked { health.failed(error.message) }
            if let first { journal.submit(first) }
            // People must still be called: the entries go out now, and again (same ANDON_EVENT_ID) once committed.
            for (_, entry) in fresh { journal.submit(entry) }
            retry = batch
            return false
        }
        lastCommit = clock.now
        for entry in locked({ health.committed(batch.inputs.count) }) { journal.submit(entry) }
        for delivery in batch.deliveries { delivery() }
        notifications?.committed(batch.created)
        for (sequence, entry) in batch.outbox { journal.submitDurable(entry, sequence: sequence) }
        for entry in batch.unkept { journal.submit(entry) }
        if batch.hasEvents { published?() }
        committedEntries?(batch.outbox, batch.unkept, clock.now.duration(since: started))
        if !batch.states.isEmpty { committedStates?(batch.states) }
        return true
    }

    /// Commits at once on the caller's thread, throwing when it fails (at start, before the commit thread runs).
    func commitNow(stoppedCleanly: Bool? = nil) throws(StoreError) {
        guard step(stoppedCleanly: stoppedCleanly) else {
            throw StoreError(.write, failure ?? "the state could not be written")
        }
    }

    private func commit(_ taken: Batch, stoppedCleanly: Bool?) throws(StoreError) {
        var batch = taken.snapshot
        batch.inputs = taken.inputs
        batch.outbox = taken.outbox.map { ($0.sequence, Data($0.entry.serialized)) }
        batch.deliveries = taken.created
        batch.deliveryUpdates = taken.rows
        batch.usedTokens = taken.usedTokens
        let watermark = journal.durableWrittenThrough
        batch.journalWrittenThrough = watermark
        batch.aliveAt = clock.now.millisecondsSinceEpoch
        batch.stoppedCleanly = stoppedCleanly ?? (committedBatches == 0 ? false : nil)
        batch.nextEventSequence = numbering.next
        // A snapshot joins a batch that commits with or after the inputs it covers (batches commit in order).
        if let snapshot = batch.snapshot { batch.pruneInputsBefore = snapshot.at - retention.milliseconds }
        let deletedThrough = try store.commit(batch) ?? watermark
        committedBatches += 1
        if let notice = numbering.recorded(deletedThrough) { journal.submit(notice) }
        locked { outboxBehind = deletedThrough < watermark }
    }

    /// Waits until a snapshot being encoded has joined the pending batch (at a clean stop).
    private func waitForSnapshot() {
        locked { while snapshots.encoding { condition.wait() } }
    }

    private func locked<T>(_ body: () throws -> T) rethrows -> T {
        condition.lock()
        defer { condition.unlock() }
        return try body()
    }

    // MARK: The commit thread

    func start() {
        let thread = Thread { [self] in run() }
        thread.name = "andond-commit"
        thread.start()
    }

    /// Writes what is pending, records a clean stop, and ends the thread.
    func finish() async {
        locked {
            closing = true
            condition.signal()
        }
        await exit.wait()
    }

    /// After this many inputs and `trimAfterIdle` without any, the commit thread gives freed memory back once.
    static let trimAfterInputs = 10_000
    var trimAfterIdle: Duration = .seconds(5)

    private func run() {
        var lastInputs = clock.now
        var inputsSinceTrim = 0
        while true {
            condition.lock()
            while pending.isEmpty && pendingEntries.isEmpty && retry == nil && !closing && !snapshots.hasParts
                && snapshots.ready == nil && !outboxBehind && clock.now.duration(since: lastCommit) < aliveInterval
            {
                let now = clock.now
                // Journal progress is recorded within a second, so a crash writes at most that much twice. Once all
                // of it is recorded, an idle andond sleeps until the next alive commit.
                let lagging = numbering.recordedWatermark < numbering.next - 1
                if lagging, journal.durableWrittenThrough > numbering.recordedWatermark,
                    now.duration(since: lastCommit) >= .seconds(1)
                {
                    break
                }
                if inputsSinceTrim >= Self.trimAfterInputs, now.duration(since: lastInputs) >= trimAfterIdle {
                    // A burst left freed memory between what stays: with nothing coming in, give it back (1-15 ms
                    // here at 100,000 open calls). Never on a busy andond: `malloc_trim` holds the heap's lock.
                    condition.unlock()
                    returnFreedMemory()
                    inputsSinceTrim = 0
                    condition.lock()
                    continue
                }
                var wait = (lastCommit + aliveInterval).duration(since: now)
                if lagging { wait = min(wait, .seconds(1)) }
                if inputsSinceTrim >= Self.trimAfterInputs {
                    wait = min(wait, (lastInputs + trimAfterIdle).duration(since: now))
                }
                condition.wait(for: wait)
            }
            let ending = closing
            let inputs = pending.inputs.count
            condition.unlock()
            if inputs > 0 {
                lastInputs = clock.now
                inputsSinceTrim += inputs
            }
            let worked = step(ending: ending)
            if ending { break }
            if !worked { Thread.sleep(forTimeInterval: 1) }
        }
        exit.finished()
    }
}
