/// What an incident is about.
public enum IncidentKind: String, Sendable, Hashable, CaseIterable, Codable {
    /// A station pulled the cord.
    case andon
    /// A line (or a station's andon promoted to one) stopped.
    case stop
    /// A line controller with a heartbeat went quiet.
    case silent
}

/// Who did something to an incident.
public enum Actor: Sendable, Hashable, CustomStringConvertible, Codable {
    /// A responder from the configuration.
    case responder(ResponderID)
    /// An administrator (root) acting on behalf of the plant, named by Unix user.
    case administrator(user: String)

    public var description: String {
        switch self {
        case .responder(let id): id.rawValue
        case .administrator(let user): user
        }
    }
}

/// An open call, as the engine tracks it.
public struct Incident: Sendable, Hashable, Codable {
    public let id: IncidentID
    public internal(set) var kind: IncidentKind
    public let line: LineID
    public let station: StationID?
    public internal(set) var category: Category?
    public internal(set) var text: String?
    public internal(set) var reason: String?
    public let raisedAt: Instant
    public let origin: SignalOrigin

    /// The chain being followed and where on it the incident is.
    public internal(set) var policy: PolicyID
    public internal(set) var tierIndex: Int
    public internal(set) var tierName: String
    public internal(set) var rota: RotaID
    public internal(set) var tierEnteredAt: Instant
    /// When the current responders were last notified (entering the tier, or a KPO repeat).
    public internal(set) var notifiedAt: Instant
    /// Who was notified at the current tier.
    public internal(set) var responders: [ResponderID]
    /// Everyone notified for this incident so far, in order: they may acknowledge and resolve it.
    public internal(set) var notified: [ResponderID]

    public internal(set) var acknowledgedBy: Actor?
    public internal(set) var acknowledgedAt: Instant?
    /// How many `unanswered` repeats the KPO tier has had since it was last notified afresh.
    public internal(set) var unansweredCount: Int
    /// Signals received for this incident, the first included.
    public internal(set) var signalCount: Int
    var lastRepeatLoggedAt: Instant?
    /// When the line stopped, for stops.
    public internal(set) var stoppedAt: Instant?

    /// The incident's pending timer, if any.
    public internal(set) var deadline: Deadline?
    var generation: UInt64

    public var isAcknowledged: Bool { acknowledgedBy != nil }
    public var isAtKPO: Bool { rota == .kpo }

    public func age(at now: Instant) -> Duration { now.duration(since: raisedAt) }
}

/// A pending timer of an incident.
public struct Deadline: Sendable, Hashable, Codable {
    public enum Purpose: String, Sendable, Hashable, Codable {
        /// Escalate (or, at KPO, repeat `unanswered`) unless acknowledged by then.
        case acknowledge
        /// Escalate on unless resolved by then.
        case resolve
    }

    public var at: Instant
    public var purpose: Purpose
}
