import AndonConfig
import AndonCore
import AndonProtocol
import AndonStore
import AndonSystemd

/// The admission stage: what one inbound message may become, decided before the engine sees it. Pure: it parses
/// once (the signature split included), applies who may send what, and returns a verdict; the sender checks' memory
/// (replaced keys, signatures taken) is passed in and out.
///
/// The retransmit window is looked up by the escalation stage, under its lock, because a retransmit must be answered
/// from the same state its first copy changed; admission gives it the message a retransmit repeats.
enum Admission {
    /// The verdict on one message.
    enum Verdict: Sendable {
        /// Refused before anything changed: the reply, counted and rate-limited in the journal (bad input).
        case refuse(WireError)
        /// A person's request that may not be done (not a responder, not root): answered, not counted.
        case deny(WireError)
        /// A controller's signal for the engine. `message` is its canonical form as the log keeps it (a signed one
        /// with its ts= and sig=); `refusal`, when the sender may not raise it, answers unless it is a retransmit.
        case signal(Signal, sequence: UInt64?, drill: Bool, source: String, message: String, refusal: WireError?)
        /// A responder's action, by the actor the peer maps to.
        case action(EngineInput.Action, on: IncidentID, actor: Actor, message: String)
        /// A responder's or root's action on a line's shelves or stations (`shelve`, `out-of-service`, ...).
        case plantAction(EngineInput.Action, actor: Actor, message: String)
        /// A controller's question for its line's lights (`state?`), from an address that may send for the line.
        case query(line: LineID, station: StationID?, sequence: UInt64?)
        /// A control request answered from a copy of the engine, or a reload.
        case control(Request)
        /// An acknowledge link's token, checked: the acknowledgement it stands for (`message`, as the log keeps it),
        /// once the token is found unused.
        case token(AckToken, message: String)
    }

