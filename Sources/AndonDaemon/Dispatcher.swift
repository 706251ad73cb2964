import AndonConfig
import AndonCore
import AndonProtocol
import AndonStore
import AndonSystemd
import Foundation
import NIOCore
import Synchronization

/// The daemon's one owner of the escalation engine.
///
/// Every message, from any socket, goes through `handle(_:from:reply:)`: parse, authorise, apply to the engine at the
/// current time, append the input and its journal entries to the committer's pending batch, re-arm the one timer for
/// the engine's next deadline. A reply that reports an effect is handed to `reply` only once its batch is on disk;
/// refusals are answered at once. The engine is behind a mutex: its operations take microseconds, so ingest never
/// hops threads for it, and the lock is never held across a commit.
public final class Dispatcher: Sendable {
    struct State: Sendable {
        var engine: EscalationEngine
        var configuration: Configuration
        var window: SequenceWindow
        var rejections = RejectionLog()
        var armedDeadline: Instant?
        var timer: Scheduled<Void>?
        var stopped = false
        /// Messages received on any socket, good or bad.
        var handled = 0
        /// Retransmits answered from the window.
        var retransmits = 0
        var udpAddresses: [String] = []
        /// The status line last handed to the service manager.
        var publishedStatus: String?
        /// Calls open when andond started, carried over from the state directory.
        var restoredCount = 0
        /// What the status line says about the state directory (a database moved aside at start).
        var stateNote: String?
        /// What the last coverage check found for `STATUS=`: a KPO gap ahead, or nil.
        var coverageNote: String?
        /// The engine's handover chunks as of the last input recorded (see `record`).
        var sweepChunksRecorded = 0
        /// Replaced keys and signatures taken, for UDP signals.
        var senders = SenderChecks()
        /// UDP datagrams dropped over their source's budget.
        var droppedOverBudget = 0
    }

    let state: Mutex<State>
    let clock: any AndonClock
    let journal: JournalWriter
    let committer: Committer
    let timerLoop: any EventLoop
    /// The daemon's own uid: `andonctl reload` run by systemd's ExecReload= comes from it.
    let ownUID: UInt32
    /// Where andond listens; a reload cannot change it.
    let listenAtStart: ListenSettings
    /// Renders `status` answers, which may be large, away from the event loops.
    let reports = DispatchQueue(label: "andond.reports", qos: .utility)
    /// Counts errors of single datagrams and connections (send or receive), rate-limited in the journal.
    let peerErrors = Mutex(RejectionLog(subject: "could not answer or read"))
    /// Yields when what `statusLine()` shows may have changed: events were published, or the configuration was
    /// swapped. Pokes collapse into one while nobody reads them.
    public let statusChanges: AsyncStream<Void>
    let statusChanged: AsyncStream<Void>.Continuation

