import AndonProtocol
import AndonSystemd
import Synchronization

/// A journal that records what andond's stages hand it, in order, for in-process tests and the simulation. While it
/// is `available`, a durable entry counts as written at once (and missing ones are read back from the outbox, as the
/// real writer does after a restart); while it is not (a journald outage), durable entries wait in the outbox and
/// plain ones go to standard error (recorded as such), as with the real writer.
public final class RecordingJournalSink: JournalSink, Sendable {
    public struct Written: Sendable {
        public var entry: JournalEntry
        /// The outbox number, for a durable entry.
        public var sequence: Int64?
        /// A plain entry written while journald was away: the real writer sends it to standard error.
        public var toStandardError = false
    }

    private struct State: Sendable {
        var written: [Written] = []
        var available = true
        var writtenThrough: Int64 = 0
        var submittedThrough: Int64 = 0
        var backlog: (@Sendable (Int64, Int) -> [(sequence: Int64, entry: [UInt8])])?
        var plainLost = 0
    }

    private let state = Mutex(State())

    public init() {}

    /// Everything written so far, in the order written.
    public var written: [Written] { state.withLock { $0.written } }
    public var writtenCount: Int { state.withLock { $0.written.count } }

    /// The entries written from index `start` on.
    public func written(from start: Int) -> ArraySlice<Written> {
        state.withLock { Array($0.written[min(start, $0.written.count)...])[...] }
    }

    /// Starts or ends a journald outage; at its end, what waited is read back from the outbox in order.
    public func setAvailable(_ available: Bool) {
        state.withLock { $0.available = available }
        if available { fill(through: .max) }
    }

    @discardableResult
    public func submit(_ entry: JournalEntry) -> Bool {
        state.withLock { state in
            state.written.append(Written(entry: entry, sequence: nil, toStandardError: !state.available))
            if !state.available { state.plainLost += 1 }
        }
        return true
    }

    public func submitDurable(_ entry: JournalEntry, sequence: Int64) {
        let write = state.withLock { state -> Bool in
            state.submittedThrough = max(state.submittedThrough, sequence)
            return state.available && sequence > state.writtenThrough
        }
        guard write else { return }
        fill(through: sequence - 1)
        state.withLock { state in
            guard sequence == state.writtenThrough + 1 else { return }
            state.written.append(Written(entry: entry, sequence: sequence))
            state.writtenThrough = sequence
        }
    }

    public func durable(
        writtenThrough: Int64,
        submittedThrough: Int64,
        backlog: @escaping @Sendable (Int64, Int) -> [(sequence: Int64, entry: [UInt8])]
    ) {
        state.withLock { state in
            // A restart: what this journal holds is what the outbox says was written (the rest comes again).
            state.writtenThrough = writtenThrough
            state.submittedThrough = max(submittedThrough, writtenThrough)
            state.backlog = backlog
        }
        fill(through: .max)
    }

    public var durableWrittenThrough: Int64 { state.withLock { $0.writtenThrough } }

    public var statistics: JournalStatistics {
        state.withLock { state in
            JournalStatistics(
                written: state.written.count,
                dropped: 0,
                failed: state.plainLost,
                queued: 0,
                waiting: Int(state.submittedThrough - state.writtenThrough)
            )
        }
    }

    /// Reads durable entries after the last written one, through `last`, back from the outbox (while available).
    private func fill(through last: Int64) {
        while true {
            let (after, source, available) = state.withLock { ($0.writtenThrough, $0.backlog, $0.available) }
            guard available, after < last, let source else { return }
            let rows = source(after, 512).filter { $0.sequence > after && $0.sequence <= last }
            guard let first = rows.first, first.sequence == after + 1 else { return }
            state.withLock { state in
                for row in rows where row.sequence == state.writtenThrough + 1 {
                    guard let entry = JournalEntry(serialized: row.entry) else { continue }
                    state.written.append(Written(entry: entry, sequence: row.sequence))
                    state.writtenThrough = row.sequence
                }
            }
        }
    }
}
