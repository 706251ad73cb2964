import AndonConfig
import AndonCore
import AndonProtocol
import AndonStore
import AndonSystemd
import Foundation
import Synchronization

extension Dispatcher {
    func reload(from peer: Peer, reply: @escaping @Sendable (Reply) -> Void) {
        guard case .unix(let credentials, _, _) = peer, credentials.uid == 0 || credentials.uid == ownUID else {
            reply(.error(WireError(.notAuthorized, "only root and andond's own user may reload the configuration")))
            return
        }
        reload(trigger: "andonctl reload by \(peer.source)", reply: reply)
    }

    /// Reads the configuration file again. A valid one is swapped in atomically (open incidents keep their state) and
    /// logged with its text; an invalid one is refused with every positioned error, and the running configuration
    /// stays. `reply` gets the verdict once the swap is on disk.
    public func reload(trigger: String, reply: @escaping @Sendable (Reply) -> Void = { _ in }) {
        let notifier = Notifier()
        notifier.notify("RELOADING=1\nMONOTONIC_USEC=\(monotonicMicroseconds())\nSTATUS=Reloading the configuration")
        let path = configuration.file
        var loaded: Configuration
        do {
            loaded = try ConfigurationLoader.load(path: path, now: clock.now)
            try loaded.loadKeys()
        } catch {
            let errors = error.errors
            let lines = error.diagnostics.map(\.description)
            var entry = JournalEntry.daemon(
                "configuration reload refused (\(trigger)): \(errors.count) error\(errors.count == 1 ? "" : "s") in \(path); "
                    + "the configuration in use is unchanged. First: \(errors.first?.description ?? "?")",
                priority: .error,
                id: MessageID.reloadRejected,
                fields: [(.configuration, path)]
            )
            for line in lines { entry.add(.configurationError, line) }
            journal.submit(entry)
            notifier.notify("READY=1\nSTATUS=\(publishStatus().line)")
            reply(
                .error(
                    WireError(
                        .invalidConfiguration,
                        "\(errors.count) error\(errors.count == 1 ? "" : "s") in \(path); the configuration in use is unchanged",
                        details: lines
                    )
                )
            )
            checkCoverage()  // the configuration in use, which may have come closer to a gap since it was loaded
            return
        }
        let refusal: String? = state.withLock { state in
            if let refusal = state.engine.reconfigureRefusal(for: loaded.plant) { return refusal }
            let old = state.engine.plant
            let now = clock.now
            let events = EngineInput.configuration(loaded).apply(to: &state.engine, at: now).events
            state.senders.rotate(from: state.configuration, to: loaded, at: now)
            state.configuration = loaded
            let changes = loaded.plant.changes(from: old)
            var notes = changes
            if loaded.listen != listenAtStart {
                notes.append("listen: changes apply at the next restart")
            }
            var entry = JournalEntry.daemon(
                "configuration reloaded (\(trigger)): "
                    + (changes.isEmpty
                        ? "no changes"
                        : "\(changes.count) change\(changes.count == 1 ? "" : "s"): " + changes.joined(separator: "; ")),
                priority: .notice,
                id: MessageID.reloaded,
                fields: [(.configuration, path)]
            )
            for change in notes { entry.add(.change, change) }
            for warning in loaded.warnings { entry.add(.configurationWarning, warning.description) }
            let answer = Reply.ok([
                "changes": String(changes.count), "warnings": String(loaded.warnings.count),
                "details": notes.isEmpty ? nil : Reply.encodeLines(notes + loaded.warnings.map(\.description)),
            ])
            let journal = journal
            let done = entry
            record(.configuration(loaded), at: now, events: events, in: &state) { [self] in
                journal.submit(done)
                notifier.notify("READY=1\nSTATUS=\(publishStatus().line)")
                reply(answer)
            }
            statusChanged.yield()  // the KPO on duty may be someone else now
            return nil
        }
        if let refusal {
            journal.submit(
                .daemon(
                    "configuration reload refused (\(trigger)): \(refusal); the configuration in use is unchanged",
                    priority: .error,
                    id: MessageID.reloadRejected,
                    fields: [(.configuration, path)]
                )
            )
            notifier.notify("READY=1\nSTATUS=\(publishStatus().line)")
            reply(.error(WireError(.invalidConfiguration, "\(refusal); the configuration in use is unchanged")))
            return
        }
        checkCoverage()
    }
}

func monotonicMicroseconds() -> UInt64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec) / 1000
}
