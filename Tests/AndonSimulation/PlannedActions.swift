import AndonCore

/// What happens in the simulated plant, at an instant: controllers' signals, people's answers, and what befalls
/// andond (reloads, crashes, a full disk, journald away, the daily coverage check).
package enum SimulatedAction: Sendable {
    case andon(line: String, station: String, category: Category, drill: Bool, text: String?)
    case clear(line: String, station: String)
    case stop(line: String, station: String?)
    case resume(line: String)
    /// A controller that got no reply, or `storage-failing`, sends the same message again (the same seq=).
    case resend(key: MessageKey)
    /// A responder answers a call: `verb` is ack, arrive or resolve.
    case answer(verb: String, incident: UInt64, responder: String)
    case reload(variant: Int, fixGap: Bool)
    /// Every memory of andond dropped; `torn` signals are taken by the engine and not committed first.
    case crash(torn: Int)
    /// A clean stop, `down` without andond, then a start.
    case restart(down: Duration)
    case storage(failing: Bool)
    case journald(available: Bool)
    case coverageCheck
}

/// A controller's message, by its line and sequence number.
package struct MessageKey: Hashable, Sendable {
    package var line: String
    package var sequence: UInt64
}

/// The plan: a binary heap of actions by instant, in the order they were planned at one instant.
package struct ActionPlan {
    private var heap: [(at: Instant, order: UInt64, action: SimulatedAction)] = []
    private var planned: UInt64 = 0

    package var count: Int { heap.count }
    package var next: Instant? { heap.first?.at }

    package mutating func plan(_ action: SimulatedAction, at instant: Instant) {
        planned += 1
        heap.append((instant, planned, action))
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard earlier(child, parent) else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    package mutating func pop() -> (at: Instant, action: SimulatedAction)? {
        guard !heap.isEmpty else { return nil }
        heap.swapAt(0, heap.count - 1)
        let top = heap.removeLast()
        var parent = 0
        while true {
            let (left, right) = (2 * parent + 1, 2 * parent + 2)
            var first = parent
            if left < heap.count, earlier(left, first) { first = left }
            if right < heap.count, earlier(right, first) { first = right }
            guard first != parent else { break }
            heap.swapAt(first, parent)
            parent = first
        }
        return (top.at, top.action)
    }

    private func earlier(_ a: Int, _ b: Int) -> Bool {
        (heap[a].at, heap[a].order) < (heap[b].at, heap[b].order)
    }
}
