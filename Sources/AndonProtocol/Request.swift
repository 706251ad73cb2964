import AndonCore

/// A typed request: a controller signal, or a control request from andonctl.
public enum Request: Sendable, Hashable {
    /// A line controller's signal, with its optional sequence number (echoed in the reply and logged as ANDON_SEQ);
    /// a `drill` andon or stop runs its whole chain for real, marked as a drill everywhere (`drill=1`).
    case signal(Signal, sequence: UInt64?, drill: Bool = false)
    /// A controller asks for its line's lights: the open calls of `line` (of `station` only, when given), answered
    /// with a `state` message for each and a summary (docs/protocol.md, "Feedback to the line").
    case stateQuery(line: LineID, station: StationID?, sequence: UInt64?)
    /// A local controller's subscription on the UNIX socket: every change of `line`'s calls (every line's, when nil),
    /// and the lights repeated every `feedback_every`, as `state` lines on the connection.
    case subscribe(line: LineID?)
    /// Open incidents: only those of `line` when given, at most `limit` (the reply counts the rest).
    case status(line: LineID? = nil, limit: Int? = nil)
    case acknowledge(IncidentID, note: String?)
    /// An acknowledgement by an acknowledge link's token (`andonctl ack --token`, the web endpoint): as its
    /// recipient, once.
    case acknowledgeByToken(String)
    case resolve(IncidentID, note: String)
    case escalate(IncidentID, reason: String?)
    /// The responder is at the station.
    case arrive(IncidentID, note: String?)
    /// The chain a call would follow now (or at `at`).
    case who(line: LineID, station: StationID?, category: Category?, stop: Bool, at: String?)
    /// Reload the configuration and report the verdict.
    case reload
    /// Liveness and version.
    case ping
    /// andon-notify: up to `limit` deliveries due now, waiting up to `wait` for one; each is leased for `lease`.
    case claim(limit: Int, wait: Duration, lease: Duration)
    /// andon-notify: the outcome of one attempt of one delivery.
    case report(DeliveryReport)
    /// The pending deliveries and the recent failures (`failed`: only those).
    case deliveries(failed: Bool)
    /// A test notification through each of a responder's channels; answered with each outcome.
    case notifyTest(ResponderID)
    /// Shelve a line's andons (a station's, a category's) for `duration`, or until the open ones are over (nil).
    case shelve(line: LineID, station: StationID?, category: AndonCore.Category?, duration: Duration?, reason: String)
    /// End the line's shelves (those of the station, the category).
    case unshelve(line: LineID, station: StationID?, category: AndonCore.Category?)
    /// Take a station out of service (its cords raise nothing), and put it back.
    case outOfService(line: LineID, station: StationID, reason: String)
    case inService(line: LineID, station: StationID)

    /// True for requests only the UNIX socket accepts.
    public var isControl: Bool {
        switch self {
        case .signal, .stateQuery: false
        default: true
        }
    }

    /// Every verb of the protocol, once: what it is called on the wire and which fields it takes.
    public enum Verb: String, CaseIterable, Sendable {
        case andon, stop, clear, arrived, resume, heartbeat, lost
        case stateQuery = "state?"
        case subscribe
        case status, ack, resolve, escalate, arrive, who, reload, ping
        case claim, report, deliveries
        case notifyTest = "notify-test"
        case shelve, unshelve
        case outOfService = "out-of-service"
        case inService = "in-service"

        /// Whether line controllers send it (over UDP or the UNIX socket); the rest are andonctl's.
        public var isController: Bool {
            switch self {
            case .andon, .stop, .clear, .arrived, .resume, .heartbeat, .lost, .stateQuery: true
            case .subscribe, .status, .ack, .resolve, .escalate, .arrive, .who, .reload, .ping, .claim, .report,
                .deliveries, .notifyTest, .shelve, .unshelve, .outOfService, .inService:
                false
            }
        }