    /// Decides on `bytes` from `peer`, at `now`, under `configuration`. `ownUID` is andond's own uid (systemd's
    /// ExecReload= runs `andonctl reload` as it).
    static func admit(
        _ bytes: some Collection<UInt8>,
        from peer: Peer,
        configuration: Configuration,
        senders: inout SenderChecks,
        ownUID: UInt32,
        at now: Instant
    ) -> Verdict {
        let request: Request
        switch Request.parse(bytes) {
        case .failure(let error): return .refuse(error.echoing(sequenceIn: bytes))
        case .success(let parsed): request = parsed
        }
        if request.isControl, case .udp = peer {
            return .refuse(WireError(.notAuthorized, "control requests are accepted only on the UNIX socket"))
        }
        // The web face changes nothing but through an acknowledge link.
        if case .http = peer {
            guard case .acknowledgeByToken = request else {
                return .deny(WireError(.notAuthorized, "over HTTP, only an acknowledge link is accepted"))
            }
        }
        let plant = configuration.plant
        func action(_ action: EngineInput.Action, on id: IncidentID) -> Verdict {
            switch actor(for: peer, plant: plant) {
            case .failure(let error): .deny(error)
            case .success(let actor): .action(action, on: id, actor: actor, message: request.message.rendered)
            }
        }
        switch request {
        case .signal(let signal, let sequence, let drill):
            // A signed UDP signal: its signature is checked against the line's key (the UNIX socket has credentials).
            let signed: MessageSigning.Signed? = if case .udp = peer { MessageSigning.split(bytes) } else { nil }
            // Who may send for the line over UDP, first: a message from elsewhere, or a signed one seen already, is
            // refused even when it repeats one that was taken (a captured datagram sent again is not a retransmit).
            if case .udp = peer,
                var refusal = senders.refusal(
                    for: signal.line,
                    from: peer.sender,
                    signed: signed,
                    configuration: configuration,
                    at: now
                )
            {
                refusal.sequence = sequence
                return .refuse(refusal)
            }
            // The canonical form; a signed one keeps its ts= and sig=, so that the log knows what was taken.
            let message =
                request.message.rendered
                + (signed.map { " ts=\($0.timestamp) sig=\(MessageSigning.hex($0.signature))" } ?? "")
            let refusal = peer.localSender.flatMap { plant.authorize(signal, from: $0) }.map {
                WireError(.notAuthorized, $0.message, sequence: sequence)
            }
            return .signal(
                signal,
                sequence: sequence,
                drill: drill,
                source: peer.source,
                message: message,
                refusal: refusal
            )
        case .shelve, .unshelve, .outOfService, .inService:
            guard let plantAction = EngineInput.Action(request) else {
                return .refuse(WireError(.badValue, "not an action"))
            }
            switch actor(for: peer, plant: plant) {
            case .failure(let error): return .deny(error)
            case .success(let actor): return .plantAction(plantAction, actor: actor, message: request.message.rendered)
            }
        case .stateQuery(let line, let station, let sequence):
            if case .failure(let rejection) = plant.line(line) {
                return .refuse(WireError(.unknownLine, rejection.message, sequence: sequence))
            }
            // Over UDP, the line's lights go only to those who may send for it (its senders:, its key).
            if case .udp = peer,
                var refusal = senders.refusal(
                    for: line,
                    from: peer.sender,
                    signed: MessageSigning.split(bytes),
                    configuration: configuration,
                    at: now
                )
            {
                refusal.sequence = sequence
                return .refuse(refusal)
            }
            return .query(line: line, station: station, sequence: sequence)
        case .subscribe(let line):
            if let line, case .failure(let rejection) = plant.line(line) {
                return .refuse(WireError(.unknownLine, rejection.message))
            }
            return .control(request)
        case .acknowledge(let id, let note): return action(.acknowledge(id, note: note), on: id)
        case .resolve(let id, let note): return action(.resolve(id, note: note), on: id)
        case .escalate(let id, let reason): return action(.escalate(id, reason: reason), on: id)
        case .arrive(let id, let note): return action(.arrive(id, note: note), on: id)
        case .reload:
            guard case .unix(let credentials, _, _) = peer, credentials.uid == 0 || credentials.uid == ownUID else {
                return .deny(WireError(.notAuthorized, "only root and andond's own user may reload the configuration"))
            }
            return .control(request)
        case .acknowledgeByToken(let text):
            guard let key = configuration.ackKey else {
                return .deny(WireError(.badValue, "this plant has no acknowledge links (notify: ack_key_file:)"))
            }
            switch AckToken.decode(text, key: key.bytes, now: now.millisecondsSinceEpoch / 1000) {
            case .failure(let error): return .deny(error)
            case .success(let token):
                let message = Request.acknowledge(token.incident, note: AckToken.note).message.rendered
                return .token(token, message: message)
            }
        case .status, .who, .ping, .deliveries:
            return .control(request)
        case .claim, .report:
            guard case .unix(let credentials, let user, _) = peer,
                credentials.uid == 0 || credentials.uid == ownUID || user == configuration.notify.user
            else {
                return .deny(
                    WireError(
                        .notAuthorized,
                        "only root, andond's own user and andon-notify's (notify.user: \(configuration.notify.user)) "
                            + "may claim and report deliveries"
                    )
                )
            }
            return .control(request)
        case .notifyTest(let responder):
            guard case .unix(let credentials, let user, _) = peer,
                credentials.uid == 0 || user.map({ plant.responder(forUser: $0)?.id == responder }) == true
            else {
                return .deny(WireError(.notAuthorized, "only root and \(responder) may send \(responder) a test"))
            }
            return .control(request)
        }
    }

    /// The actor a UNIX peer acts as: root as an administrator, others as the responder their Unix user maps to.
    static func actor(for peer: Peer, plant: Plant) -> Result<Actor, WireError> {
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

    /// The reply to a message longer than the limit (a stream line discarded unread, a datagram cut to its buffer).
    static func tooLong(_ length: Int) -> WireError {
        WireError(.tooLong, "message of \(length) bytes; at most \(WireMessage.maximumLength) are allowed")
    }
}
