import AndonCore
import AndonProtocol
import AndonSystemd
import Synchronization

/// Errors of single datagrams and connections (a reply that could not be sent, a failed read): counted, at most one
/// journal warning per peer host a minute. The listener goes on.
final class PeerErrors: Sendable {
    private let log = Mutex(RejectionLog(subject: "could not answer or read"))
    let clock: any AndonClock
    let journal: any JournalSink

    init(clock: any AndonClock, journal: any JournalSink) {
        self.clock = clock
        self.journal = journal
    }

    func record(_ code: String, _ what: String, peer: String, host: String) {
        let now = clock.now
        guard let warning = log.withLock({ $0.record(source: host, code: code, reason: what, at: now) }) else { return }
        journal.submit(.daemon(warning, priority: .warning, id: MessageID.peerError, fields: [(.source, peer)]))
    }

    var total: Int { log.withLock { $0.totals.values.reduce(0, +) } }
}