        /// Its fields: required, then optional.
        var fields: (required: [String], optional: [String]) {
            switch self {
            case .andon: (["line", "station", "category"], ["text", "seq", "drill", "ts", "sig"])
            case .stop: (["line"], ["station", "reason", "seq", "drill", "ts", "sig"])
            case .clear: (["line", "station"], ["category", "seq", "ts", "sig"])
            case .arrived: (["line", "station"], ["responder", "seq", "ts", "sig"])
            case .resume, .heartbeat: (["line"], ["seq", "ts", "sig"])
            case .lost: (["line"], ["reason", "seq", "ts", "sig"])
            case .stateQuery: (["line"], ["station", "seq", "ts", "sig"])
            case .subscribe: ([], ["line"])
            case .status: ([], ["line", "limit"])
            case .ack: ([], ["id", "note", "token"])
            case .resolve: (["id", "note"], [])
            case .escalate: (["id"], ["reason"])
            case .arrive: (["id"], ["note"])
            case .who: (["line"], ["station", "category", "stop", "at"])
            case .reload, .ping: ([], [])
            case .claim: ([], ["limit", "wait", "lease"])
            case .report: (["id", "attempt", "outcome"], ["status", "retry_after", "error", "ms"])
            case .deliveries: ([], ["failed"])
            case .notifyTest: (["responder"], [])
            case .shelve: (["line", "reason"], ["station", "category", "for", "until"])
            case .unshelve: (["line"], ["station", "category"])
            case .outOfService: (["line", "station", "reason"], [])
            case .inService: (["line", "station"], [])
            }
        }

        /// The verb of a controller's signal.
        public init(of signal: Signal) {
            switch signal {
            case .andon: self = .andon
            case .stop: self = .stop
            case .clear: self = .clear
            case .arrived: self = .arrived
            case .resume: self = .resume
            case .heartbeat: self = .heartbeat
            case .lost: self = .lost
            }
        }
    }

    public static let controllerVerbs = Verb.allCases.filter(\.isController).map(\.rawValue)

    /// Parses bytes into a typed request, or the error to reply with.
    public static func parse(_ bytes: some Collection<UInt8>) -> Result<Request, WireError> {
        WireMessage.parse(bytes).flatMap { message in Result { () throws(WireError) in try Request(message: message) } }
    }

