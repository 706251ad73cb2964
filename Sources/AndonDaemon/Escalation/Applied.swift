import AndonCore
import AndonStore
import AndonSystemd
import Foundation

/// What the escalation stage hands to the commit stage, in engine order: one input that changed the state, when it
/// was applied, the events it caused and the plant they happened in. Their journal entries are built from these,
/// never under the escalation lock: by the thread that applied the input, right after it let the lock go, or by the
/// commit thread when it gets there first (`prepared`). `deliver` runs once the input is on disk.
struct Applied: Sendable {
    var input: EngineInput
    var at: Instant
    var events: [Event]
    var plant: Plant
    var deliver: (@Sendable () -> Void)?
    /// What changed about shelves and stations out of service (journaled after the events).
    var notices: [PlantNotice]
    /// The events' journal entries, built once; the box holds the events only until then.
    let prepared: PreparedEntries

    /// Whether it has journal entries to build.
    var hasEntries: Bool { !events.isEmpty || !notices.isEmpty }

    init(
        input: EngineInput,
        at: Instant,
        events: [Event],
        notices: [PlantNotice] = [],
        plant: Plant,
        deliver: (@Sendable () -> Void)? = nil
    ) {
        self.input = input
        self.at = at
        self.events = events
        self.notices = notices
        self.plant = plant
        self.deliver = deliver
        prepared = PreparedEntries(events: events, notices: notices, plant: plant, at: at, isTick: input.isTick)
    }
}

/// One hand-off's journal entries, built once by whichever thread claims them first: the thread that applied the
/// input (right after it let the escalation lock go, so that the events are freed where they were made, not held
/// through a commit) or the commit thread; the other one takes them (waiting at most for the build in progress) or
/// leaves them.
final class PreparedEntries: @unchecked Sendable {
    private enum State {
        case unclaimed(Source)
        case building
        case built(Built)
    }

    /// The entries, and the deliveries their events ask for (`entry`: the index of the event's entry).
    struct Built: Sendable {
        var entries: [JournalEntry] = []
        var deliveries: [(entry: Int, intent: DeliveryIntent, content: NotificationContent, giveUpAfter: Duration)] =
            []
        /// What the events change on the line's side (the feedback to its stations), sent once on disk.
        var states: [CallState] = []
    }

    // Guarded by `condition`.
    private let condition = NSCondition()
    private var state: State

    /// What the entries are built from.
    struct Source {
        var events: [Event]
        var notices: [PlantNotice]
        var plant: Plant
        var at: Instant
        var isTick: Bool
    }

    init(events: [Event], notices: [PlantNotice], plant: Plant, at: Instant, isTick: Bool) {
        state = .unclaimed(Source(events: events, notices: notices, plant: plant, at: at, isTick: isTick))
    }

    /// Builds the entries unless another thread claimed them already (the applying thread, after the lock).
    func build() {
        guard let source = claim() else { return }
        let built = Self.build(source)
        condition.lock()
        state = .built(built)
        condition.broadcast()
        condition.unlock()
    }

    /// The entries: built here when nobody claimed them, waited for while another thread builds them.
    func take() -> Built {
        if let source = claim() { return Self.build(source) }
        condition.lock()
        defer { condition.unlock() }
        while true {
            if case .built(let built) = state {
                state = .built(Built())
                return built
            }
            condition.wait()
        }
    }

    private static func build(_ source: Source) -> Built {
        var built = Built()
        built.entries = JournalEntry.entries(of: source.events, plant: source.plant, at: source.at, tick: source.isTick)
        built.entries += source.notices.map { JournalEntry(notice: $0, plant: source.plant) }
        built.states = CallState.changes(of: source.events)
        guard !source.plant.channels.isEmpty else { return built }
        for (index, event) in source.events.enumerated() {
            for intent in NotificationPlan.intents(for: event, plant: source.plant) {
                let giveUpAfter = source.plant.channels[intent.channel.channel]?.giveUpAfter
                built.deliveries.append(
                    (
                        index, intent, NotificationContent(event: event, purpose: intent.purpose, plant: source.plant),
                        giveUpAfter ?? ChannelPolicy.defaultGiveUpAfter
                    )
                )
            }
        }
        return built
    }

    private func claim() -> Source? {
        condition.lock()
        defer { condition.unlock() }
        guard case .unclaimed(let source) = state else { return nil }
        state = .building
        return source
    }
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
