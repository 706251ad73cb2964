import AndonConfig
import AndonCore
import AndonProtocol
import AndonSystemd
import Foundation
import NIOCore
import Synchronization

/// The daemon's one owner of the escalation engine.
///
/// Every message, from any socket, goes through `handle(_:from:)`: parse, authorise, apply to the engine at the
/// current time, queue the events for the journal (never blocking), re-arm the one timer for the engine's next
/// deadline, and return the reply. The engine is behind a mutex: its operations take microseconds, so ingest never
/// hops threads for it.
public final class Dispatcher: Sendable {
    struct State: Sendable {
        var engine: EscalationEngine
        var configuration: Configuration
        var rejections = RejectionLog()
        var armedDeadline: Instant?
        var timer: Scheduled<Void>?
        var stopped = false
        /// Messages received on any socket, good or bad.
        var handled = 0
        var numbers: IncidentNumbers
        var udpAddresses: [String] = []
        /// The status line last handed to the service manager.
        var publishedStatus: String?
    }

    private let state: Mutex<State>
    let clock: any AndonClock
    let journal: JournalWriter
    let timerLoop: any EventLoop
    /// The daemon's own uid: `andonctl reload` run by systemd's ExecReload= comes from it.
    let ownUID: UInt32
    /// Where andond listens; a reload cannot change it.
    let listenAtStart: ListenSettings
    /// Writes incident-number reservations off the event loops.
    private let reservations = DispatchQueue(label: "andond.incident-numbers")
    /// Yields when what `statusLine()` shows may have changed: events were published, or the configuration was
    /// swapped. Pokes collapse into one while nobody reads them.
    public let statusChanges: AsyncStream<Void>
    private let statusChanged: AsyncStream<Void>.Continuation

