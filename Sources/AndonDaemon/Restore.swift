import AndonConfig
import AndonCore
import AndonProtocol
import AndonStore
import AndonSystemd
import Foundation

/// The engine as the state directory left it: the latest snapshot, then every input after it replayed through
/// `EngineInput.apply` (their events were journaled when they happened, or wait in the outbox).
struct Restored {
    var engine: EscalationEngine
    /// The configuration the engine ran under when andond last stopped (nil at the very first start).
    var lastConfiguration: (file: String, text: String)?
    var configuration: Configuration
    var window: SequenceWindow
    var openAtStart: Int
    var replayed: Int
    var skipped: [String]
    var aliveAt: Instant?
    var stoppedCleanly: Bool
    var fresh: Bool
    var loaded: StoredState
    /// Signatures of signed messages taken within the window before the restart.
    var seenSignatures = ReplayCache()

    /// Loads and replays; `configuration` is the one andond starts with (used when the log has none).
    static func load(
        from store: StateStore,
        configuration: Configuration,
        now: Instant,
        notifier: Notifier,
        legacyNextIncident: UInt64
    ) throws(StoreError) -> Restored {
        let loaded = try store.load()
        var engine: EscalationEngine?
        var window = SequenceWindow()
        var last: (file: String, text: String)?
        var skipped: [String] = []
        if let snapshot = loaded.snapshot {
            if snapshot.state.count > 8 << 20 {
                // A large snapshot: tell systemd that starting may take longer than usual.
                notifier.notify(
                    "EXTEND_TIMEOUT_USEC=30000000\nSTATUS=Restoring \(snapshot.state.count >> 20) MB of state"
                )
            }
            let at = Instant(millisecondsSinceEpoch: snapshot.at)
            let plant: Plant
            if let recorded = try? ConfigurationLoader.parse(
                snapshot.configuration,
                file: snapshot.configurationFile,
                now: at,
                kpoGaps: .leaveToCaller
            ) {
                plant = recorded.plant
            } else {
                plant = configuration.plant
                skipped.append("the snapshot's configuration no longer loads; its calls follow the current one")
            }
            do {
                (engine, window) = try DurableState.decode(snapshot.state, plant: plant)
            } catch {
                throw StoreError(
                    .corrupt,
                    "the snapshot after input \(snapshot.inputSequence) cannot be read: \(error)"
                )
            }
            last = (snapshot.configurationFile, snapshot.configuration)
        }
        var lastExtension = Date()
        for stored in loaded.inputs {
            if Date().timeIntervalSince(lastExtension) > 1 {
                // A long restore: tell systemd we are still starting.
                notifier.notify("EXTEND_TIMEOUT_USEC=10000000\nSTATUS=Restoring: input \(stored.sequence)")
                lastExtension = Date()
            }
            let at = Instant(millisecondsSinceEpoch: stored.at)
            switch EngineInput.decode(stored) {
            case .failure(let error):
                skipped.append(error.description)
            case .success(let input):
                let outcome = input.apply(to: &engine, at: at, firstIncidentNumber: legacyNextIncident)
                if case .configuration(let recorded) = input { last = (recorded.file, recorded.text) }
                if case .signal(_, let sequence, _, _, _) = input, case .signal(let result) = outcome,
                    let plant = engine?.plant
                {
                    window.remember(Reply.signal(result, sequence: sequence, plant: plant), to: input, at: at)
                }
            }
        }
        let fresh = engine == nil
        let restored =
            engine
            ?? EscalationEngine(plant: configuration.plant, startingAt: now, firstIncidentNumber: legacyNextIncident)
        var result = Restored(
            engine: restored,
            lastConfiguration: last,
            configuration: configuration,
            window: window,
            openAtStart: restored.openIncidentCount,
            replayed: loaded.inputs.count,
            skipped: skipped,
            aliveAt: loaded.aliveAt.map { Instant(millisecondsSinceEpoch: $0) },
            stoppedCleanly: loaded.stoppedCleanly,
            fresh: fresh,
            loaded: loaded
        )
        result.seenSignatures = SenderChecks.recentlySeen(in: store, now: now, window: configuration.signing.window)
        return result
    }
}
