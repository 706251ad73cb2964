import AndonConfig
import AndonCore
import AndonProtocol
import AndonStore
import AndonSystemd
import Foundation
import Synchronization

extension Dispatcher {
    /// After a restore: swaps in the configuration andond starts with when it differs from the one it ran under,
    /// fires every deadline that passed while it was down (in order; each entry says how late it is), and writes
    /// the one entry that says what was restored. Call before the first commit.
    func begin(_ restored: Restored, stateNote: String?) {
        state.withLock { state in
            let now = clock.now
            let current = restored.configuration
            if restored.lastConfiguration.map({ $0.file != current.file || $0.text != current.text }) ?? true {
                // A fresh engine was made from this configuration at `now`, as replaying this input will make it.
                let events =
                    restored.fresh ? [] : EngineInput.configuration(current).apply(to: &state.engine, at: now).events
                record(.configuration(current), at: now, events: events, in: &state, deliver: nil)
            }
            let late = EngineInput.tick.apply(to: &state.engine, at: now).events
            record(.tick, at: now, events: late, in: &state, deliver: nil)
            state.stateNote = stateNote
            // After a long replay, a snapshot right away: the next start replays only what comes after it.
            if restored.replayed >= SnapshotPolicy.afterRestore,
                committer.append(.tick, at: now, entries: [], deliver: nil)
            {
                committer.attachSnapshot(
                    engine: state.engine,
                    window: state.window,
                    configuration: state.configuration,
                    at: now
                )
            }
            guard !restored.fresh else { return }
            let engineNow = state.engine
            let open = restored.openAtStart
            let summary = engineNow.openSummary
            let (stops, acknowledged) = (summary.stops, summary.acknowledged)
            let down = restored.aliveAt.map { now.duration(since: $0) }
            var message =
                "restored \(open) open call\(open == 1 ? "" : "s") (\(stops) line stop\(stops == 1 ? "" : "s"), "
                + "\(acknowledged) acknowledged) from the state directory"
            if let down {
                message += "; andond was down for about \(down.roundedDescription)"
            }
            message +=
                restored.stoppedCleanly
                ? " after a clean stop"
                : " after it ended without stopping cleanly (a crash, a kill or the watchdog)"
            if !late.isEmpty {
                message += "; \(late.count) step\(late.count == 1 ? "" : "s") fell due meanwhile and happen now"
            }
            if !restored.skipped.isEmpty {
                message +=
                    "; \(restored.skipped.count) recorded input(s) could not be replayed: "
                    + restored.skipped.prefix(3).joined(separator: "; ")
            }
            journal.submit(
                .daemon(
                    message,
                    priority: restored.skipped.isEmpty ? .notice : .error,
                    id: MessageID.restored,
                    fields: [
                        (.restored, String(open)),
                        (.down, down.map { String($0.milliseconds) } ?? ""),
                        (.cleanStop, restored.stoppedCleanly ? "1" : "0"),
                        (.replayed, String(restored.replayed)),
                        (.lateEvents, String(late.count)),
                    ].filter { !$0.1.isEmpty }
                )
            )
        }
    }
}
