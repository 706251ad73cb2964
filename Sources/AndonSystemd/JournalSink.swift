/// Where andond's stages hand their journal entries: the `JournalWriter` in the daemon, a recording sink in tests and
/// in the simulation. Its methods never block the caller.
public protocol JournalSink: AnyObject, Sendable {
    /// A plain entry (the daemon's own lifecycle and warnings): written when possible, dropped and counted when the
    /// queue is full. Returns false when it was dropped.
    @discardableResult
    func submit(_ entry: JournalEntry) -> Bool
    /// An entry already committed to the outbox as `sequence` (increasing, without gaps): written at least once, in
    /// order, read back from the outbox when it is not in memory.
    func submitDurable(_ entry: JournalEntry, sequence: Int64)
    /// Where durable entries missing from memory are read back from (the outbox, in sequence order), and the highest
    /// sequence number already written. Call before submitting.
    func durable(
        writtenThrough: Int64,
        submittedThrough: Int64,
        backlog: @escaping @Sendable (_ after: Int64, _ limit: Int) -> [(sequence: Int64, entry: [UInt8])]
    )
    /// Durable entries up to this sequence number are confirmed written: the outbox may delete them.
    var durableWrittenThrough: Int64 { get }
    var statistics: JournalStatistics { get }
}

/// What a journal sink has done since andond started (`status --json` counters).
public struct JournalStatistics: Sendable, Hashable {
    public var written: Int
    public var dropped: Int
    public var failed: Int
    public var queued: Int
    /// Durable entries committed but not yet written (waiting in memory or in the outbox).
    public var waiting: Int = 0

    public init(written: Int, dropped: Int, failed: Int, queued: Int, waiting: Int = 0) {
        self.written = written
        self.dropped = dropped
        self.failed = failed
        self.queued = queued
        self.waiting = waiting
    }
}
