import AndonConfig
import AndonCore
import AndonProtocol
import AndonStore
import Synchronization

/// The escalation stage: the engine, the retransmit window and the one timer, under one lock, and nothing else.
///
/// Each input is applied at the clock's instant, in one order; what changed the state is handed to the commit stage
/// as a value (`Applied`) under the lock, so the log has the engine's order. No journal entry is built here: the
/// commit stage builds them from the events. The only text made under the lock is a signal's reply, which the
/// retransmit window remembers (it is part of the state a restore rebuilds).
package final class EscalationService: Sendable {
    struct State: Sendable {
        var engine: EscalationEngine
        var window: SequenceWindow
        var armed: Instant?
        var stopped = false
        /// The engine's handover chunks as of the last input recorded (a tick that moved one must be logged).
        var sweepChunksRecorded: Int
        /// What this lock's holder handed over with events: their entries are built once it lets go.
        var handedOff: [Applied] = []
    }

    /// What one input came to: its reply (sent at once when `immediate`, else once the input is on disk), the events
    /// it caused, and the deadline the timer is armed for now.
    struct Outcome: Sendable {
        var reply: Reply
        var immediate: Bool
        var events: [Event] = []
        var nextDeadline: Instant?
    }

    private let state: Mutex<State>
    let clock: any AndonClock
    let commit: any CommitHandoff
    let timer: any DeadlineTimer
    /// Signals answered from the retransmit window (for `status --json`).
    let retransmits = Atomic<Int>(0)

    init(
        engine: EscalationEngine,
        window: SequenceWindow,
        clock: any AndonClock,
        commit: any CommitHandoff,
        timer: any DeadlineTimer
    ) {
        // What a restore's replay noted was journaled when it happened.
        var engine = engine
        _ = engine.takeNotices()
        state = Mutex(State(engine: engine, window: window, sweepChunksRecorded: engine.sweepChunks))
        self.clock = clock
        self.commit = commit
        self.timer = timer
    }

    /// An O(1) copy of the engine (its incident maps are persistent), for answers read outside the lock.
    package var engine: EscalationEngine { state.withLock { $0.engine } }

    /// Arms the timer for the first time (heartbeat watches start with the daemon).
    package func start() {
        state.withLock { rearm(&$0, now: clock.now) }
    }

    /// Cancels the timer and asks for a last snapshot (a clean stop); later inputs are still answered.
    package func stop() {
        locked { state in
            state.stopped = true
            state.armed = nil
            timer.arm(at: nil, now: clock.now, fire: {})
            commit.wantSnapshot()
            let now = clock.now
            if commit.append(Applied(input: .tick, at: now, events: [], plant: state.engine.plant)) {
                commit.attachSnapshot(engine: state.engine, window: state.window, at: now)
            }
        }
    }

    // MARK: Inputs

    /// A controller's signal that admission let through. A retransmit of a signal taken already gets the first reply
    /// (once that is on disk) and no second effect; `refusal`, when admission found one for a signal that is not a
    /// retransmit, is the answer then.
    func signal(
        _ signal: Signal,
        sequence: UInt64?,
        drill: Bool,
        source: String,
        message: String,
        refusal: WireError?,
        deliver: @escaping @Sendable (Reply) -> Void
    ) -> Outcome {
        locked { state in
            let now = clock.now
            // A retransmit is the same message less its signature: re-signed with a fresh ts=, it is still one signal.
            if let sequence,
                let remembered = state.window.reply(
                    line: signal.line,
                    sequence: sequence,
                    message: SequenceWindow.retransmitted(message),
                    at: now
                )
            {
                retransmits.add(1, ordering: .relaxed)
                let reply = Reply.parse(remembered).get(or: .ok([]))
                commit.afterCommit { deliver(reply) }
                return Outcome(reply: reply, immediate: false, nextDeadline: state.armed)
            }
            if let refusal { return Outcome(reply: .error(refusal), immediate: true, nextDeadline: state.armed) }
            // Before the engine changes: what it takes must reach the disk, and the disk takes nothing now.
            guard commit.admits() else {
                return Outcome(
                    reply: .error(.storageFailing(sequence: sequence)),
                    immediate: true,
                    nextDeadline: state.armed
                )
            }
            let input = EngineInput.signal(signal, sequence: sequence, drill: drill, source: source, message: message)
            let result = EngineInput.receive(
                signal,
                sequence: sequence,
                drill: drill,
                source: source,
                in: &state.engine,
                at: now
            )
            let reply = Reply.signal(result, sequence: sequence, plant: state.engine.plant)
            if case .error = reply {
                // Refused: no effect but the time, whose events are logged as a tick.
                record(.tick, at: now, events: result.events, in: &state, deliver: nil)
                return Outcome(reply: reply, immediate: true, events: result.events, nextDeadline: state.armed)
            }
            state.window.remember(reply, to: input, at: now)
            record(input, at: now, events: result.events, in: &state) { deliver(reply) }
            return Outcome(reply: reply, immediate: false, events: result.events, nextDeadline: state.armed)
        }
    }

    /// A responder's action, by the actor admission found.
    func act(
        _ action: EngineInput.Action,
        on id: IncidentID,
        by actor: Actor,
        message: String,
        deliver: @escaping @Sendable (Reply) -> Void
    ) -> Outcome {
        locked { state in
            guard commit.admits() else {
                return Outcome(
                    reply: .error(.storageFailing(sequence: nil)),
                    immediate: true,
                    nextDeadline: state.armed
                )
            }
            let now = clock.now
            let input = EngineInput.action(action, actor: actor, message: message)
            let result = EngineInput.perform(action, by: actor, in: &state.engine, at: now)
            switch result.result {
            case .failure(let error):
                return refused(error, events: result.events, at: now, in: &state)
            case .success(let incident):
                let event = result.events.last { $0.incident == id }
                let reply = Reply.ok([
                    "incident": id.description, "event": event?.kind.rawValue,
                    "tier": incident?.tierName, "by": event?.by.map { state.engine.plant.userName(of: $0) },
                ])
                record(input, at: now, events: result.events, in: &state) { deliver(reply) }
                return Outcome(reply: reply, immediate: false, events: result.events, nextDeadline: state.armed)
            }
        }
    }

    /// An action on a line's shelves or stations (`shelve`, `unshelve`, `out-of-service`, `in-service`), by the actor
    /// admission found; its reply names the shelves and the calls it touched, once on disk.
    func actOnPlant(
        _ action: EngineInput.Action,
        by actor: Actor,
        message: String,
        deliver: @escaping @Sendable (Reply) -> Void
    ) -> Outcome {
        locked { state in
            guard commit.admits() else {
                return Outcome(
                    reply: .error(.storageFailing(sequence: nil)),
                    immediate: true,
                    nextDeadline: state.armed
                )
            }
            let now = clock.now
            let (result, events) = EngineInput.performOnPlant(action, by: actor, in: &state.engine, at: now)
            switch result {
            case .failure(let error):
                return refused(error, events: events, at: now, in: &state)
            case .success(let done):
                let list = { (ids: [IncidentID]) in ids.isEmpty ? nil : ids.map(\.description).joined(separator: ",") }
                let reply = Reply.ok([
                    "shelf": done.shelves.isEmpty ? nil : done.shelves.map(String.init).joined(separator: ","),
                    "incidents": list(done.calls),
                    "until": done.until.map { String($0.millisecondsSinceEpoch / 1000) },
                    "until_local": done.until.map { state.engine.plant.timeZone.local($0).description },
                ])
                record(.action(action, actor: actor, message: message), at: now, events: events, in: &state) {
                    deliver(reply)
                }
                return Outcome(reply: reply, immediate: false, events: events, nextDeadline: state.armed)
            }
        }
    }

    /// An action the engine refused: no effect but the time, whose events are logged as a tick; answered at once.
    private func refused(_ error: ActionError, events: [Event], at now: Instant, in state: inout State) -> Outcome {
        record(.tick, at: now, events: events, in: &state, deliver: nil)
        return Outcome(
            reply: .error(WireError(WireError.Code(rawValue: error.code.rawValue), error.message)),
            immediate: true,
            events: events,
            nextDeadline: state.armed
        )
    }

    /// Swaps in a configuration that was loaded and validated (open calls keep their state), unless the engine
    /// refuses it; `done` runs once the swap is on disk. Returns the refusal, or the plant it replaced.
    func reconfigure(
        _ configuration: Configuration,
        done: @escaping @Sendable () -> Void
    ) -> Result<Plant, ReconfigureRefusal> {
        locked { state in
            if let refusal = state.engine.reconfigureRefusal(for: configuration.plant) {
                return .failure(ReconfigureRefusal(reason: refusal))
            }
            let old = state.engine.plant
            let now = clock.now
            let events = EngineInput.configuration(configuration).apply(to: &state.engine, at: now).events
            record(.configuration(configuration), at: now, events: events, in: &state, deliver: done)
            return .success(old)
        }
    }

    /// The timer fired: every deadline due now.
    func tick() {
        locked { state in
            guard !state.stopped else { return }
            state.armed = nil
            let now = clock.now
            let events = EngineInput.tick.apply(to: &state.engine, at: now).events
            record(.tick, at: now, events: events, in: &state, deliver: nil)
        }
    }

    /// After a restore, before the first commit: the configuration andond starts with when it is not the one the
    /// engine ran under (`changed`; `fresh`, a new engine made from it), then every deadline that passed while andond
    /// was down, in order. Returns those late events and an O(1) copy of the engine after them.
    func catchUp(
        configuration: Configuration?,
        fresh: Bool,
        snapshot: Bool
    ) -> (late: [Event], engine: EscalationEngine) {
        locked { state in
            let now = clock.now
            if let configuration {
                // A fresh engine was made from this configuration at `now`, as replaying this input will make it.
                let events =
                    fresh ? [] : EngineInput.configuration(configuration).apply(to: &state.engine, at: now).events
                record(.configuration(configuration), at: now, events: events, in: &state, deliver: nil)
            }
            let late = EngineInput.tick.apply(to: &state.engine, at: now).events
            record(.tick, at: now, events: late, in: &state, deliver: nil)
            // After a long replay, a snapshot right away: the next start replays only what comes after it.
            if snapshot, commit.append(Applied(input: .tick, at: now, events: [], plant: state.engine.plant)) {
                commit.attachSnapshot(engine: state.engine, window: state.window, at: now)
            }
            return (late, state.engine)
        }
    }

    /// Runs `body` under the lock; then, outside it, builds the journal entries of what it handed over (unless the
    /// commit thread got there first), beside the commit thread's writing.
    private func locked<T: Sendable>(_ body: (inout State) -> T) -> T {
        let (result, handed) = state.withLock { state -> (T, [Applied]) in
            let result = body(&state)
            defer { state.handedOff.removeAll(keepingCapacity: true) }
            return (result, state.handedOff)
        }
        for applied in handed { applied.prepared.build() }
        return result
    }

    /// For the watchdog's probe: the lock is free, and the engine answers.
    func probe() -> Int { state.withLock { $0.engine.openIncidentCount } }

    // MARK: Hand-off and timer

    /// Hands an input with an effect to the commit stage (a tick only when it had events or moved a handover on);
    /// `deliver` runs once it is on disk. Adds a snapshot when one is due, and re-arms the timer.
    private func record(
        _ input: EngineInput,
        at now: Instant,
        events: [Event],
        in state: inout State,
        deliver: (@Sendable () -> Void)?
    ) {
        // A tick that moved a handover on changed the state even with no events: it must be replayed as it was.
        let swept = state.engine.sweepChunks != state.sweepChunksRecorded
        state.sweepChunksRecorded = state.engine.sweepChunks
        let notices = state.engine.takeNotices()
        if input.isTick, events.isEmpty, notices.isEmpty, !swept {
            if let deliver { commit.afterCommit(deliver) }
        } else {
            let applied = Applied(
                input: input,
                at: now,
                events: events,
                notices: notices,
                plant: state.engine.plant,
                deliver: deliver
            )
            if applied.hasEntries { state.handedOff.append(applied) }
            if commit.append(applied) {
                commit.attachSnapshot(engine: state.engine, window: state.window, at: now)
            }
        }
        rearm(&state, now: now)
    }

    /// Keeps exactly one timer, for the engine's next deadline.
    private func rearm(_ state: inout State, now: Instant) {
        let next = state.engine.nextDeadline
        guard !state.stopped, next != state.armed else { return }
        state.armed = next
        timer.arm(at: next, now: now) { [weak self] in self?.tick() }
    }
}

/// Why the engine would not take a configuration (a line with open calls removed, for instance).
struct ReconfigureRefusal: Error, Sendable {
    var reason: String
}

extension WireError {
    /// The refusal of a signal or an answer while the state cannot be written and too much waits in memory.
    static func storageFailing(sequence: UInt64?) -> WireError {
        WireError(
            .storageFailing,
            "andond cannot write its state and holds as many inputs as it may until it can; nothing was taken: resend",
            sequence: sequence
        )
    }
}

extension Result {
    fileprivate func get(or fallback: Success) -> Success { (try? get()) ?? fallback }
}