    /// Types a message: checks its verb, its fields and their values.
    public init(message: WireMessage) throws(WireError) {
        guard let verb = Verb(rawValue: message.verb) else {
            throw WireError(
                .unknownVerb,
                "unknown verb '\(message.verb.prefix(32))'; controllers send \(Self.controllerVerbs.joined(separator: ", "))"
            )
        }
        let schema = verb.fields
        let allowed = schema.required + schema.optional
        if let unknown = message.fields.first(where: { !allowed.contains($0.key) }) {
            throw WireError(
                .unknownField,
                "\(message.verb) takes no field '\(unknown.key.prefix(32))'; it takes \(allowed.joined(separator: ", "))"
            )
        }
        if let missing = schema.required.first(where: { message[$0] == nil }) {
            throw WireError(.missingField, "\(message.verb) needs \(missing)=")
        }
        let fields = Fields(message: message)
        if verb.isController { try fields.signature() }
        switch verb {
        case .andon:
            self = .signal(
                .andon(
                    line: try fields.name("line"),
                    station: try fields.name("station"),
                    category: try fields.category("category")!,
                    text: try fields.text("text")
                ),
                sequence: try fields.sequence(),
                drill: try fields.flag("drill")
            )
        case .stop:
            self = .signal(
                .stop(
                    line: try fields.name("line"),
                    station: try fields.optionalName("station"),
                    reason: try fields.text("reason")
                ),
                sequence: try fields.sequence(),
                drill: try fields.flag("drill")
            )
        case .clear:
            self = .signal(
                .clear(
                    line: try fields.name("line"),
                    station: try fields.name("station"),
                    category: try fields.category("category")
                ),
                sequence: try fields.sequence()
            )
        case .arrived:
            self = .signal(
                .arrived(
                    line: try fields.name("line"),
                    station: try fields.name("station"),
                    responder: try fields.optionalName("responder")
                ),
                sequence: try fields.sequence()
            )
        case .resume:
            self = .signal(.resume(line: try fields.name("line")), sequence: try fields.sequence())
        case .heartbeat:
            self = .signal(.heartbeat(line: try fields.name("line")), sequence: try fields.sequence())
        case .lost:
            self = .signal(
                .lost(line: try fields.name("line"), reason: try fields.text("reason")),
                sequence: try fields.sequence()
            )
        case .stateQuery:
            self = .stateQuery(
                line: try fields.name("line"),
                station: try fields.optionalName("station"),
                sequence: try fields.sequence()
            )
        case .subscribe:
            self = .subscribe(line: try fields.optionalName("line"))
        case .status:
            self = .status(line: try fields.optionalName("line"), limit: try fields.limit())
        case .ack:
            if let token = message["token"] {
                guard message["id"] == nil, message["note"] == nil else {
                    throw WireError(.badValue, "ack takes id= (and note=), or token= alone")
                }
                guard token.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
                    throw WireError(.badValue, "token must be printable ASCII, as the link carries it")
                }
                self = .acknowledgeByToken(token)
            } else {
                guard message["id"] != nil else { throw WireError(.missingField, "ack needs id=") }
                self = .acknowledge(try fields.incident(), note: try fields.text("note"))
            }
        case .resolve:
            self = .resolve(try fields.incident(), note: try fields.text("note") ?? "")
        case .escalate:
            self = .escalate(try fields.incident(), reason: try fields.text("reason"))
        case .arrive:
            self = .arrive(try fields.incident(), note: try fields.text("note"))
        case .who:
            self = .who(
                line: try fields.name("line"),
                station: try fields.optionalName("station"),
                category: try fields.category("category"),
                stop: try fields.flag("stop"),
                at: try fields.text("at")
            )
        case .reload:
            self = .reload
        case .ping:
            self = .ping
        case .claim:
            self = .claim(
                limit: try fields.number("limit", default: 16, in: 1...256),
                wait: .milliseconds(try fields.number("wait", default: 0, in: 0...60_000)),
                lease: .milliseconds(try fields.number("lease", default: 30_000, in: 1_000...3_600_000))
            )
        case .report:
            self = .report(try fields.report())
        case .deliveries:
            self = .deliveries(failed: try fields.flag("failed"))
        case .notifyTest:
            self = .notifyTest(try fields.name("responder"))
        case .shelve:
            let duration: Duration?
            switch (message["for"], message["until"]) {
            case (let text?, nil):
                guard let parsed = Duration(compact: text), parsed > .zero else {
                    throw WireError(.badValue, "for must be a duration such as 30m or 2h")
                }
                duration = parsed
            case (nil, "clear"?): duration = nil
            case (nil, _?): throw WireError(.badValue, "until takes one value: clear (until the open calls are over)")
            default: throw WireError(.badValue, "shelve takes for=DURATION or until=clear, one of them")
            }
            guard let reason = try fields.text("reason"), !reason.isEmpty else {
                throw WireError(.badValue, "shelving needs a reason")
            }
            self = .shelve(
                line: try fields.name("line"),
                station: try fields.optionalName("station"),
                category: try fields.category("category"),
                duration: duration,
                reason: reason
            )
        case .unshelve:
            self = .unshelve(
                line: try fields.name("line"),
                station: try fields.optionalName("station"),
                category: try fields.category("category")
            )
        case .outOfService:
            guard let reason = try fields.text("reason"), !reason.isEmpty else {
                throw WireError(.badValue, "taking a station out of service needs a reason")
            }
            self = .outOfService(line: try fields.name("line"), station: try fields.name("station"), reason: reason)
        case .inService:
            self = .inService(line: try fields.name("line"), station: try fields.name("station"))
        }
    }

    /// The request as a message, for clients.
    public var message: WireMessage {
        var fields: [(String, String)] = []
        func add(_ key: String, _ value: (any CustomStringConvertible)?) {
            if let value { fields.append((key, value.description)) }
        }
        let verb: Verb
        switch self {
        case .signal(let signal, let sequence, let drill):
            verb = Verb(of: signal)
            switch signal {
            case .andon(let line, let station, let category, let text):
                add("line", line)
                add("station", station)
                add("category", category)
                add("text", text)
            case .stop(let line, let station, let reason):
                add("line", line)
                add("station", station)
                add("reason", reason)
            case .clear(let line, let station, let category):
                add("line", line)
                add("station", station)
                add("category", category)
            case .arrived(let line, let station, let responder):
                add("line", line)
                add("station", station)
                add("responder", responder)
            case .resume(let line), .heartbeat(let line):
                add("line", line)
            case .lost(let line, let reason):
                add("line", line)
                add("reason", reason)
            }
            add("seq", sequence)
            if drill { add("drill", 1) }
        case .stateQuery(let line, let station, let sequence):
            verb = .stateQuery
            add("line", line)
            add("station", station)
            add("seq", sequence)
        case .subscribe(let line):
            verb = .subscribe
            add("line", line)
        case .status(let line, let limit):
            verb = .status
            add("line", line)
            add("limit", limit)
        case .acknowledge(let id, let note):
            verb = .ack
            add("id", id)
            add("note", note)
        case .acknowledgeByToken(let token):
            verb = .ack
            add("token", token)
        case .resolve(let id, let note):
            verb = .resolve
            add("id", id)
            add("note", note)
        case .escalate(let id, let reason):
            verb = .escalate
            add("id", id)
            add("reason", reason)
        case .arrive(let id, let note):
            verb = .arrive
            add("id", id)
            add("note", note)
        case .who(let line, let station, let category, let stop, let at):
            verb = .who
            add("line", line)
            add("station", station)
            add("category", category)
            if stop { add("stop", "yes") }
            add("at", at)
        case .reload: verb = .reload
        case .ping: verb = .ping
        case .claim(let limit, let wait, let lease):
            verb = .claim
            add("limit", limit)
            add("wait", wait.milliseconds)
            add("lease", lease.milliseconds)
        case .report(let report):
            verb = .report
            add("id", report.id)
            add("attempt", report.attempt)
            add("outcome", report.outcome.rawValue)
            add("status", report.status)
            add("retry_after", report.retryAfter?.milliseconds)
            add("error", report.error)
            add("ms", report.elapsed?.milliseconds)
        case .deliveries(let failed):
            verb = .deliveries
            if failed { add("failed", "yes") }
        case .notifyTest(let responder):
            verb = .notifyTest
            add("responder", responder)
        case .shelve(let line, let station, let category, let duration, let reason):
            verb = .shelve
            add("line", line)
            add("station", station)
            add("category", category)
            if let duration { add("for", duration.compactDescription) } else { add("until", "clear") }
            add("reason", reason)
        case .unshelve(let line, let station, let category):
            verb = .unshelve
            add("line", line)
            add("station", station)
            add("category", category)
        case .outOfService(let line, let station, let reason):
            verb = .outOfService
            add("line", line)
            add("station", station)
            add("reason", reason)
        case .inService(let line, let station):
            verb = .inService
            add("line", line)
            add("station", station)
        }
        return WireMessage(verb: verb.rawValue, fields: fields.map { (key: $0.0, value: $0.1) })
    }
}

