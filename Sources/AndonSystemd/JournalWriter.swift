import AndonCore
import AndonProtocol
import CSystemd
import DequeModule
import Foundation

/// Writes journal entries on its own thread, behind a bounded queue.
///
/// `sd_journal_sendv` blocks when journald stalls, so nobody else calls it: `submit` only enqueues and never blocks.
///
/// Two kinds of entries:
/// - **Durable** entries (`submitDurable`) are already committed to the state store's outbox with a sequence number.
///   They are written strictly in that order, at least once: when the memory queue was full, or after a restart, the
///   missing ones are read back from the outbox (`backlog`). While journald does not answer they wait (on disk), and
///   the writer retries; when it answers again, one entry says how many waited and for how long.
///   `durableWrittenThrough` tells the store which outbox entries it may delete.
/// - **Plain** entries (`submit`: the daemon's own lifecycle and warnings): when the queue is full they are dropped
///   and counted; when journald is missing or does not answer they go to standard error as `<N>MESSAGE [...]` lines.
///
/// With no journal socket at all (andond run by hand on a machine without journald), durable entries go to standard
/// error too and count as written. `shutdown()` writes everything queued (durable entries that cannot be written stay
/// in the outbox for the next start), then stops.
public final class JournalWriter: JournalSink, @unchecked Sendable {
    // All mutable state is guarded by `condition`.
    private let condition = NSCondition()
    private var queue = Deque<Queued>()
    /// The highest durable sequence number written (or handed to standard error without a journal).
    private var durableWritten: Int64 = 0
    /// The highest durable sequence number submitted, in memory or not.
    private var durableSubmitted: Int64 = 0
    /// Durable entries not queued in memory because the queue was full: they are read back from the outbox.
    private var spilledTotal = 0
    private var backlogSource: (@Sendable (_ after: Int64, _ limit: Int) -> [(sequence: Int64, entry: [UInt8])])?
    /// While journald does not answer with durable entries waiting: since when, and the first sequence that waits.
    private var durableOutage: (since: Instant, firstWaiting: Int64)?
    /// How long the writer waits before trying journald again.
    var retryInterval: Duration = .milliseconds(250)
    /// Durable entries written in the last `confirmationDelay`, oldest first, and the highest one older than that.
    private var recentWrites = Deque<(sequence: Int64, at: Instant)>()
    private var confirmed: Int64 = 0

    private struct Queued {
        var entry: JournalEntry
        var sequence: Int64?
    }
    private var closed = false
    private let exit = WorkerExit()
    private var droppedTotal = 0
    private var droppedReported = 0
    private var writtenTotal = 0
    private var failedTotal = 0
    /// Entries written to standard error since the journal stopped answering; nil while it answers.
    private var outage: Int?

    public let capacity: Int
    /// Durable entries held in memory at most: the rest are on disk already and are read back from the outbox when
    /// their turn comes. A burst then costs memory for a few thousand entries, not for the whole queue (16,384
    /// entries were about 25 MB of small pieces, and the heap stayed that much larger after the burst), and plain
    /// entries always find room.
    public var durableCapacity = 2_048
    private var durableQueued = 0
    private let socketPath: String
    private let standardError: FileHandle
    private let sender: @Sendable (JournalEntry) -> Int32
    /// Times the confirmation delay and an outage's length.
    private let clock: any AndonClock
    /// Also prints each entry that reached the journal to standard error, readably (`andond` in the foreground on a
    /// terminal). Set before `start()`.
    public nonisolated(unsafe) var echo = false

    public typealias Statistics = JournalStatistics

    /// - Parameters:
    ///   - capacity: entries that may wait; more are dropped and counted.
    ///   - socketPath: journald's native socket; when absent, entries go to standard error.
    public init(
        capacity: Int = 16_384,
        socketPath: String = "/run/systemd/journal/socket",
        standardError: FileHandle = .standardError,
        clock: any AndonClock = SystemClock()
    ) {
        self.capacity = capacity
        self.socketPath = socketPath
        self.standardError = standardError
        self.sender = Self.send
        self.clock = clock
    }

