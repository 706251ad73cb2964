import Synchronization

/// A UNIX connection as the feedback stage sees it: where its `state` lines go, and the subscriptions it holds
/// (ended when it closes).
package final class PushConnection: Sendable {
    let push: @Sendable (String) -> Void
    private let subscriptions = Mutex<[Int]>([])

    package init(push: @escaping @Sendable (String) -> Void) { self.push = push }

    func subscribed(_ id: Int) { subscriptions.withLock { $0.append(id) } }

    /// The subscriptions to end, once (the connection closed).
    package func close() -> [Int] {
        subscriptions.withLock { ids in
            defer { ids = [] }
            return ids
        }
    }
}
