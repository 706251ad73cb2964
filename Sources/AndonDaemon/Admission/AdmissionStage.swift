import AndonConfig
import AndonCore
import AndonProtocol
import AndonSystemd
import Synchronization

/// The admission stage's state and its refusals: the configuration in use and the sender checks (one leaf lock,
/// held only for `Admission.admit`), and the refusal counts with their rate-limited journal warnings.
final class AdmissionStage: Sendable {
    private struct State: Sendable {
        var configuration: Configuration
        var senders: SenderChecks
    }

    private let state: Mutex<State>
    private let refusals = Mutex(RejectionLog())
    let clock: any AndonClock
    let journal: any JournalSink
    let ownUID: UInt32

    init(
        configuration: Configuration,
        senders: SenderChecks,
        clock: any AndonClock,
        journal: any JournalSink,
        ownUID: UInt32
    ) {
        state = Mutex(State(configuration: configuration, senders: senders))
        self.clock = clock
        self.journal = journal
        self.ownUID = ownUID
    }

    var configuration: Configuration { state.withLock { $0.configuration } }

    /// The verdict on one message (see `Admission.admit`).
    func admit(_ bytes: some Collection<UInt8>, from peer: Peer) -> Admission.Verdict {
        let now = clock.now
        return state.withLock { state in
            Admission.admit(
                bytes,
                from: peer,
                configuration: state.configuration,
                senders: &state.senders,
                ownUID: ownUID,
                at: now
            )
        }
    }

    /// After a reload: the new configuration; a line's replaced key stays accepted for its overlap.
    func reconfigure(_ configuration: Configuration) {
        let now = clock.now
        state.withLock { state in
            state.senders.rotate(from: state.configuration, to: configuration, at: now)
            state.configuration = configuration
        }
    }

    /// Every address range some line lists under `senders:` (for the flood gate's safety exception).
    var authorisedSenders: [AddressRange] {
        state.withLock { $0.configuration.security.values.flatMap { $0.senders ?? [] } }
    }

    /// Counts a refusal; at most one journal warning per sender a minute. Returns the reply.
    func refuse(_ error: WireError, from peer: Peer) -> Reply {
        let now = clock.now
        let warning = refusals.withLock {
            $0.record(source: peer.sender, code: error.code.rawValue, reason: error.reason, at: now)
        }
        if let warning {
            journal.submit(
                .daemon(
                    warning,
                    priority: .warning,
                    id: MessageID.rejectedInput,
                    fields: [(.source, peer.source), (.error, error.code.rawValue)]
                )
            )
        }
        return .error(error)
    }

    /// Refusals since andond started, by code (`status --json`, `rejected-CODE`).
    var refusalTotals: [String: Int] { refusals.withLock { $0.totals } }
}