    /// For tests: `send` stands in for `sd_journal_sendv` (a negative errno on failure).
    init(
        capacity: Int = 16_384,
        socketPath: String = "/run/systemd/journal/socket",
        standardError: FileHandle = .standardError,
        clock: any AndonClock = SystemClock(),
        send: @escaping @Sendable (JournalEntry) -> Int32
    ) {
        self.capacity = capacity
        self.socketPath = socketPath
        self.standardError = standardError
        self.sender = send
        self.clock = clock
    }

    /// Starts the writer thread.
    public func start() {
        let thread = Thread { [self] in self.run() }
        thread.name = "andond-journal"
        thread.start()
    }

    /// Queues an entry. Never blocks; returns false when the queue was full (the entry is counted as dropped).
    @discardableResult
    public func submit(_ entry: JournalEntry) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard !closed, queue.count < capacity else {
            droppedTotal += 1
            return false
        }
        queue.append(Queued(entry: entry, sequence: nil))
        condition.signal()
        return true
    }

    /// Where durable entries missing from memory are read back from (the store's outbox, in sequence order), and the
    /// highest sequence number already written (entries up to it are never written again). Call before submitting.
    public func durable(
        writtenThrough: Int64,
        submittedThrough: Int64,
        backlog: @escaping @Sendable (_ after: Int64, _ limit: Int) -> [(sequence: Int64, entry: [UInt8])]
    ) {
        condition.lock()
        durableWritten = writtenThrough
        confirmed = writtenThrough
        durableSubmitted = max(durableSubmitted, submittedThrough, writtenThrough)
        backlogSource = backlog
        condition.signal()
        condition.unlock()
    }

    /// Queues a committed entry with its outbox sequence number (increasing, without gaps). Never blocks; when the
    /// queue is full the entry is not lost: the writer reads it back from the outbox.
    public func submitDurable(_ entry: JournalEntry, sequence: Int64) {
        condition.lock()
        defer { condition.unlock() }
        durableSubmitted = max(durableSubmitted, sequence)
        if !closed, queue.count < capacity, durableQueued < durableCapacity {
            queue.append(Queued(entry: entry, sequence: sequence))
            durableQueued += 1
        } else {
            spilledTotal += 1
        }
        condition.signal()
    }

    /// Durable entries up to this sequence number reached journald (or standard error, without a journal) at least
    /// `confirmationDelay` ago: the outbox may delete them.
    public var durableWrittenThrough: Int64 {
        condition.lock()
        defer { condition.unlock() }
        return confirmedThrough(at: clock.now)
    }

    public var statistics: Statistics {
        condition.lock()
        defer { condition.unlock() }
        return Statistics(
            written: writtenTotal,
            dropped: droppedTotal,
            failed: failedTotal,
            queued: queue.count,
            waiting: Int(durableSubmitted - durableWritten)
        )
    }

    /// Whether a journald answers on the socket: a datagram `connect` succeeds only with a listener behind the path,
    /// so a socket file left behind by a journald that is gone counts as no journal.
    public var journalAvailable: Bool { Self.answers(at: socketPath) }

    static func answers(at path: String) -> Bool {
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { return false }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) == 0
            }
        }
    }

    /// Stops accepting entries, writes every queued one, and returns when the thread has finished.
    public func shutdown() async {
        beginClosing()
        await exit.wait()
    }

    private func beginClosing() {
        condition.lock()
        closed = true
        condition.signal()
        condition.unlock()
    }

    private func run() {
        while true {
            condition.lock()
            while queue.isEmpty && !closed && droppedReported == droppedTotal
                && !(backlogSource != nil && durableSubmitted > durableWritten)
            {
                condition.wait()
            }
            var batch: [Queued] = []
            while batch.count < 256, let entry = queue.popFirst() {
                if entry.sequence != nil { durableQueued -= 1 }
                batch.append(entry)
            }
            let dropped = droppedTotal - droppedReported
            droppedReported = droppedTotal
            // Durable entries that are not in memory (spilled, or from before a restart) come from the outbox.
            let missing = batch.isEmpty && backlogSource != nil && durableSubmitted > durableWritten
            let done = closed && queue.isEmpty && batch.isEmpty
            condition.unlock()

            if dropped > 0 { write(Self.droppedEntry(dropped)) }
            if missing, !fillGap(upTo: Int64.max) { break }
            var stopped = false
            for item in batch {
                guard let sequence = item.sequence else {
                    write(item.entry)
                    continue
                }
                var outcome = DurableWrite.rewound
                while outcome == .rewound {
                    guard fillGap(upTo: sequence - 1) else {
                        outcome = .closing
                        break
                    }
                    outcome = writeDurable(item.entry, sequence: sequence)
                }
                if outcome == .closing {
                    stopped = true
                    break
                }
            }
            if done || stopped { break }
        }
        exit.finished()
    }

    /// Writes the durable entries after the last written one up to `last` from the outbox, in order. False when the
    /// writer is shutting down with entries it could not write (they stay in the outbox).
    private func fillGap(upTo last: Int64) -> Bool {
        while true {
            condition.lock()
            let after = durableWritten
            let source = backlogSource
            condition.unlock()
            guard after < last, let source else { return true }
            let rows = source(after, 512).filter { $0.sequence <= last }
            guard !rows.isEmpty else { return true }
            rows: for row in rows where row.sequence > after {
                guard let entry = JournalEntry(serialized: row.entry) else {
                    advanceDurable(to: row.sequence)
                    continue
                }
                switch writeDurable(entry, sequence: row.sequence) {
                case .written: continue
                case .rewound: break rows  // read again from where the writer rewound to
                case .closing: return false
                }
            }
        }
    }

    private func advanceDurable(to sequence: Int64) {
        condition.lock()
        durableWritten = max(durableWritten, sequence)
        condition.unlock()
    }

    enum DurableWrite {
        case written
        /// journald stopped answering: the writer went back to the last confirmed entry; write from there again.
        case rewound
        /// Shutdown began while the entry could not be written (it stays in the outbox).
        case closing
    }

    /// How long after `sd_journal_sendv` succeeded an entry counts as confirmed. Success means journald's socket took
    /// the datagram; a journald that dies before reading it loses it (without a socket unit holding its socket). So
    /// the outbox keeps entries until they are this old, and an outage sends the unconfirmed ones again.
    static let confirmationDelay: Duration = .seconds(2)

    /// The highest durable sequence number written at least `confirmationDelay` ago (under `condition`).
    private func confirmedThrough(at now: Instant) -> Int64 {
        while let first = recentWrites.first, now.duration(since: first.at) >= Self.confirmationDelay {
            confirmed = max(confirmed, first.sequence)
            recentWrites.removeFirst()
        }
        return recentWrites.first.map { max(confirmed, $0.sequence - 1) } ?? max(confirmed, durableWritten)
    }

    /// Writes one durable entry, waiting for journald while it does not answer. When journald stops answering, the
    /// writer first goes back to the last confirmed entry (`.rewound`): the caller writes from there again.
    private func writeDurable(_ entry: JournalEntry, sequence: Int64) -> DurableWrite {
        condition.lock()
        let already = sequence <= durableWritten
        condition.unlock()
        if already { return .written }
        var warned = false
        while true {
            if access(socketPath, W_OK) != 0 {
                // No journal on this machine: standard error is the journal (as for plain entries).
                write(entry)
                advanceDurable(to: sequence)
                return .written
            }
            let result = sender(entry)
            if result >= 0 {
                if echo { writeFallback(entry.echoLine) }
                condition.lock()
                writtenTotal += 1
                durableWritten = max(durableWritten, sequence)
                recentWrites.append((sequence, clock.now))
                let outage = durableOutage
                durableOutage = nil
                let last = max(durableSubmitted, sequence)
                condition.unlock()
                if let outage { noteGap(outage, through: last) }
                return .written
            }
            condition.lock()
            var rewound = false
            if durableOutage == nil {
                let confirmedNow = confirmedThrough(at: clock.now)
                if confirmedNow < durableWritten {
                    durableWritten = confirmedNow
                    recentWrites.removeAll()
                    rewound = true
                }
                durableOutage = (clock.now, durableWritten + 1)
            }
            let closing = closed
            condition.unlock()
            if !warned {
                warned = true
                writeFallback(
                    "<4>andond: journald does not answer at \(socketPath) (\(String(cString: strerror(-result)))); "
                        + "journal entries wait in the state directory until it does"
                )
            }
            if rewound { return .rewound }
            if closing { return .closing }
            Thread.sleep(forTimeInterval: Double(retryInterval.milliseconds) / 1000)
        }
    }

    private func durableSubmitted(atLeast sequence: Int64) -> Int64 {
        condition.lock()
        defer { condition.unlock() }
        return max(durableSubmitted, sequence)
    }

    /// The one entry after an outage with durable entries waiting: how many waited, from when, for how long.
    private func noteGap(_ outage: (since: Instant, firstWaiting: Int64), through last: Int64) {
        let span = Double(clock.now.duration(since: outage.since).milliseconds) / 1000
        let count = last - outage.firstWaiting + 1
        let message =
            "andond: journald answers again after \(Int(span.rounded())) s; \(count) journal entr"
            + "\(count == 1 ? "y" : "ies") waited for it in the state directory and are written now, in order"
        var note = JournalEntry()
        note.add(.message, message)
        note.add(.priority, 4)
        note.add(.messageID, MessageID.journalGap)
        note.add(.syslogIdentifier, JournalSchema.identifier)
        note.add(.journalDelayed, count)
        note.add(.journalGap, Int64(span * 1000))
        note.add(.journalFirstDelayed, outage.firstWaiting)
        let result = sender(note)
        condition.lock()
        if result >= 0 { writtenTotal += 1 } else { failedTotal += 1 }
        condition.unlock()
    }

    private func write(_ entry: JournalEntry) {
        // A missing socket is checked first: libsystemd would report it as ENOENT too, but this names the path.
        let result = access(socketPath, W_OK) == 0 ? sender(entry) : -ENOENT
        condition.lock()
        if result >= 0 { writtenTotal += 1 } else { failedTotal += 1 }
        let previous = outage
        outage = result >= 0 ? nil : (outage ?? 0) + 1
        condition.unlock()

        if result >= 0 {
            if echo { writeFallback(entry.echoLine) }
            if let missed = previous { noteRecovery(missed: missed) }
            return
        }
        if previous == nil {
            let reason =
                result == -ENOENT
                ? "no journal socket at \(socketPath)"
                : "journald does not answer at \(socketPath) (\(String(cString: strerror(-result))))"
            writeFallback("<4>andond: \(reason); writing entries to standard error until journald answers")
        }
        writeFallback(entry.fallbackLine)
    }

    private func noteRecovery(missed: Int) {
        let message =
            "andond: journald answers again; \(missed) entr\(missed == 1 ? "y" : "ies") went to standard error meanwhile"
        writeFallback("<5>" + message)
        var entry = JournalEntry()
        entry.add(.message, message)
        entry.add(.priority, 4)
        entry.add(.messageID, MessageID.journalBack)
        entry.add(.syslogIdentifier, JournalSchema.identifier)
        entry.add(.journalMissed, missed)
        let result = sender(entry)
        condition.lock()
        if result >= 0 { writtenTotal += 1 } else { failedTotal += 1 }
        condition.unlock()
    }

    private func writeFallback(_ line: String) {
        standardError.write(Data((line + "\n").utf8))
    }

    private static func droppedEntry(_ count: Int) -> JournalEntry {
        var entry = JournalEntry()
        entry.add(
            .message,
            "andond dropped \(count) journal entr\(count == 1 ? "y" : "ies"): the journal queue was full"
        )
        entry.add(.priority, 4)
        entry.add(.messageID, MessageID.journalDropped)
        entry.add(.syslogIdentifier, JournalSchema.identifier)
        entry.add(.dropped, count)
        return entry
    }

    /// One `sd_journal_sendv` call: every iovec points into one buffer that lives for the call.
    static func send(_ entry: JournalEntry) -> Int32 {
        var bytes: [UInt8] = []
        var ranges: [Range<Int>] = []
        for field in entry.fields {
            let start = bytes.count
            bytes.append(contentsOf: field.name.utf8)
            bytes.append(UInt8(ascii: "="))
            bytes.append(contentsOf: field.value.utf8)
            ranges.append(start..<bytes.count)
        }
        return bytes.withUnsafeMutableBytes { buffer -> Int32 in
            var vectors = ranges.map { range in
                iovec(iov_base: buffer.baseAddress.map { $0 + range.lowerBound }, iov_len: range.count)
            }
            return vectors.withUnsafeMutableBufferPointer { sd_journal_sendv($0.baseAddress, Int32($0.count)) }
        }
    }
}
