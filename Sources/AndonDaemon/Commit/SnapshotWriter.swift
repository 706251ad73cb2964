import AndonConfig
import AndonCore
import AndonStore
import Foundation

/// Snapshots on their way to disk: encoded off the escalation lock and off the commit thread (on its own queue),
/// then written with later batches, which commit after the inputs the snapshot covers: in parts of
/// `SnapshotPart.size`, one per batch, so that no commit carries megabytes while replies wait for it. One at a time:
/// a snapshot asked for while one is encoding or being written waits for the next turn (`SnapshotPolicy.wanted`).
/// Its state is guarded by the committer's lock.
struct SnapshotWriter: Sendable {
    /// An encoded snapshot: whole (`row.state`), or its row and the state in parts, the next part to write.
    private var writing: (row: StoredSnapshot, state: [UInt8], parts: [Range<Int>], next: Int)?
    private(set) var encoding = false
    private(set) var ready: StoredSnapshot?

    /// Whether a snapshot is on its way (encoding, or parts left to write).
    var busy: Bool { encoding || writing != nil }
    var hasParts: Bool { writing != nil }

    /// Starts an encoding when none is on its way; false when one is (the caller asks again later).
    mutating func begin() -> Bool {
        guard !busy else { return false }
        encoding = true
        return true
    }

    /// Encodes the state after input `covered` (call off every lock): what `finished` takes.
    static func encode(
        engine: EscalationEngine,
        window: SequenceWindow,
        configuration: (file: String, text: String),
        covered: Int64,
        at instant: Instant
    ) -> (row: StoredSnapshot, state: [UInt8]) {
        let state = DurableState.encode(engine: engine, window: window)
        let row = StoredSnapshot(
            inputSequence: covered,
            at: instant.millisecondsSinceEpoch,
            configuration: configuration.text,
            configurationFile: configuration.file,
            state: state.count > SnapshotPart.size ? Data() : Data(state)
        )
        return (row, state)
    }

    /// The encoding is done: a small snapshot joins the next batch whole, a large one in parts.
    mutating func finished(_ encoded: (row: StoredSnapshot, state: [UInt8])) {
        encoding = false
        let size = encoded.state.count
        if size > SnapshotPart.size {
            let parts = stride(from: 0, to: size, by: SnapshotPart.size).map { $0..<min(size, $0 + SnapshotPart.size) }
            writing = (encoded.row, encoded.state, parts, 0)
        } else {
            ready = encoded.row
        }
    }

    /// Moves what is ready into a batch: a whole snapshot, or the next part of a large one (every part, at a clean
    /// stop); with the last part goes the snapshot's row.
    mutating func take(into batch: inout CommitBatch, all: Bool) {
        if let ready {
            batch.snapshot = ready
            self.ready = nil
        }
        guard var current = writing else { return }
        repeat {
            batch.snapshotParts.append(
                SnapshotPart(
                    inputSequence: current.row.inputSequence,
                    index: current.next,
                    bytes: Data(current.state[current.parts[current.next]])
                )
            )
            current.next += 1
        } while all && current.next < current.parts.count
        if current.next == current.parts.count {
            batch.snapshot = current.row
            batch.snapshotPartCount = current.parts.count
            writing = nil
        } else {
            writing = current
        }
    }
}
