import CSystemd
import DequeModule
import Foundation

/// Writes journal entries on its own thread, behind a bounded queue.
///
/// `sd_journal_sendv` blocks when journald stalls, so nobody else calls it: `submit` only enqueues and never blocks.
/// When the queue is full the entry is dropped and counted, and the writer logs how many were dropped as soon as it
/// can. When there is no journal socket, or journald does not answer on it, entries go to standard error as
/// `<N>MESSAGE [...]` lines: one warning when the outage starts, one note (also to the journal) when journald answers
/// again, saying how many entries went to standard error meanwhile. `shutdown()` writes everything queued, then stops.
public final class JournalWriter: @unchecked Sendable {
    // All mutable state is guarded by `condition`.
    private let condition = NSCondition()
    private var queue = Deque<JournalEntry>()
    private var closed = false
    private var finished = false
    private var droppedTotal = 0
    private var droppedReported = 0
    private var writtenTotal = 0
    private var failedTotal = 0
    /// Entries written to standard error since the journal stopped answering; nil while it answers.
    private var outage: Int?
    private var exitWaiters: [CheckedContinuation<Void, Never>] = []

    /// MESSAGE_ID of the writer's own entries: entries were dropped because the queue was full.
    public static let droppedMessageID = "b1c71e9a669d426eabe6438ac7996121"
    /// MESSAGE_ID of the writer's own entries: journald answers again after entries went to standard error.
    public static let journalBackMessageID = "0b36e554c38245389c479dc14c60dd1e"

    public let capacity: Int
    private let socketPath: String
    private let standardError: FileHandle
    private let sender: @Sendable (JournalEntry) -> Int32

    public struct Statistics: Sendable, Hashable {
        public var written: Int
        public var dropped: Int
        public var failed: Int
        public var queued: Int
    }

    /// - Parameters:
    ///   - capacity: entries that may wait; more are dropped and counted.
    ///   - socketPath: journald's native socket; when absent, entries go to standard error.
    public init(
        capacity: Int = 16_384,
        socketPath: String = "/run/systemd/journal/socket",
        standardError: FileHandle = .standardError
    ) {
        self.capacity = capacity
        self.socketPath = socketPath
        self.standardError = standardError
        self.sender = Self.send
    }

    /// For tests: `send` stands in for `sd_journal_sendv` (a negative errno on failure).
    init(
        capacity: Int = 16_384,
        socketPath: String = "/run/systemd/journal/socket",
        standardError: FileHandle = .standardError,
        send: @escaping @Sendable (JournalEntry) -> Int32
    ) {
        self.capacity = capacity
        self.socketPath = socketPath
        self.standardError = standardError
        self.sender = send
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
        queue.append(entry)
        condition.signal()
        return true
    }

    public var statistics: Statistics {
        condition.lock()
        defer { condition.unlock() }
        return Statistics(written: writtenTotal, dropped: droppedTotal, failed: failedTotal, queued: queue.count)
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
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            condition.lock()
            closed = true
            if finished {
                condition.unlock()
                continuation.resume()
                return
            }
            exitWaiters.append(continuation)
            condition.signal()
            condition.unlock()
        }
    }

    private func run() {
        while true {
            condition.lock()
            while queue.isEmpty && !closed && droppedReported == droppedTotal { condition.wait() }
            var batch: [JournalEntry] = []
            while batch.count < 256, let entry = queue.popFirst() { batch.append(entry) }
            let dropped = droppedTotal - droppedReported
            droppedReported = droppedTotal
            let done = closed && queue.isEmpty && batch.isEmpty
            condition.unlock()

            if dropped > 0 { batch.append(Self.droppedEntry(dropped)) }
            for entry in batch { write(entry) }
            if done { break }
        }
        condition.lock()
        finished = true
        let waiters = exitWaiters
        exitWaiters = []
        condition.unlock()
        for waiter in waiters { waiter.resume() }
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
        entry.add("MESSAGE", message)
        entry.add("PRIORITY", 4)
        entry.add("MESSAGE_ID", Self.journalBackMessageID)
        entry.add("SYSLOG_IDENTIFIER", "andond")
        entry.add("ANDON_JOURNAL_MISSED", missed)
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
            "MESSAGE",
            "andond dropped \(count) journal entr\(count == 1 ? "y" : "ies"): the journal queue was full"
        )
        entry.add("PRIORITY", 4)
        entry.add("MESSAGE_ID", Self.droppedMessageID)
        entry.add("SYSLOG_IDENTIFIER", "andond")
        entry.add("ANDON_DROPPED", count)
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
