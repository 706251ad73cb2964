/// What a signal did, for the reply to its sender.
public enum SignalDisposition: Sendable, Hashable {
    /// A new incident.
    case opened(IncidentID)
    /// Coalesced into an open incident; `count` signals so far.
    case repeated(IncidentID, count: Int)
    /// A station's andon became a line stop.
    case promoted(IncidentID)
    /// The line was already stopped: the signal joined its open stop.
    case joined(IncidentID)
    /// A responder arrived at these calls (empty when the station had none open).
    case arrived([IncidentID])
    /// These incidents ended (`clear`, `resume`); empty when nothing was open, which is fine.
    case closed([IncidentID])
    /// Nothing changed; `note` says why, for the sender (a heartbeat, or a clear on a stopped station).
    case unchanged(note: String?)

    /// The incidents the reply names.
    public var incidents: [IncidentID] {
        switch self {
        case .opened(let id), .repeated(let id, _), .promoted(let id), .joined(let id): [id]
        case .closed(let ids), .arrived(let ids): ids
        case .unchanged: []
        }
    }
}

/// A signal the engine refused. It changed nothing.
public struct SignalRejection: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable {
        case unknownLine = "unknown-line"
        case unknownStation = "unknown-station"
        case categoryNotAccepted = "category-not-accepted"
        case unknownResponder = "unknown-responder"
        case notAuthorized = "not-authorized"
    }

    public var code: Code
    public var message: String

    public var description: String { message }
}

/// The result of a signal: the reply and the events to log, in order.
public struct SignalOutcome: Sendable {
    public var result: Result<SignalDisposition, SignalRejection>
    public var events: [Event]
}

/// A responder action the engine refused. It changed nothing (time still advanced).
public struct ActionError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable {
        case unknownIncident = "unknown-incident"
        case notAuthorized = "not-authorized"
        case alreadyAcknowledged = "already-acknowledged"
        case finalTier = "final-tier"
        case missingNote = "missing-note"
        case alreadyArrived = "already-arrived"
        case badValue = "bad-value"
        case unknownLine = "unknown-line"
        case unknownStation = "unknown-station"
        /// Safety calls and line stops are never shelved.
        case notShelvable = "not-shelvable"
        /// Nothing to shelve until it clears, nothing shelved to end, a station not out of service.
        case nothingShelved = "nothing-shelved"
    }

    public var code: Code
    public var message: String

    public var description: String { message }
}

/// The result of a responder action: the incident after it (nil once closed) and the events to log.
public struct ActionOutcome: Sendable {
    public var result: Result<Incident?, ActionError>
    public var events: [Event]

    public init(result: Result<Incident?, ActionError>, events: [Event]) {
        self.result = result
        self.events = events
    }
}

/// The open incidents at a glance: what `STATUS=` and `andonctl status` headers show.
public struct OpenSummary: Sendable, Hashable {
    public var open: Int
    /// Incidents whose current tier is KPO.
    public var atKPO: Int = 0
    /// Lines with an open line stop.
    public var stoppedLines: Set<LineID> = []
    /// When the longest-running open line stop began.
    public var oldestStop: Instant?
    /// Open line stops (a line's own and its stations').
    public var stops: Int = 0
    public var acknowledged: Int = 0

    public init(open: Int) { self.open = open }
}
