import AndonConfig
import AndonCore
import AndonProtocol
import AndonStore
import AndonSystemd
import Foundation

/// andond's stages over one state directory, restored and caught up, before any socket is bound: what the daemon
/// runs, and what the tests and the simulation drive in-process on a manual clock (no sockets, no threads but the
/// caller's: the commit thread is started by the daemon, `Committer.step()` commits otherwise).
package struct Stages {
    package let store: StateStore
    package let committer: Committer
    package let escalation: EscalationService
    let admission: AdmissionStage
    package let signals: SignalPath
    package let board: StatusBoard
    package let coverage: CoverageCheck
    package let notifications: DeliveryService
    /// The web face's counters and live events, fed by the commit stage.
    package let metrics: DaemonMetrics
    package let live: LiveEvents
    /// What the restore found (the restored state itself is not kept: the engine has it, and its snapshot's bytes
    /// and replayed inputs would stay in memory for andond's life).
    package let restored: RestoreSummary

    /// How a run opens its state (the daemon's defaults; the simulation changes what it needs).
    package struct Options {
        package var maxWaitingInputs = 10_000
        /// Encodes snapshots on the appending thread instead of in the background (deterministic, for tests).
        package var inlineSnapshots = false
        /// What commits go through (the store itself, or a wrapper that fails on demand).
        package var commitStore: (StateStore) -> any CommitStore = { $0 }
        package var notifier = Notifier()

        package init() {}
    }

    /// Locks and opens the state directory, restores the engine from it (a database that cannot be read is moved
    /// aside, loudly), catches up on what fell due while andond was down, and makes the first commit of this run.
    package static func open(
        in directory: String,
        configuration: Configuration,
        clock: any AndonClock,
        journal: any JournalSink,
        timer: any DeadlineTimer,
        options: Options = Options()
    ) -> Result<Stages, StoreError> {
        do {
            let store = try StateStore(directory: directory, clock: clock)
            var stateNote: String?
            func movedAside(_ aside: String, _ reason: String) {
                stateNote = "STATE MOVED ASIDE: \(aside)"
                journal.submit(
                    .daemon(
                        "the state database \(store.path) cannot be read (\(reason)); it was moved aside to \(aside) "
                            + "and andond starts with no open calls. The calls it held are in the journal; keep the "
                            + "file for a post-mortem",
                        priority: .critical,
                        id: MessageID.stateMovedAside,
                        fields: [(.state, store.path), (.stateAside, aside)]
                    )
                )
            }
            if let aside = store.movedAside { movedAside(aside.path, aside.reason) }
            let legacy = StateStore.legacyNextIncident(in: directory)
            func load() throws(StoreError) -> Restored {
                try Restored.load(
                    from: store,
                    configuration: configuration,
                    clock: clock,
                    notifier: options.notifier,
                    legacyNextIncident: legacy
                )
            }
            let restored: Restored
            do {
                restored = try load()
            } catch let error where error.code == .corrupt {
                movedAside(try store.moveAside(reason: error.message), error.message)
                restored = try load()
            }
            // Entries committed before and not yet confirmed written come back from the outbox, in order.
            let firstWaiting = (try? store.outbox(after: 0, limit: 1).first?.sequence) ?? nil
            let last = restored.lastConfiguration ?? (configuration.file, configuration.text)
            let committer = Committer(
                store: options.commitStore(store),
                journal: journal,
                clock: clock,
                storeID: restored.loaded.storeID,
                configuration: last,
                nextInput: restored.loaded.lastInputSequence + 1,
                nextEvent: restored.loaded.nextEventSequence,
                outboxFrom: firstWaiting ?? restored.loaded.nextEventSequence,
                unsnapshotted: restored.replayed,
                snapshotBytes: restored.loaded.snapshot?.state.count ?? 0
            )
            committer.waitingLimit = options.maxWaitingInputs
            committer.inlineSnapshots = options.inlineSnapshots
            journal.durable(
                writtenThrough: (firstWaiting ?? restored.loaded.nextEventSequence) - 1,
                submittedThrough: restored.loaded.nextEventSequence - 1
            ) { [weak store] after, limit in
                (try? store?.outbox(after: after, limit: limit).map { ($0.sequence, Array($0.entry)) }) ?? []
            }
            let escalation = EscalationService(
                engine: restored.engine,
                window: restored.window,
                clock: clock,
                commit: committer,
                timer: timer
            )
            let (deliveries, nextDelivery) = try store.loadDeliveries()
            let notifications = DeliveryService(
                clock: clock,
                journal: journal,
                restored: deliveries,
                usedTokens: try store.usedAckTokens()
            )
            committer.nextDelivery = nextDelivery
            committer.notifications = notifications
            let admission = AdmissionStage(
                configuration: restored.configuration,
                senders: SenderChecks(seen: restored.seenSignatures),
                clock: clock,
                journal: journal,
                ownUID: getuid()
            )
            notifications.attach(writer: committer) { [weak admission] in
                guard let configuration = admission?.configuration, let key = configuration.ackKey else { return nil }
                return (key.bytes, configuration.notify.ackValidFor)
            } escalate: { [weak escalation] incident, reason in
                // Only a call still waiting for someone: one taken meanwhile has been reached after all.
                guard let escalation, escalation.engine.incident(incident)?.isAcknowledged == false else { return }
                _ = escalation.act(
                    .escalate(incident, reason: reason),
                    on: incident,
                    by: .administrator(user: "andond"),
                    message: Request.escalate(incident, reason: reason).message.rendered,
                    deliver: { _ in }
                )
            }
            let board = StatusBoard(
                escalation: escalation,
                committer: committer,
                clock: clock,
                restored: restored.openAtStart,
                stateNote: stateNote
            )
            committer.published = { [weak board] in board?.poke() }
            let coverage = CoverageCheck(clock: clock, journal: journal, board: board)
            let reload = ReloadService(
                admission: admission,
                escalation: escalation,
                journal: journal,
                clock: clock,
                coverage: coverage,
                listenAtStart: restored.configuration.listen,
                board: board,
                notifier: options.notifier
            )
            let metrics = DaemonMetrics(plant: restored.configuration.plant)
            notifications.attach(metrics: metrics)
            let peerErrors = PeerErrors(clock: clock, journal: journal)
            let feedbackErrors = PeerErrors(
                clock: clock,
                journal: journal,
                subject: "could not send a line's state to",
                messageID: MessageID.feedbackFailed
            )
            let feedback = FeedbackService(clock: clock, errors: feedbackErrors) { [admission] in
                admission.configuration
            }
            feedback.restored(restored.engine)
            committer.committedStates = { [weak feedback] states in feedback?.committed(states) }
            let signals = SignalPath(
                admission: admission,
                escalation: escalation,
                committer: committer,
                reload: reload,
                peerErrors: peerErrors,
                notifications: notifications,
                metrics: metrics,
                feedback: feedback,
                restored: restored.openAtStart
            )
            // Live events start after what the restore committed: a board whose last event is the last before this
            // start missed nothing; the catch-up's steps come as a reset (the board reloads).
            let live = LiveEvents(storeID: restored.loaded.storeID, next: committer.nextEventNumber, clock: clock) {
                [weak signals] id in signals?.callReport(id)
            }
            notifications.onFailedForGood { [weak live] incident in live?.changed(incident, event: "notify-failed") }
            committer.committedEntries = { [weak live] kept, unkept, took in
                metrics.commit(took: took)
                metrics.committed(kept.lazy.map(\.entry))
                metrics.committed(unkept)
                live?.committed(kept)
            }
            let stages = Stages(
                store: store,
                committer: committer,
                escalation: escalation,
                admission: admission,
                signals: signals,
                board: board,
                coverage: coverage,
                notifications: notifications,
                metrics: metrics,
                live: live,
                restored: RestoreSummary(openAtStart: restored.openAtStart, stoppedCleanly: restored.stoppedCleanly)
            )
            catchUp(restored, escalation: escalation, journal: journal, clock: clock)
            try committer.commitNow(stoppedCleanly: false)
            return .success(stages)
        } catch {
            return .failure(error)
        }
    }

    /// Swaps in the configuration andond starts with when it differs from the one it ran under, fires every deadline
    /// that passed while it was down (in order; each entry says how late it is), and writes the one entry that says
    /// what was restored. Before the first commit.
    private static func catchUp(
        _ restored: Restored,
        escalation: EscalationService,
        journal: any JournalSink,
        clock: any AndonClock
    ) {
        let current = restored.configuration
        let changed = restored.lastConfiguration.map { $0.file != current.file || $0.text != current.text } ?? true
        let (late, engine) = escalation.catchUp(
            configuration: changed ? current : nil,
            fresh: restored.fresh,
            snapshot: restored.replayed >= SnapshotPolicy.afterRestore
        )
        guard !restored.fresh else { return }
        let now = clock.now
        let open = restored.openAtStart
        let summary = engine.openSummary
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

/// What a restore found, for the start's checks (and the simulation's).
package struct RestoreSummary: Sendable {
    package var openAtStart: Int
    package var stoppedCleanly: Bool
}