    public init(
        configuration: Configuration,
        clock: any AndonClock,
        journal: JournalWriter,
        timerLoop: any EventLoop,
        stateDirectory: String?
    ) {
        let now = clock.now
        let numbers = IncidentNumbers(stateDirectory: stateDirectory, now: now.date)
        if let warning = numbers.warning { journal.submit(.daemon(warning, priority: .warning)) }
        let engine = EscalationEngine(plant: configuration.plant, startingAt: now, firstIncidentNumber: numbers.first)
        self.state = Mutex(State(engine: engine, configuration: configuration, numbers: numbers))
        self.clock = clock
        self.journal = journal
        self.timerLoop = timerLoop
        self.ownUID = getuid()
        self.listenAtStart = configuration.listen
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

    /// Cancels the timer; later messages are still answered (shutdown closes the sockets first).
    public func stop() {
        state.withLock { state in
            state.stopped = true
            state.timer?.cancel()
            state.timer = nil
            state.numbers.finish(next: state.engine.nextIncidentNumber)
        }
    }

    // MARK: Messages

    /// Handles one message from a controller or andonctl and returns the reply.
    public func handle(_ bytes: some Collection<UInt8>, from peer: Peer) -> Reply {
        state.withLock { $0.handled += 1 }
        switch Request.parse(bytes) {
        case .failure(let error):
            return refuse(error, from: peer)
        case .success(let request):
            if request.isControl, case .udp = peer {
                return refuse(
                    WireError(.notAuthorized, "control requests are accepted only on the UNIX socket"),
                    from: peer
                )
            }
            return perform(request, from: peer)
        }
    }

    /// The reply to a line on the stream socket that was over the length limit (and discarded unread).
    public func refuseTooLong(_ length: Int, from peer: Peer) -> Reply {
        refuse(
            WireError(.tooLong, "message of \(length) bytes; at most \(WireMessage.maximumLength) are allowed"),
            from: peer
        )
    }

    private func refuse(_ error: WireError, from peer: Peer) -> Reply {
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
                        fields: [("ANDON_SOURCE", peer.source), ("ANDON_ERROR", error.code.rawValue)]
                    )
                )
            }
        }
        return .error(error)
    }

    private func perform(_ request: Request, from peer: Peer) -> Reply {
        switch request {
        case .signal(let signal, let sequence):
            let reply: Reply = state.withLock { state in
                let outcome = state.engine.receive(
                    signal,
                    at: clock.now,
                    origin: SignalOrigin(source: peer.source, sequence: sequence)
                )
                publish(outcome.events, in: &state)
                rearm(&state)
                return .signal(outcome, sequence: sequence, plant: state.engine.plant)
            }
            if case .error(let error) = reply { return refuse(error, from: peer) }
            return reply
        case .acknowledge(let id, let note):
            return act(on: id, from: peer) { engine, actor, now in
                engine.acknowledge(id, by: actor, note: note, at: now)
            }
        case .resolve(let id, let note):
            return act(on: id, from: peer) { engine, actor, now in engine.resolve(id, by: actor, note: note, at: now) }
        case .escalate(let id, let reason):
            return act(on: id, from: peer) { engine, actor, now in
                engine.escalate(id, by: actor, reason: reason, at: now)
            }
        case .status:
            return json(status())
        case .who(let line, let station, let category, let stop, let at):
            return who(line: line, station: station, category: category, stop: stop, at: at)
        case .reload:
            return reload(from: peer)
        case .ping:
            let udp = state.withLock { $0.udpAddresses }
            return .ok([
                "version": andondVersion, "pid": String(getpid()),
                "udp": udp.isEmpty ? nil : udp.joined(separator: ","),
            ])
        }
    }

    /// The actor a UNIX peer acts as: root and the daemon's own user as administrators, others as the responder
    /// their Unix user maps to.
    func actor(for peer: Peer, plant: Plant) -> Result<Actor, WireError> {
        guard case .unix(let credentials, let userName) = peer else {
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
        on id: IncidentID,
        from peer: Peer,
        _ body: (inout EscalationEngine, Actor, Instant) -> ActionOutcome
    ) -> Reply {
        state.withLock { state in
            let actor: Actor
            switch self.actor(for: peer, plant: state.engine.plant) {
            case .success(let found): actor = found
            case .failure(let error): return .error(error)
            }
            let outcome = body(&state.engine, actor, clock.now)
            publish(outcome.events, in: &state)
            rearm(&state)
            switch outcome.result {
            case .failure(let error):
                return .error(WireError(WireError.Code(rawValue: error.code.rawValue), error.message))
            case .success(let incident):
                let event = outcome.events.last { $0.incident == id }
                return .ok([
                    "incident": id.description, "event": event?.kind.rawValue,
                    "tier": incident?.tierName, "by": event?.by.map { state.engine.plant.responderUser(of: $0) },
                ])
            }
        }
    }

    // MARK: Reports

    public func status() -> StatusReport {
        state.withLock { state in
            let now = clock.now
            let plant = state.engine.plant
            let incidents = state.engine.openIncidents.map { incident in
                IncidentReport(
                    incident: incident,
                    plant: plant,
                    now: now,
                    tiers: plant.policy(incident.policy).tiers.count
                )
            }
            var counters = state.rejections.totals.reduce(into: [String: Int]()) { $0["rejected-\($1.key)"] = $1.value }
            let journal = journal.statistics
            counters["messages"] = state.handled
            counters["journal-written"] = journal.written
            counters["journal-dropped"] = journal.dropped
            counters["journal-failed"] = journal.failed
            return StatusReport(
                site: plant.name,
                now: now.millisecondsSinceEpoch,
                incidents: incidents,
                counters: counters
            )
        }
    }

    private func who(line: LineID, station: StationID?, category: AndonCore.Category?, stop: Bool, at: String?) -> Reply
    {
        let plant = state.withLock { $0.engine.plant }
        var instant = clock.now
        if let at {
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

    private func json(_ value: some Encodable) -> Reply {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        // Encoding plain Codable structs of strings and numbers cannot fail.
        let data = try! encoder.encode(value)
        return .ok(["json": String(decoding: data, as: UTF8.self)])
    }

    // MARK: Timer and journal

    /// A health probe for the watchdog: passes when the timer's event loop runs and the engine's lock is free.
    public func probe(within timeout: Duration) async -> Bool {
        await completes(timerLoop.submit { [self] in state.withLock { $0.engine.openIncidentCount } }, within: timeout)
    }

    private func tick() {
        state.withLock { state in
            guard !state.stopped else { return }
            state.armedDeadline = nil
            state.timer = nil
            publish(state.engine.advance(to: clock.now), in: &state)
            rearm(&state)
        }
    }

    /// Keeps exactly one timer, for the engine's next deadline.
    private func rearm(_ state: inout State) {
        if let due = state.numbers.reservationDue(next: state.engine.nextIncidentNumber) {
            reservations.async { [self] in
                let succeeded = IncidentNumbers.write(due.value, to: due.file)
                let reason = succeeded ? "" : String(cString: strerror(errno))
                self.state.withLock { $0.numbers.reservationWritten(due.value, succeeded: succeeded) }
                if !succeeded {
                    journal.submit(
                        .daemon(
                            "cannot write \(due.file) (\(reason)): incident numbers may repeat after a restart",
                            priority: .error
                        )
                    )
                }
            }
        }
        let next = state.engine.nextDeadline
        guard !state.stopped, next != state.armedDeadline || state.timer == nil else { return }
        state.timer?.cancel()
        state.timer = nil
        state.armedDeadline = next
        guard let next else { return }
        let delay = max(0, next.millisecondsSinceEpoch - clock.now.millisecondsSinceEpoch)
        state.timer = timerLoop.scheduleTask(in: .milliseconds(delay)) { [weak self] in self?.tick() }
    }

    private func publish(_ events: [Event], in state: inout State) {
        guard !events.isEmpty else { return }
        let plant = state.engine.plant
        for event in events { journal.submit(JournalEntry(event: event, plant: plant)) }
        statusChanged.yield()
    }

    // MARK: Reload

    private func reload(from peer: Peer) -> Reply {
        guard case .unix(let credentials, _) = peer, credentials.uid == 0 || credentials.uid == ownUID else {
            return .error(WireError(.notAuthorized, "only root and andond's own user may reload the configuration"))
        }
        return reload(trigger: "andonctl reload by \(peer.source)")
    }

    /// Reads the configuration file again. A valid one is swapped in atomically (open incidents keep their state);
    /// an invalid one is refused with every positioned error, and the running configuration stays.
    public func reload(trigger: String) -> Reply {
        let notifier = Notifier()
        notifier.notify("RELOADING=1\nMONOTONIC_USEC=\(monotonicMicroseconds())\nSTATUS=Reloading the configuration")
        defer { notifier.notify("READY=1\nSTATUS=\(publishStatus().line)") }
        let path = configuration.file
        let loaded: Configuration
        do {
            loaded = try ConfigurationLoader.load(path: path, now: clock.now)
        } catch {
            let errors = error.errors
            let lines = error.diagnostics.map(\.description)
            var entry = JournalEntry.daemon(
                "configuration reload refused (\(trigger)): \(errors.count) error\(errors.count == 1 ? "" : "s") in \(path); "
                    + "the configuration in use is unchanged. First: \(errors.first?.description ?? "?")",
                priority: .error,
                id: MessageID.reloadRejected,
                fields: [("ANDON_CONFIG", path)]
            )
            for line in lines { entry.add("ANDON_CONFIG_ERROR", line) }
            journal.submit(entry)
            return .error(
                WireError(
                    .invalidConfiguration,
                    "\(errors.count) error\(errors.count == 1 ? "" : "s") in \(path); the configuration in use is unchanged",
                    details: lines
                )
            )
        }
        return state.withLock { state in
            let old = state.engine.plant
            publish(state.engine.reconfigure(loaded.plant, at: clock.now), in: &state)
            state.configuration = loaded
            rearm(&state)
            statusChanged.yield()  // the KPO on duty may be someone else now
            let changes = loaded.plant.changes(from: old)
            var notes = changes
            if loaded.listen != listenAtStart {
                notes.append("listen: changes apply at the next restart")
            }
            var entry = JournalEntry.daemon(
                "configuration reloaded (\(trigger)): "
                    + (changes.isEmpty
                        ? "no changes"
                        : "\(changes.count) change\(changes.count == 1 ? "" : "s"): " + changes.joined(separator: "; ")),
                priority: .notice,
                id: MessageID.reloaded,
                fields: [("ANDON_CONFIG", path)]
            )
            for change in notes { entry.add("ANDON_CHANGE", change) }
            for warning in loaded.warnings { entry.add("ANDON_CONFIG_WARNING", warning.description) }
            journal.submit(entry)
            return .ok([
                "changes": String(changes.count), "warnings": String(loaded.warnings.count),
                "details": notes.isEmpty ? nil : Reply.encodeLines(notes + loaded.warnings.map(\.description)),
            ])
        }
    }

    /// One line for `systemctl status`: open calls, line stops and their age, who is KPO now.
    /// How long `statusLine()` stays true if no event happens: while a line stop is open its age ticks (2 s);
    /// otherwise until the KPO duty may change next, looked up to an hour ahead.
    public func statusValidity() -> Duration {
        state.withLock { state in
            if state.engine.openSummary.oldestStop != nil { return .seconds(2) }
            let now = clock.now
            let plant = state.engine.plant
            let next = plant.rotas[.kpo]?.changePoints(from: now, to: now + .seconds(3600), calendar: plant.calendar)
                .first { $0 > now }
            return next.map { $0.duration(since: now) } ?? .seconds(3600)
        }
    }

    /// Makes the status refresher look again (its timer, and the first line at start).
    func pokeStatus() { statusChanged.yield() }

    /// The status line for `STATUS=`, and whether it differs from the one last published (which it now becomes).
    public func publishStatus() -> (line: String, changed: Bool) {
        state.withLock { state in
            let line = statusLine(state)
            defer { state.publishedStatus = line }
            return (line, line != state.publishedStatus)
        }
    }

    public func statusLine() -> String {
        state.withLock { statusLine($0) }
    }

    private func statusLine(_ state: State) -> String {
        let now = clock.now
        let summary = state.engine.openSummary
        var parts = ["\(summary.open) open call\(summary.open == 1 ? "" : "s")"]
        if let oldest = summary.oldestStop {
            let lines = summary.stoppedLines.map(\.rawValue).sorted().joined(separator: ",")
            parts.append("LINE STOP \(lines) for \(now.duration(since: oldest).roundedDescription)")
        }
        if summary.atKPO > 0 { parts.append("\(summary.atKPO) at KPO") }
        let plant = state.engine.plant
        let kpo = plant.duty(of: .kpo, at: now, shift: plant.calendar.occurrence(at: now)?.shift).responders
        parts.append(
            "KPO on duty: "
                + (kpo.isEmpty ? "NOBODY" : kpo.map { plant.displayName(of: $0) }.joined(separator: ", "))
        )
        return parts.joined(separator: "; ")
    }
}

/// Whether `future` succeeds within `timeout` (for health probes: a wedged event loop never runs it).
func completes<Value: Sendable>(_ future: EventLoopFuture<Value>, within timeout: Duration) async -> Bool {
    await withTaskGroup(of: Bool.self) { group in
        group.addTask { (try? await future.get()) != nil }
        group.addTask {
            try? await Task.sleep(for: timeout)
            return false
        }
        let first = await group.next() ?? false
        group.cancelAll()
        return first
    }
}

private func monotonicMicroseconds() -> UInt64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec) / 1000
}

/// andond's version, reported by `ping` and `--version`.
public let andondVersion = "0.2.0"
