import AndonConfig
import AndonCore
import AndonProtocol
import AndonSystemd
import Dispatch
import Synchronization

/// The line's side of a call: each change of a call, once it is on disk, goes to its line's stations as a `state`
/// message (to the line's `feedback:` addresses, or else to the address its controller last sent from, and to the
/// local controllers subscribed on the UNIX socket); every `feedback_every` the line's open calls go again with a
/// summary, so that a controller that rebooted, or missed a datagram, relearns its lights. Sending never waits and
/// a failure ends nothing: it is counted and warned about at most once a minute per address (`PeerErrors`).
package final class FeedbackService: Sendable {
    /// The most calls a repeat or an answer lists for one line (a summary must fit in one message).
    static let callsPerLine = 100
    /// Where the repeats are rendered and sent.
    private static let queue = DispatchQueue(label: "andond.feedback", qos: .utility)

    private struct Subscriber {
        var line: LineID?
        var push: @Sendable (String) -> Void
    }

    private struct State {
        /// The UDP address each line's controller last sent from (for lines without `feedback:`).
        var lastHeard: [LineID: String] = [:]
        var subscribers: [Int: Subscriber] = [:]
        var nextSubscriber = 0
        /// When each line's lights are due again.
        var nextRepeat: [LineID: Instant] = [:]
        /// The instant the repeat timer is armed for.
        var armed: Instant?
    }

    private let state = Mutex(State())
    private let transport = Mutex<(any FeedbackTransport)?>(nil)
    /// The repeats' timer and the engine they read (the daemon's; tests call `repeatDue` themselves).
    private let repeats = Mutex<Repeats?>(nil)

    private struct Repeats: Sendable {
        var timer: any DeadlineTimer
        var engine: @Sendable () -> EscalationEngine
    }
    private let clock: any AndonClock
    private let errors: PeerErrors
    /// The configuration in use (admission's: it changes with a reload): `feedback:` settings and the lines' keys.
    private let configuration: @Sendable () -> Configuration
    /// Messages sent (datagrams and subscriber lines) and datagrams that could not be sent.
    let sent = Atomic<Int>(0)
    let failed = Atomic<Int>(0)

    init(clock: any AndonClock, errors: PeerErrors, configuration: @escaping @Sendable () -> Configuration) {
        self.clock = clock
        self.errors = errors
        self.configuration = configuration
    }

    /// The datagram socket(s) to send from (the UDP listeners', once bound).
    package func attach(_ transport: any FeedbackTransport) { self.transport.withLock { $0 = transport } }

    /// Starts the repeats on `timer`: armed only while some line has somewhere to send them (an idle andond with no
    /// controller heard from never wakes for them); the first goes at once.
    func start(timer: any DeadlineTimer, engine: @escaping @Sendable () -> EscalationEngine) {
        let started = Repeats(timer: timer, engine: engine)
        repeats.withLock { $0 = started }
        rearm()
    }

    /// A UDP signal or question for `line` came from `peer`: its lights go there while the line names no `feedback:`.
    /// A controller heard for the first time gets its changes from now on; its first repeat comes a period later.
    func heard(_ line: LineID, from peer: Peer) {
        guard case .udp(let address) = peer else { return }
        guard state.withLock({ $0.lastHeard[line] != address }) else { return }
        let next = clock.now + configuration().feedback.every(for: line)
        state.withLock { state in
            state.lastHeard[line] = address
            if state.nextRepeat[line] == nil { state.nextRepeat[line] = next }
        }
        rearm()
    }

    /// Seeds where lines' lights go from the calls open at start (the address each was raised from).
    func restored(_ engine: EscalationEngine) {
        state.withLock { state in
            for incident in engine.openIncidents {
                guard let source = incident.origin.source, ListenSettings.splitHostPort(source) != nil else { continue }
                state.lastHeard[incident.line] = source
            }
        }
    }

    /// Calls that changed, now on disk (handed over by the commit thread): each goes to its line, in order, on the
    /// feedback queue (the commit thread goes back to committing).
    func committed(_ states: [CallState]) {
        let now = clock.now
        Self.queue.async { [weak self] in self?.send(states, at: now) }
    }

    /// Sends the changes at once, on the caller's thread (the tests', which commit on theirs).
    package func send(_ states: [CallState], at now: Instant) {
        let configuration = configuration()
        for change in states {
            let key = configuration.keys[change.line]?.bytes
            deliver(FeedbackMessage.call(change, at: now, key: key), for: change.line, settings: configuration.feedback)
        }
    }

    /// Waits until what was handed over is sent (tests).
    package func drain() { Self.queue.sync {} }

    /// Sends every line's lights that are due (each open call and the line's summary), and sets each line's next
    /// repeat. A line with somewhere to send them and no repeat set yet is due now (at start: andond may have been down
    /// while calls changed).
    package func repeatDue(_ engine: EscalationEngine) {
        let now = clock.now
        let configuration = configuration()
        let settings = configuration.feedback
        let due: [LineID] = state.withLock { state in
            var due: [LineID] = []
            for line in engine.plant.lines.keys.sorted() where Self.hasListener(line, state: state, settings: settings)
            {
                guard state.nextRepeat[line].map({ $0 <= now }) ?? true else { continue }
                state.nextRepeat[line] = now + settings.every(for: line)
                due.append(line)
            }
            return due
        }
        for line in due {
            let (calls, summary) = lights(of: line, in: engine, at: now, key: configuration.keys[line]?.bytes)
            for message in calls + [summary] { deliver(message, for: line, settings: settings) }
        }
    }

    /// When the next repeat is due: the earliest of the lines with somewhere to send them.
    func nextRepeat(lines: some Sequence<LineID>) -> Instant? {
        let now = clock.now
        let settings = configuration().feedback
        return state.withLock { state in
            lines.filter { Self.hasListener($0, state: state, settings: settings) }.map { state.nextRepeat[$0] ?? now }
                .min()
        }
    }

    private static func hasListener(_ line: LineID, state: State, settings: FeedbackSettings) -> Bool {
        !settings.addresses(of: line).isEmpty || state.lastHeard[line] != nil
            || state.subscribers.values.contains { $0.line == nil || $0.line == line }
    }

    /// Arms the repeat timer for the next repeat (the daemon's; nothing without `start`).
    private func rearm() {
        guard let repeats = repeats.withLock({ $0 }) else { return }
        let (timer, engine) = (repeats.timer, repeats.engine)
        let next = nextRepeat(lines: engine().plant.lines.keys)
        let changed = state.withLock { state in
            defer { state.armed = next }
            return state.armed != next
        }
        guard changed else { return }
        timer.arm(at: next, now: clock.now) { [weak self] in
            // Off the timer's event loop: a line of many open calls takes a moment to render, and the loop serves
            // the UNIX socket's connections.
            Self.queue.async { [weak self] in
                guard let self else { return }
                self.state.withLock { $0.armed = nil }
                self.repeatDue(engine())
                self.rearm()
            }
        }
    }

    /// The answer to `state?`: a `state` message for each of the line's (or the station's) open calls, and the reply,
    /// which counts and lists them. Over UDP each message is a datagram to the asking address, sent before the reply;
    /// on the UNIX socket (one reply line per request) they are the reply's `details=` lines.
    func answer(line: LineID, station: StationID?, sequence: UInt64?, peer: Peer, engine: EscalationEngine) -> Reply {
        heard(line, from: peer)
        let now = clock.now
        let key = configuration().keys[line]?.bytes
        let states = engine.callStates(of: line, station: station, limit: Self.callsPerLine)
        let total =
            states.count < Self.callsPerLine ? states.count : engine.callStates(of: line, station: station).count
        let messages = states.map { FeedbackMessage.call($0, at: now, key: key) }
        var details: String?
        if case .udp(let address) = peer {
            for message in messages { send(message, to: address) }
        } else if !messages.isEmpty {
            details = Reply.encodeLines(messages)
        }
        return .ok([
            "line": line.rawValue, "station": station?.rawValue, "calls": String(total),
            "incidents": Self.list(states.map(\.incident)), "details": details, "seq": sequence.map(String.init),
        ])
    }

    /// A local controller's subscription (`subscribe`): every change of `line` (of every line when nil) and the
    /// repeats, pushed as lines; its current lights at once. Returns its handle for `unsubscribe`.
    func subscribe(line: LineID?, engine: EscalationEngine, push: @escaping @Sendable (String) -> Void) -> Int {
        let now = clock.now
        let configuration = configuration()
        let lines = line.map { [$0] } ?? engine.plant.lines.keys.sorted()
        let id = state.withLock { state in
            let id = state.nextSubscriber
            state.nextSubscriber += 1
            state.subscribers[id] = Subscriber(line: line, push: push)
            for each in lines where state.nextRepeat[each] == nil {
                state.nextRepeat[each] = now + configuration.feedback.every(for: each)
            }
            return id
        }
        for each in lines {
            let (calls, summary) = lights(of: each, in: engine, at: now, key: configuration.keys[each]?.bytes)
            for message in calls + [summary] { push(message) }
        }
        rearm()
        return id
    }

    package func unsubscribe(_ id: Int) { _ = state.withLock { $0.subscribers.removeValue(forKey: id) } }

    package var subscriberCount: Int { state.withLock { $0.subscribers.count } }

    // MARK: Sending

    private func lights(
        of line: LineID,
        in engine: EscalationEngine,
        at now: Instant,
        key: [UInt8]?
    ) -> (calls: [String], summary: String) {
        let states = engine.callStates(of: line, limit: Self.callsPerLine)
        return (
            states.map { FeedbackMessage.call($0, at: now, key: key) },
            FeedbackMessage.summary(
                line: line,
                calls: engine.openIncidentIDs(of: line, limit: 0).matching,
                incidents: states.map(\.incident),
                at: now,
                key: key
            )
        )
    }

    private func deliver(_ message: String, for line: LineID, settings: FeedbackSettings) {
        let (addresses, pushes) = state.withLock { state in
            let configured = settings.addresses(of: line)
            let addresses = configured.isEmpty ? state.lastHeard[line].map { [$0] } ?? [] : configured
            let pushes = state.subscribers.values.filter { $0.line == nil || $0.line == line }.map(\.push)
            return (addresses, pushes)
        }
        for address in addresses { send(message, to: address) }
        for push in pushes {
            push(message)
            sent.add(1, ordering: .relaxed)
        }
    }

    private func send(_ message: String, to address: String) {
        guard let transport = transport.withLock({ $0 }) else { return }
        if let failure = transport.send(message, to: address) {
            failed.add(1, ordering: .relaxed)
            let host = Peer.udp(address).sender
            errors.record("send", "\(failure) (to \(address))", peer: address, host: host)
        } else {
            sent.add(1, ordering: .relaxed)
        }
    }

    static func list(_ incidents: [IncidentID]) -> String {
        incidents.isEmpty ? "-" : incidents.map(\.description).joined(separator: ",")
    }
}

/// Where feedback datagrams leave from.
package protocol FeedbackTransport: Sendable {
    /// Nil when sent; otherwise why not.
    func send(_ message: String, to address: String) -> String?
}
