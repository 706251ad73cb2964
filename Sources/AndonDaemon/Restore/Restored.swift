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
        clock: any AndonClock,
        notifier: Notifier,
        legacyNextIncident: UInt64
    ) throws(StoreError) -> Restored {
        let loaded = try store.load()
        if let snapshot = loaded.snapshot, snapshot.state.count > 8 << 20 {
            // A large snapshot: tell systemd that starting may take longer than usual.
            notifier.notify("EXTEND_TIMEOUT_USEC=30000000\nSTATUS=Restoring \(snapshot.state.count >> 20) MB of state")
        }
        var replay: EngineReplay
        do {
            replay = try EngineReplay(
                snapshot: loaded.snapshot,
                firstIncidentNumber: legacyNextIncident,
                fallback: configuration.plant
            )
        } catch {
            throw StoreError(.corrupt, error.description)
        }
        let now = clock.now
        var lastExtension = now
        for stored in loaded.inputs {
            if clock.now.duration(since: lastExtension) > .seconds(1) {
                // A long restore: tell systemd we are still starting.
                notifier.notify("EXTEND_TIMEOUT_USEC=10000000\nSTATUS=Restoring: input \(stored.sequence)")
                lastExtension = clock.now
            }
            replay.apply(stored)
        }
        let engine = replay.engine
        let fresh = engine == nil
        let restored =
            engine
            ?? EscalationEngine(plant: configuration.plant, startingAt: now, firstIncidentNumber: legacyNextIncident)
        var result = Restored(
            engine: restored,
            lastConfiguration: replay.lastConfiguration,
            configuration: configuration,
            window: replay.window,
            openAtStart: restored.openIncidentCount,
            replayed: loaded.inputs.count,
            skipped: replay.skipped,
            aliveAt: loaded.aliveAt.map { Instant(millisecondsSinceEpoch: $0) },
            stoppedCleanly: loaded.stoppedCleanly,
            fresh: fresh,
            loaded: loaded
        )
        result.seenSignatures = SenderChecks.recentlySeen(in: store, now: now, window: configuration.signing.window)
        return result
    }
}