    init(
        restored: Restored,
        clock: any AndonClock,
        journal: JournalWriter,
        committer: Committer,
        timerLoop: any EventLoop
    ) {
        var initial = State(engine: restored.engine, configuration: restored.configuration, window: restored.window)
        initial.restoredCount = restored.openAtStart
        initial.sweepChunksRecorded = restored.engine.sweepChunks
        initial.senders.seen = restored.seenSignatures
        self.state = Mutex(initial)
        self.clock = clock
        self.journal = journal
        self.committer = committer
        self.timerLoop = timerLoop
        self.ownUID = getuid()
        self.listenAtStart = restored.configuration.listen
        (statusChanges, statusChanged) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    public var configuration: Configuration { state.withLock { $0.configuration } }

    /// Records the bound UDP addresses, for `ping` (tests bind port 0 and learn the port this way).
    public func setUDPAddresses(_ addresses: [String]) {
        state.withLock { $0.udpAddresses = addresses }
    }

    /// Arms the timer for the first time (heartbeat watches start with the daemon).
    public func start() {
        state.withLock { rearm(&$0) }
    }

    /// Cancels the timer and stores a last snapshot; later messages are still answered (shutdown closes the sockets
    /// first).
    public func stop() {
        state.withLock { state in
            state.stopped = true
            state.timer?.cancel()
            state.timer = nil
            committer.wantSnapshot()
            let now = clock.now
            if committer.append(.tick, at: now, entries: [], deliver: nil) {
                committer.attachSnapshot(
                    engine: state.engine,
                    window: state.window,
                    configuration: state.configuration,
                    at: now
                )
            }
        }
    }

    // MARK: Messages

    /// Handles one message from a controller or andonctl; `reply` gets the answer, at once for a refusal, after the
    /// commit for anything with an effect. `reply` may run on any thread.
    ///
    /// `stream`, when given, takes a `status` answer instead of `reply`, to be written in pieces (the UNIX socket).
    public func handle(
        _ bytes: some Collection<UInt8>,
        from peer: Peer,
        stream: (@Sendable (StatusStream) -> Void)? = nil,
        reply: @escaping @Sendable (Reply) -> Void
    ) {
        state.withLock { $0.handled += 1 }
        switch Request.parse(bytes) {
        case .failure(let error):
            reply(refuse(error.echoing(sequenceIn: bytes), from: peer))
        case .success(let request):
            if request.isControl, case .udp = peer {
                reply(
                    refuse(
                        WireError(.notAuthorized, "control requests are accepted only on the UNIX socket"),
                        from: peer
                    )
                )
                return
            }
            // A signed UDP signal: its signature is checked against the line's key (the UNIX socket has credentials).
            let signed: MessageSigning.Signed? =
                if case .udp = peer, case .signal = request { MessageSigning.split(bytes) } else { nil }
            if case .status(let line, let limit) = request, let stream {
                stream(statusStream(line: line, limit: limit))
                return
            }
            perform(request, from: peer, signed: signed, reply: reply)
        }
    }

    /// The reply to a line on the stream socket that was over the length limit (and discarded unread).
    public func refuseTooLong(_ length: Int, from peer: Peer) -> Reply {
        refuse(
            WireError(.tooLong, "message of \(length) bytes; at most \(WireMessage.maximumLength) are allowed"),
            from: peer
        )
    }

    func refuse(_ error: WireError, from peer: Peer) -> Reply {
        state.withLock { state in
            let now = clock.now
            if let warning = state.rejections.record(
                source: peer.sender,
                code: error.code.rawValue,
                reason: error.reason,
                at: now
            ) {
                journal.submit(
                    .daemon(
                        warning,
                        priority: .warning,
                        id: MessageID.rejectedInput,
                        fields: [(.source, peer.source), (.error, error.code.rawValue)]
                    )
                )
            }
        }
        return .error(error)
    }

    /// Counts an error of one datagram or one connection (a reply that could not be sent, a failed read); at most
    /// one journal warning per peer host per minute. The listener goes on.
    public func peerError(_ code: String, _ what: String, peer: String, host: String) {
        let warning = peerErrors.withLock { $0.record(source: host, code: code, reason: what, at: clock.now) }
        guard let warning else { return }
        journal.submit(
            .daemon(
                warning,
                priority: .warning,
                id: MessageID.peerError,
                fields: [(.source, peer)]
            )
        )
    }

    private func perform(
        _ request: Request,
        from peer: Peer,
        signed: MessageSigning.Signed? = nil,
        reply: @escaping @Sendable (Reply) -> Void
    ) {
        switch request {
        case .signal(let signal, let sequence, let drill):
            // The canonical form; a signed one keeps its ts= and sig=, so that the log knows what was taken.
            let message =
                request.message.rendered
                + (signed.map { " ts=\($0.timestamp) sig=\(MessageSigning.hex($0.signature))" } ?? "")
            signalReceived(
                signal,
                sequence: sequence,
                drill: drill,
                message: message,
                signed: signed,
                from: peer,
                reply: reply
            )
        case .acknowledge(let id, let note):
            act(.acknowledge(id, note: note), on: id, message: request.message.rendered, from: peer, reply: reply)
        case .resolve(let id, let note):
            act(.resolve(id, note: note), on: id, message: request.message.rendered, from: peer, reply: reply)
        case .escalate(let id, let reason):
            act(.escalate(id, reason: reason), on: id, message: request.message.rendered, from: peer, reply: reply)
        case .arrive(let id, let note):
            act(.arrive(id, note: note), on: id, message: request.message.rendered, from: peer, reply: reply)
        case .status(let line, let limit):
            // Off the event loop: rendering 100,000 calls takes seconds, and UDP shares the loops.
            reports.async { [self] in reply(.ok(["json": statusJSON(line: line, limit: limit)])) }
        case .who(let line, let station, let category, let stop, let at):
            reply(who(line: line, station: station, category: category, stop: stop, at: at))
        case .reload:
            reload(from: peer, reply: reply)
        case .ping:
            let udp = state.withLock { $0.udpAddresses }
            reply(
                .ok([
                    "version": andondVersion, "pid": String(getpid()),
                    "udp": udp.isEmpty ? nil : udp.joined(separator: ","),
                ])
            )
        }
    }

    private func signalReceived(
        _ signal: Signal,
        sequence: UInt64?,
        drill: Bool,
        message: String,
        signed: MessageSigning.Signed?,
        from peer: Peer,
        reply: @escaping @Sendable (Reply) -> Void
    ) {
        enum Answer {
            case refused(WireError)
            case queued
        }
        let answer: Answer = state.withLock { state in
            let now = clock.now
            // Who may send for the line over UDP, first: a message from elsewhere, or a signed one seen already, is
            // refused even when it repeats one that was taken (a captured datagram sent again is not a retransmit).
            if case .udp = peer,
                var refusal = state.senders.refusal(
                    for: signal.line,
                    from: peer.sender,
                    signed: signed,
                    configuration: state.configuration,
                    at: now
                )
            {
                refusal.sequence = sequence
                return .refused(refusal)
            }
            // A retransmit is the same message less its signature: re-signed with a fresh ts=, it is still one signal.
            if let sequence,
                let remembered = state.window.reply(
                    line: signal.line,
                    sequence: sequence,
                    message: SequenceWindow.retransmitted(message),
                    at: now
                )
            {
                // A retransmit: the same reply, no second effect, sent once the first one is on disk.
                state.retransmits += 1
                committer.afterCommit { reply(Reply.parse(remembered).get(or: .ok([]))) }
                return .queued
            }
            if let sender = peer.localSender, let refusal = state.engine.plant.authorize(signal, from: sender) {
                return .refused(WireError(.notAuthorized, refusal.message, sequence: sequence))
            }
            // Before the engine changes: what it takes must reach the disk, and the disk takes nothing now.
            guard committer.admits() else { return .refused(Self.storageFailing(sequence: sequence)) }
            let input = EngineInput.signal(
                signal,
                sequence: sequence,
                drill: drill,
                source: peer.source,
                message: message
            )
            let result = EngineInput.receive(
                signal,
                sequence: sequence,
                drill: drill,
                source: peer.source,
                in: &state.engine,
                at: now
            )
            let answer = Reply.signal(result, sequence: sequence, plant: state.engine.plant)
            if case .error(let error) = answer {
                // Refused: no effect but the time, whose events are logged as a tick.
                record(.tick, at: now, events: result.events, in: &state, deliver: nil)
                return .refused(error)
            }
            state.window.remember(answer, to: input, at: now)
            record(input, at: now, events: result.events, in: &state) { reply(answer) }
            return .queued
        }
        if case .refused(let error) = answer { reply(refuse(error, from: peer)) }
    }

    /// The actor a UNIX peer acts as: root and the daemon's own user as administrators, others as the responder
    /// their Unix user maps to.
    func actor(for peer: Peer, plant: Plant) -> Result<Actor, WireError> {
        guard case .unix(let credentials, let userName, _) = peer else {
            return .failure(
                WireError(.notAuthorized, "acknowledging and resolving are accepted only on the UNIX socket")
            )
        }
        if credentials.uid == 0 { return .success(.administrator(user: "root")) }
        guard let user = userName else {
            return .failure(
                WireError(.notAuthorized, "uid \(credentials.uid) has no user name, so it maps to no responder")
            )
        }
        guard let responder = plant.responder(forUser: user) else {
            return .failure(
                WireError(
                    .notAuthorized,
                    "user \(user) (uid \(credentials.uid)) is not a responder in the configuration; "
                        + "responders are mapped to Unix users under responders:"
                )
            )
        }
        return .success(.responder(responder.id))
    }

    private func act(
        _ action: EngineInput.Action,
        on id: IncidentID,
        message: String,
        from peer: Peer,
        reply: @escaping @Sendable (Reply) -> Void
    ) {
        let immediate: Reply? = state.withLock { state in
            let actor: Actor
            switch self.actor(for: peer, plant: state.engine.plant) {
            case .success(let found): actor = found
            case .failure(let error): return .error(error)
            }
            guard committer.admits() else { return .error(Self.storageFailing(sequence: nil)) }
            let now = clock.now
            let input = EngineInput.action(action, actor: actor, message: message)
            let result = EngineInput.perform(action, by: actor, in: &state.engine, at: now)
            switch result.result {
            case .failure(let error):
                record(.tick, at: now, events: result.events, in: &state, deliver: nil)
                return .error(WireError(WireError.Code(rawValue: error.code.rawValue), error.message))
            case .success(let incident):
                let event = result.events.last { $0.incident == id }
                let answer = Reply.ok([
                    "incident": id.description, "event": event?.kind.rawValue,
                    "tier": incident?.tierName, "by": event?.by.map { state.engine.plant.userName(of: $0) },
                ])
                record(input, at: now, events: result.events, in: &state) { reply(answer) }
                return nil
            }
        }
        if let immediate { reply(immediate) }
    }

    private func who(line: LineID, station: StationID?, category: AndonCore.Category?, stop: Bool, at: String?) -> Reply
    {
        let plant = state.withLock { $0.engine.plant }
        var instant = clock.now
        if let at {
            if let local = LocalDateTime(parsing: at), let gap = plant.timeZone.gap(at: local) {
                return .error(WireError(.badValue, gap))
            }
            guard let parsed = plant.timeZone.parseInstant(at) else {
                return .error(WireError(.badValue, "at must be a local \"YYYY-MM-DD HH:MM\" or an ISO 8601 instant"))
            }
            instant = parsed
        }
        guard stop || category != nil else {
            return .error(WireError(.missingField, "who needs category= for an andon or stop=yes for a line stop"))
        }
        switch plant.chain(line: line, station: station, category: category, stop: stop, at: instant) {
        case .success(let chain): return json(WhoReport(chain: chain, plant: plant))
        case .failure(let rejection):
            return .error(WireError(WireError.Code(rawValue: rejection.code.rawValue), rejection.message))
        }
    }

    static func storageFailing(sequence: UInt64?) -> WireError {
        WireError(
            .storageFailing,
            "andond cannot write its state and holds as many inputs as it may until it can; nothing was taken: resend",
            sequence: sequence
        )
    }

    func json(_ value: some Encodable) -> Reply {
        .ok(["json": JSONWriter.encode(value)])
    }

    // MARK: Timer, log and journal

    /// A health probe for the watchdog: passes when the timer's event loop runs and the engine's lock is free.
    public func probe(within timeout: Duration) async -> Bool {
        await completes(timerLoop.submit { [self] in state.withLock { $0.engine.openIncidentCount } }, within: timeout)
    }

    private func tick() {
        state.withLock { state in
            guard !state.stopped else { return }
            state.armedDeadline = nil
            state.timer = nil
            let now = clock.now
            let events = EngineInput.tick.apply(to: &state.engine, at: now).events
            record(.tick, at: now, events: events, in: &state, deliver: nil)
            rearm(&state)
        }
    }

    /// Appends an input with an effect to the pending batch (a tick only when it had events), with its events'
    /// journal entries; `deliver` runs once it is on disk. Re-arms the timer and adds a snapshot when one is due.
    func record(
        _ input: EngineInput,
        at now: Instant,
        events: [Event],
        in state: inout State,
        deliver: (@Sendable () -> Void)?
    ) {
        // A tick that moved a handover on changed the state even with no events: it must be replayed as it was.
        let swept = state.engine.sweepChunks != state.sweepChunksRecorded
        state.sweepChunksRecorded = state.engine.sweepChunks
        if input.isTick, events.isEmpty, !swept {
            if let deliver { committer.afterCommit(deliver) }
            return
        }
        let plant = state.engine.plant
        // Events of one input share an instant, mostly: the shift is looked up once, not per entry.
        var shift: ShiftOccurrence?
        let entries = events.map { event in
            if shift.map({ !$0.contains(event.at) }) ?? true { shift = plant.calendar.occurrence(at: event.at) }
            var entry = JournalEntry(event: event, plant: plant, shift: shift)
            let late = now.duration(since: event.at)
            if late > .zero || input.isTick {
                entry.add(.late, late.milliseconds)
            }
            return entry
        }
        if committer.append(input, at: now, entries: entries, deliver: deliver) {
            committer.attachSnapshot(
                engine: state.engine,
                window: state.window,
                configuration: state.configuration,
                at: now
            )
        }
        if !events.isEmpty { statusChanged.yield() }
        rearm(&state)
    }

    /// Keeps exactly one timer, for the engine's next deadline.
    func rearm(_ state: inout State) {
        let next = state.engine.nextDeadline
        guard !state.stopped, next != state.armedDeadline || state.timer == nil else { return }
        state.timer?.cancel()
        state.timer = nil
        state.armedDeadline = next
        guard let next else { return }
        let delay = max(0, next.millisecondsSinceEpoch - clock.now.millisecondsSinceEpoch)
        state.timer = timerLoop.scheduleTask(in: .milliseconds(delay)) { [weak self] in self?.tick() }
    }
}

extension Result {
    fileprivate func get(or fallback: Success) -> Success { (try? get()) ?? fallback }
}

/// andond's version, reported by `ping` and `--version`.
public let andondVersion = "0.5.0"
