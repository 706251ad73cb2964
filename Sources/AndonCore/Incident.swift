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
    /// The station itself: a button or badge reader that says someone arrived, without naming them.
    case station(LineID, StationID)

    public var description: String {
        switch self {
        case .responder(let id): id.rawValue
        case .administrator(let user): user
        case .station(let line, let station): "station \(line)/\(station)"
        }
    }

    public var responder: ResponderID? {
        if case .responder(let id) = self { return id }
        return nil
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
    public internal(set) var origin: SignalOrigin

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

    /// A line stop's stations, in the order they stopped it (none for a stop of the whole line).
    public internal(set) var stations: [StationID] = []
    /// Who answers for the call now: the current tier's responders, or the responder who acknowledged it while they
    /// are on duty. A handover moves it; it is never someone off duty.
    public internal(set) var owners: [ResponderID] = []
    /// Responders a handover took the call from: they may still act on it until their instant.
    public internal(set) var grace: [GraceRight] = []
    /// The first acknowledgement (an `overdue` clears `acknowledgedAt`; the time to acknowledge stays).
    public internal(set) var firstAcknowledgedAt: Instant?
    /// When someone was at the station, and who (a responder, or the station's button).
    public internal(set) var arrivedAt: Instant?
    public internal(set) var arrivedBy: Actor?
    /// Reminders since the call was last acknowledged.
    public internal(set) var reminderCount: Int = 0
    var lastReminderAt: Instant?
    /// Notifies every tier of its chain at once (a `page_everyone` category such as safety).
    public internal(set) var pagesEveryone = false
    /// For a station's call that its line's stop took up: that stop.
    public internal(set) var lineStop: IncidentID?
    /// The shelf holding the call: recorded and timed, nobody called, no timer (`EscalationEngine+Shelving`).
    public internal(set) var shelf: UInt64?

    public var isAcknowledged: Bool { acknowledgedBy != nil }
    public var hasArrived: Bool { arrivedAt != nil }

    /// `open`, `acknowledged` or `arrived`: how far the call has got, as the journal's `ANDON_STATE` says.
    public var state: String { hasArrived ? "arrived" : isAcknowledged ? "acknowledged" : "open" }
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
        /// Escalate on unless someone arrived at the station by then.
        case arrive
        /// Remind the owner of the acknowledged call, and again.
        case remind
    }

    public var at: Instant
    public var purpose: Purpose
}

/// A responder's right to act on a call after a handover took it from them, until an instant.
public struct GraceRight: Sendable, Hashable, Codable {
    public var responder: ResponderID
    public var until: Instant
}

extension Incident {
    // The JSON form of the first 0.3 builds has none of the later fields: they take their defaults.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(IncidentID.self, forKey: .id)
        kind = try container.decode(IncidentKind.self, forKey: .kind)
        line = try container.decode(LineID.self, forKey: .line)
        station = try container.decodeIfPresent(StationID.self, forKey: .station)
        category = try container.decodeIfPresent(Category.self, forKey: .category)
        text = try container.decodeIfPresent(String.self, forKey: .text)
        reason = try container.decodeIfPresent(String.self, forKey: .reason)
        raisedAt = try container.decode(Instant.self, forKey: .raisedAt)
        origin = try container.decode(SignalOrigin.self, forKey: .origin)
        policy = try container.decode(PolicyID.self, forKey: .policy)
        tierIndex = try container.decode(Int.self, forKey: .tierIndex)
        tierName = try container.decode(String.self, forKey: .tierName)
        rota = try container.decode(RotaID.self, forKey: .rota)
        tierEnteredAt = try container.decode(Instant.self, forKey: .tierEnteredAt)
        notifiedAt = try container.decode(Instant.self, forKey: .notifiedAt)
        responders = try container.decode([ResponderID].self, forKey: .responders)
        notified = try container.decode([ResponderID].self, forKey: .notified)
        acknowledgedBy = try container.decodeIfPresent(Actor.self, forKey: .acknowledgedBy)
        acknowledgedAt = try container.decodeIfPresent(Instant.self, forKey: .acknowledgedAt)
        unansweredCount = try container.decode(Int.self, forKey: .unansweredCount)
        signalCount = try container.decode(Int.self, forKey: .signalCount)
        lastRepeatLoggedAt = try container.decodeIfPresent(Instant.self, forKey: .lastRepeatLoggedAt)
        stoppedAt = try container.decodeIfPresent(Instant.self, forKey: .stoppedAt)
        deadline = try container.decodeIfPresent(Deadline.self, forKey: .deadline)
        generation = try container.decode(UInt64.self, forKey: .generation)
        stations = try container.decodeIfPresent([StationID].self, forKey: .stations) ?? station.map { [$0] } ?? []
        owners = try container.decodeIfPresent([ResponderID].self, forKey: .owners) ?? responders
        grace = try container.decodeIfPresent([GraceRight].self, forKey: .grace) ?? []
        firstAcknowledgedAt =
            try container.decodeIfPresent(Instant.self, forKey: .firstAcknowledgedAt) ?? acknowledgedAt
        arrivedAt = try container.decodeIfPresent(Instant.self, forKey: .arrivedAt)
        arrivedBy = try container.decodeIfPresent(Actor.self, forKey: .arrivedBy)
        reminderCount = try container.decodeIfPresent(Int.self, forKey: .reminderCount) ?? 0
        lastReminderAt = try container.decodeIfPresent(Instant.self, forKey: .lastReminderAt)
        pagesEveryone = try container.decodeIfPresent(Bool.self, forKey: .pagesEveryone) ?? false
        lineStop = try container.decodeIfPresent(IncidentID.self, forKey: .lineStop)
        shelf = try container.decodeIfPresent(UInt64.self, forKey: .shelf)
    }
}
