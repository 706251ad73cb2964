import AndonConfig
import AndonCore
import AndonProtocol
import AndonStore
import AndonSystemd
import Synchronization

/// Reads the configuration file again (`andonctl reload`, SIGHUP). A valid one is swapped in atomically (open calls
/// keep their state) and logged with what changed; an invalid one is refused with every positioned error, and the
/// configuration in use stays. The verdict's reply comes once the swap is on disk.
struct ReloadService: Sendable {
    let admission: AdmissionStage
    let escalation: EscalationService
    let journal: any JournalSink
    let clock: any AndonClock
    let coverage: CoverageCheck
    /// Where andond listens; a reload cannot change it.
    let listenAtStart: ListenSettings
    /// The status line after a reload (nil in tests).
    let board: StatusBoard?
    var notifier = Notifier()

    func reload(trigger: String, reply: @escaping @Sendable (Reply) -> Void = { _ in }) {
        notifier.reloading(status: "Reloading the configuration")
        let path = admission.configuration.file
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
            ready()
            reply(
                .error(
                    WireError(
                        .invalidConfiguration,
                        "\(errors.count) error\(errors.count == 1 ? "" : "s") in \(path); the configuration in use is unchanged",
                        details: lines
                    )
                )
            )
            coverage.check(escalation.engine.plant)  // the configuration in use may have come closer to a gap
            return
        }
        let pending = PendingReply()
        switch escalation.reconfigure(loaded, done: { pending.send() }) {
        case .failure(let refusal):
            journal.submit(
                .daemon(
                    "configuration reload refused (\(trigger)): \(refusal.reason); the configuration in use is unchanged",
                    priority: .error,
                    id: MessageID.reloadRejected,
                    fields: [(.configuration, path)]
                )
            )
            ready()
            reply(.error(WireError(.invalidConfiguration, "\(refusal.reason); the configuration in use is unchanged")))
        case .success(let old):
            admission.reconfigure(loaded)
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
            let done = entry
            pending.set { [journal] in
                journal.submit(done)
                ready()
                reply(answer)
            }
            board?.poke()  // the KPO on duty may be someone else now
            coverage.check(loaded.plant)
        }
    }

    private func ready() {
        notifier.notify("READY=1\nSTATUS=\(board?.publish().line ?? "Running")")
    }
}

/// A reply that waits for two things, in either order: the commit of the swap, and the reply being known.
private final class PendingReply: Sendable {
    private let state = Mutex<(committed: Bool, send: (@Sendable () -> Void)?)>((false, nil))

    func send() {
        let action = state.withLock { state -> (@Sendable () -> Void)? in
            state.committed = true
            return state.send
        }
        action?()
    }

    func set(_ action: @escaping @Sendable () -> Void) {
        let now = state.withLock { state -> Bool in
            state.send = action
            return state.committed
        }
        if now { action() }
    }
}
