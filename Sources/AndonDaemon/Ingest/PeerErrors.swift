import AndonCore
import AndonProtocol
import AndonSystemd
import Synchronization

/// Errors of single datagrams and connections (a reply that could not be sent, a failed read): counted, at most one
/// journal warning per peer host a minute. The listener goes on.
final class PeerErrors: Sendable {
    private let log: Mutex<RejectionLog>
    let clock: any AndonClock
    let journal: any JournalSink

    private let messageID: String

    /// `subject`: what failed, as the warning says it, under `messageID`.
    init(
        clock: any AndonClock,
        journal: any JournalSink,
        subject: String = "could not answer or read",
        messageID: String = MessageID.peerError
    ) {
        self.clock = clock
        self.journal = journal
        self.messageID = messageID
        log = Mutex(RejectionLog(subject: subject))
    }

    func record(_ code: String, _ what: String, peer: String, host: String) {
        let now = clock.now
        guard let warning = log.withLock({ $0.record(source: host, code: code, reason: what, at: now) }) else { return }
        journal.submit(.daemon(warning, priority: .warning, id: messageID, fields: [(.source, peer)]))
    }

    var total: Int { log.withLock { $0.totals.values.reduce(0, +) } }
}
