import AndonStore

/// When a snapshot is due. A value that sees each logged input's size and the time it was logged (in seconds, from
/// any clock), and nothing else: the committer asks it under its lock; tests drive it with exact times.
///
/// A snapshot costs what the state weighs, so one is due when the log after the latest holds half that (at least
/// `minimumLogBytes`) and `minimumGap` has passed since it: what snapshots write stays proportional to what changed,
/// and a burst does not write one after another. Also after `every` inputs (a restore replays at most that many),
/// once `interval` has passed with at least one input (the day's anchor, for `andonctl replay`), and when asked
/// (`wanted`: a clean stop, a restore that replayed many inputs). With no input, none is ever due.
struct SnapshotPolicy: Sendable {
    var every = 100_000
    var minimumLogBytes = 64 << 10
    var minimumGap: Double = 60
    var interval: Double = 86_400
    /// The latest snapshot's size, as encoded.
    var snapshotBytes: Int
    var wanted: Bool
    private(set) var inputs: Int
    private(set) var logBytes = 0
    private var last: Double

    /// What an input row costs beside its text: its sequence, instant, kind and the index entry (measured: about
    /// 100 bytes a row with a short signal).
    static let rowOverhead = 40
    /// A restore that replayed at least this many inputs is followed by a snapshot, so the next one is quick.
    static let afterRestore = 1_000

    /// - Parameters: `unsnapshotted`, the inputs in the log after the latest snapshot (a restore replayed them);
    ///   `snapshotBytes`, that snapshot's size; `now`, when the count starts.
    init(unsnapshotted: Int = 0, snapshotBytes: Int = 0, now: Double) {
        inputs = unsnapshotted
        self.snapshotBytes = snapshotBytes
        wanted = unsnapshotted >= Self.afterRestore
        last = now
    }

    /// One input logged at `now`: whether a snapshot should follow it (then the counts start again).
    mutating func logged(_ input: StoredInput, at now: Double) -> Bool {
        inputs += 1
        logBytes += input.source.utf8.count + input.body.utf8.count + Self.rowOverhead
        let since = now - last
        guard
            wanted || inputs >= every
                || logBytes >= max(minimumLogBytes, snapshotBytes / 2) && since >= minimumGap
                || since >= interval
        else { return false }
        wanted = false
        inputs = 0
        logBytes = 0
        last = now
        return true
    }
}
