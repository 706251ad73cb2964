import AndonCore
import AndonProtocol

/// Rate-limits warnings about refused input: at most one journal warning per sender (`Peer.sender`) per interval,
/// which says how many were refused since the last one and why. Everything is counted, nothing is lost from the totals.
struct RejectionLog: Sendable {
    /// How a warning begins, before the sender: what happened with it.
    var subject = "refused a message from"
    var interval: Duration = .seconds(60)
    /// Sources remembered at most; the quietest are forgotten first when a flood of new sources arrives.
    var capacity = 4096

    private struct Window {
        var start: Instant
        var suppressed: [String: Int] = [:]
    }

    init(subject: String = "refused a message from") {
        self.subject = subject
    }

    private var windows: [String: Window] = [:]
    private(set) var totals: [String: Int] = [:]

    /// Records a refusal; returns the warning to log, or nil when this source already had one in this interval.
    mutating func record(source: String, code: String, reason: String, at now: Instant) -> String? {
        totals[code, default: 0] += 1
        if let window = windows[source], now < window.start + interval {
            windows[source]?.suppressed[code, default: 0] += 1
            return nil
        }
        var message = "\(subject) \(source): \(code): \(reason)"
        if let window = windows[source], !window.suppressed.isEmpty {
            let count = window.suppressed.values.reduce(0, +)
            let why = window.suppressed.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(
                separator: ", "
            )
            message += "; and \(count) more from it in the \(interval.compactDescription) before (\(why))"
        }
        if windows.count >= capacity { forgetOld(before: now - interval) }
        windows[source] = Window(start: now)
        // The reason may quote what the sender sent (a peer error names its address): never raw in the journal.
        return message.escapingControlCharacters
    }

    private mutating func forgetOld(before cutoff: Instant) {
        windows = windows.filter { $0.value.start >= cutoff }
        if windows.count >= capacity { windows.removeAll(keepingCapacity: true) }
    }
}