/// Typed access to a message's fields, with the protocol's value rules.
private struct Fields {
    let message: WireMessage

    func name<N: AndonName>(_ key: String) throws(WireError) -> N {
        let value = message[key] ?? ""
        if let problem = SafeName.problem(with: value) {
            throw WireError(.badValue, "\(key) \(problem)")
        }
        return N(rawValue: value)
    }

    func optionalName<N: AndonName>(_ key: String) throws(WireError) -> N? {
        guard message[key] != nil else { return nil }
        return try name(key) as N
    }

    func category(_ key: String) throws(WireError) -> AndonCore.Category? {
        guard let value = message[key] else { return nil }
        guard let category = AndonCore.Category(rawValue: value) else {
            throw WireError(.badValue, "unknown category '\(value.prefix(32))'; use one of \(AndonCore.Category.names)")
        }
        return category
    }

    /// Free text: any characters but control characters (which could forge terminal escapes or confuse logs).
    func text(_ key: String) throws(WireError) -> String? {
        guard let value = message[key] else { return nil }
        if value.unicodeScalars.contains(where: { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) }) {
            throw WireError(.badValue, "\(key) contains a control character")
        }
        return value
    }

    func sequence() throws(WireError) -> UInt64? {
        guard let value = message["seq"] else { return nil }
        guard let number = UInt64(value) else {
            throw WireError(.badValue, "seq must be a whole number from 0 to \(UInt64.max)")
        }
        return number
    }

    /// `ts=` and `sig=` of a signed message (docs/protocol.md): checked for their form here, for their value by
    /// the line's key in andond.
    func signature() throws(WireError) {
        if let ts = message["ts"], UInt64(ts) == nil || ts.count > 12 {
            throw WireError(.badValue, "ts must be the time in whole seconds since 1970 (UTC), such as 1796032800")
        }
        guard let sig = message["sig"] else { return }
        guard sig.utf8.count == 64, sig.utf8.allSatisfy(MessageSigning.isHexDigit) else {
            throw WireError(.badValue, "sig must be 64 hexadecimal digits (HMAC-SHA256)")
        }
        guard message.fields.last?.key == "sig", message["ts"] != nil else {
            throw WireError(.badValue, "a signed message has ts= and ends with sig= (docs/protocol.md)")
        }
    }

    func number(_ key: String, default fallback: Int, in range: ClosedRange<Int>) throws(WireError) -> Int {
        guard let value = message[key] else { return fallback }
        guard let number = Int(value), range.contains(number) else {
            throw WireError(.badValue, "\(key) must be a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return number
    }

    func report() throws(WireError) -> DeliveryReport {
        // A test notification's number is negative: it is not in the outbox.
        guard let id = message["id"].flatMap({ Int64($0) }), id != 0 else {
            throw WireError(.badValue, "id must be a delivery number")
        }
        guard let outcome = message["outcome"].flatMap(DeliveryReport.Outcome.init(rawValue:)) else {
            throw WireError(.badValue, "outcome must be delivered, retry or failed")
        }
        let status = try message["status"].map { text throws(WireError) in
            guard let status = Int(text), (100...599).contains(status) else {
                throw WireError(.badValue, "status must be an HTTP status from 100 to 599")
            }
            return status
        }
        return DeliveryReport(
            id: id,
            attempt: try number("attempt", default: 1, in: 1...1_000_000),
            outcome: outcome,
            status: status,
            retryAfter: message["retry_after"] == nil
                ? nil : .milliseconds(try number("retry_after", default: 0, in: 0...86_400_000)),
            error: try text("error"),
            elapsed: message["ms"] == nil ? nil : .milliseconds(try number("ms", default: 0, in: 0...86_400_000))
        )
    }

    func limit() throws(WireError) -> Int? {
        guard let value = message["limit"] else { return nil }
        guard let number = Int(value), number >= 0 else {
            throw WireError(.badValue, "limit must be a whole number (0: no limit)")
        }
        return number == 0 ? nil : number
    }

    func incident() throws(WireError) -> IncidentID {
        guard let value = message["id"], let id = IncidentID(value) else {
            throw WireError(.badValue, "id must be an incident number, as andonctl status shows")
        }
        return id
    }

    func flag(_ key: String) throws(WireError) -> Bool {
        guard let value = message[key] else { return false }
        switch value {
        case "yes", "true", "1": return true
        case "no", "false", "0": return false
        default: throw WireError(.badValue, "\(key) must be yes or no")
        }
    }
}
