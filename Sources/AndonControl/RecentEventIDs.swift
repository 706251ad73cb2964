/// The event IDs (`ANDON_EVENT_ID`) seen last, so that an entry that reached a journal twice shows once: journald
/// after an outage, journal-remote resending the last entry after a restart. A window, not a set: `tail` runs for days.
public struct RecentEventIDs: Sendable {
    private var seen: Set<String> = []
    private var order: [String] = []
    private var next = 0
    public let window: Int

    public init(window: Int = 10_000) {
        precondition(window > 0)
        self.window = window
    }

    /// False when `id` is among the last `window` IDs inserted.
    public mutating func insert(_ id: String) -> Bool {
        guard seen.insert(id).inserted else { return false }
        if order.count < window {
            order.append(id)
        } else {
            seen.remove(order[next])
            order[next] = id
            next = (next + 1) % window
        }
        return true
    }
}
