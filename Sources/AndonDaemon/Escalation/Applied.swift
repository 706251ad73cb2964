import AndonCore
import AndonStore

/// What the escalation stage hands to the commit stage, in engine order: one input that changed the state, when it
/// was applied, the events it caused and the plant they happened in (the commit stage builds their journal entries
/// from these, on its own thread). `deliver` runs once the input is on disk.
struct Applied: Sendable {
    var input: EngineInput
    var at: Instant
    var events: [Event]
    var plant: Plant
    var deliver: (@Sendable () -> Void)?
}

/// The commit stage as the escalation stage sees it. Called under the escalation lock, so that the log has the
/// engine's order: each call only queues a value (escalation → commit is the lock order).
protocol CommitHandoff: AnyObject, Sendable {
    /// Queues an input with an effect; true when a snapshot of the state after it is due (`attachSnapshot`).
    func append(_ applied: Applied) -> Bool
    /// The state after the last appended input, as O(1) copies: encoded and written off the lock.
    func attachSnapshot(engine: EscalationEngine, window: SequenceWindow, at instant: Instant)
    /// Runs `deliver` once everything appended so far is on disk (a retransmit's reply, an input with no effect).
    func afterCommit(_ deliver: @escaping @Sendable () -> Void)
    /// Whether a signal or an answer may change the state now (false while storage fails and too much waits).
    func admits() -> Bool
    /// Asks for a snapshot with the next input (a clean stop, a long restore).
    func wantSnapshot()
}

/// The one timer: armed for the engine's next deadline. `fire` runs on the timer's own thread; arming again replaces
/// what was armed, and nil cancels it.
package protocol DeadlineTimer: Sendable {
    func arm(at deadline: Instant?, now: Instant, fire: @escaping @Sendable () -> Void)
}
