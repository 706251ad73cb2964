import AndonConfig
import AndonCore
import AndonProtocol
import AndonStore
import AndonSystemd
import Synchronization

/// A message's path through andond's stages: admission decides what it may become, the escalation stage applies it
/// and hands what changed to the commit stage, control answers andonctl's requests. The listeners (ingest) call
/// `handle` from their own threads; `reply` gets the answer at once for a refusal, after the commit for an effect, on
/// whichever thread that happens. This type only routes: each decision is a stage's.
package final class SignalPath: Sendable {
    let admission: AdmissionStage
    let escalation: EscalationService
    let committer: Committer
    let reload: ReloadService
    let peerErrors: PeerErrors
    let notifications: DeliveryService
    let journal: any JournalSink
    let clock: any AndonClock
    /// Counters of what comes in and goes out (the web face's `/metrics`).
    let metrics: DaemonMetrics
    /// The line's side: what became of the calls, told to the stations.
    package let feedback: FeedbackService
    /// Messages received on any socket, good or bad; UDP datagrams dropped over their source's budget.
    let handled = Atomic<Int>(0)
    let droppedOverBudget = Atomic<Int>(0)
    /// Calls open when andond started.
    let restored: Int
    /// The UDP and HTTP addresses andond listens on, for `ping`.
    private let udp = Mutex<[String]>([])
    private let http = Mutex<[String]>([])

    init(
        admission: AdmissionStage,
        escalation: EscalationService,
        committer: Committer,
        reload: ReloadService,
        peerErrors: PeerErrors,
        notifications: DeliveryService,
        metrics: DaemonMetrics,
        feedback: FeedbackService,
        restored: Int
    ) {
        self.metrics = metrics
        self.feedback = feedback
        self.notifications = notifications
        self.admission = admission
        self.escalation = escalation
        self.committer = committer
        self.reload = reload
        self.peerErrors = peerErrors
        self.journal = admission.journal
        self.clock = admission.clock
        self.restored = restored
    }

    /// Handles one message from a controller or andonctl. `stream`, when given, takes a `status` answer instead of
    /// `reply`, to be written in pieces (the UNIX socket). `connection`, a UNIX connection's, takes the `state` lines of
    /// a subscription.
    package func handle(
        _ bytes: some Collection<UInt8>,
        from peer: Peer,
        connection: PushConnection? = nil,
        stream: (@Sendable (StatusStream) -> Void)? = nil,
        reply: @escaping @Sendable (Reply) -> Void
    ) {
        handled.add(1, ordering: .relaxed)
        switch admission.admit(bytes, from: peer) {
        case .refuse(let error):
            reply(admission.refuse(error, from: peer))
        case .deny(let error):
            reply(.error(error))
        case .signal(let signal, let sequence, let drill, let source, let message, let refusal):
            metrics.signal(signal)
            if refusal == nil { feedback.heard(signal.line, from: peer) }
            let outcome = escalation.signal(
                signal,
                sequence: sequence,
                drill: drill,
                source: source,
                message: message,
                refusal: refusal,
                deliver: reply
            )
            guard outcome.immediate else { return }
            if case .error(let error) = outcome.reply {
                reply(admission.refuse(error, from: peer))
            } else {
                reply(outcome.reply)
            }
        case .action(let action, let id, let actor, let message):
            let outcome = escalation.act(action, on: id, by: actor, message: message, deliver: reply)
            if outcome.immediate { reply(outcome.reply) }
        case .plantAction(let action, let actor, let message):
            let outcome = escalation.actOnPlant(action, by: actor, message: message, deliver: reply)
            if outcome.immediate { reply(outcome.reply) }
        case .token(let token, let message):
            guard notifications.useToken(token.delivery) else {
                reply(.error(WireError(.badValue, "this acknowledge link was used already")))
                return
            }
            let outcome = escalation.act(
                .acknowledge(token.incident, note: AckToken.note),
                on: token.incident,
                by: .responder(token.recipient),
                message: message,
                deliver: reply
            )
            if outcome.immediate {
                notifications.releaseToken(token.delivery)
                reply(outcome.reply)
            } else {
                notifications.recordTokenUsed(token.delivery)
            }
        case .query(let line, let station, let sequence):
            reply(
                feedback.answer(
                    line: line,
                    station: station,
                    sequence: sequence,
                    peer: peer,
                    engine: escalation.engine
                )
            )
        case .control(.subscribe(let line)):
            guard let connection else {
                reply(.error(WireError(.badValue, "subscribe is for a connection to the UNIX socket")))
                return
            }
            let id = feedback.subscribe(line: line, engine: escalation.engine, push: connection.push)
            connection.subscribed(id)
            reply(.ok(["subscribed": line?.rawValue ?? "all"]))
        case .control(.status(let line, let limit)):
            let view = statusView(line: line, limit: limit)
            if let stream { stream(StatusStream(view: view)) } else { reply(.ok(["json": view.json])) }
        case .control(.who(let line, let station, let category, let stop, let at)):
            let engine = escalation.engine
            reply(
                ControlRequests.who(
                    line: line,
                    station: station,
                    category: category,
                    stop: stop,
                    at: at,
                    plant: engine.plant,
                    now: clock.now,
                    standing: engine.standingNote(line: line, station: station, category: category, stop: stop)
                )
            )
        case .control(.ping):
            reply(ControlRequests.ping(udp: udp.withLock { $0 }, http: http.withLock { $0 }))
        case .control(.reload):
            reload.reload(trigger: "andonctl reload by \(peer.source)", reply: reply)
        case .control(.claim(let limit, let wait, let lease)):
            notifications.claim(limit: limit, wait: wait, lease: lease, reply: reply)
        case .control(.report(let report)):
            notifications.report(report, reply: reply)
        case .control(.deliveries(let failed)):
            reply(notifications.listing(failedOnly: failed))
        case .control(.notifyTest(let id)):
            let plant = escalation.engine.plant
            guard let responder = plant.responders[id] else {
                reply(.error(WireError(.badValue, "no responder \(id) in the configuration")))
                return
            }
            notifications.test(responder: responder, plant: plant, wait: .seconds(30), reply: reply)
        case .control:
            reply(.error(WireError(.badValue, "not a control request")))
        }
    }

    /// The reply to a message over the length limit (a stream line discarded unread, a datagram cut to its buffer).
    func refuseTooLong(_ length: Int, from peer: Peer) -> Reply {
        admission.refuse(Admission.tooLong(length), from: peer)
    }

    /// Records the bound UDP addresses, for `ping`.
    func setUDPAddresses(_ addresses: [String]) { udp.withLock { $0 = addresses } }

    /// Records the bound HTTP addresses, for `ping`.
    func setHTTPAddresses(_ addresses: [String]) { http.withLock { $0 = addresses } }

    /// One open call as a board shows it now (nil once it is over).
    func callReport(_ id: IncidentID) -> IncidentReport? {
        let engine = escalation.engine
        guard let incident = engine.incident(id) else { return nil }
        var report = IncidentReport(
            incident: incident,
            plant: engine.plant,
            now: clock.now,
            tiers: engine.plant.policy(incident.policy).tiers.count
        )
        if notifications.incidentsWithFailures.contains(id) { report.notifyFailed = true }
        return report
    }

    /// A copy of the engine and every counter, at one instant.
    package func statusView(line: LineID?, limit: Int?) -> StatusView {
        let engine = escalation.engine
        var counters = admission.refusalTotals.reduce(into: [String: Int]()) { $0["rejected-\($1.key)"] = $1.value }
        counters["messages"] = handled.load(ordering: .relaxed)
        counters["retransmits"] = escalation.retransmits.load(ordering: .relaxed)
        counters["restored"] = restored
        counters["dropped-over-budget"] = droppedOverBudget.load(ordering: .relaxed)
        let journal = journal.statistics
        counters["journal-written"] = journal.written
        counters["journal-dropped"] = journal.dropped
        counters["journal-failed"] = journal.failed
        counters["journal-waiting"] = journal.waiting
        counters["journal-unkept"] = committer.unkeptEntries
        counters["peer-errors"] = peerErrors.total
        counters["feedback-sent"] = feedback.sent.load(ordering: .relaxed)
        counters["feedback-failed"] = feedback.failed.load(ordering: .relaxed)
        counters["deliveries-pending"] = notifications.pendingCount
        return StatusView(
            engine: engine,
            counters: counters,
            now: clock.now,
            line: line,
            limit: limit,
            notifyFailed: notifications.incidentsWithFailures
        )
    }
}
