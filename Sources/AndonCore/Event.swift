/// How urgent an event is, on the syslog scale the journal uses (`PRIORITY=`): lower is more urgent.
public enum Severity: Int, Sendable, Hashable, Comparable, CaseIterable, CustomStringConvertible {
    case alert = 1
    case critical = 2
    case error = 3
    case warning = 4
    case notice = 5
    case info = 6

    public static func < (lhs: Severity, rhs: Severity) -> Bool { lhs.rawValue > rhs.rawValue }

    public var description: String {
        switch self {
        case .alert: "alert"
        case .critical: "crit"
        case .error: "err"
        case .warning: "warning"
        case .notice: "notice"
        case .info: "info"
        }
    }
}

/// One step of one incident: each becomes one journal entry.
public struct Event: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        /// A new call; names the tier and the responders notified.
        case raised
        /// Not acknowledged in time, or escalated by hand: moved to the next tier.
        case escalated
        /// A tier with nobody on duty was passed at once.
        case skipped
        /// A responder took the call.
        case acknowledged
        /// Acknowledged but not resolved within the tier's `resolve_within`: moved on to the next tier.
        case overdue
        /// The KPO tier did not acknowledge within its time; repeats until it does.
        case unanswered
        /// The same andon again for an open station (coalesced; at most one event per interval).
        case repeated
        /// A station's andon became a line stop.
        case promoted
        /// A responder closed the call with the countermeasure.
        case resolved
        /// The station reset its cord.
        case cleared
        /// The line runs again; its stop is over.
        case resumed
        /// A controller with a heartbeat went quiet.
        case silent
        /// A quiet controller was heard again; its `silent` incident is over.
        case heard
        /// A shift change (a rotation turn, an override) changed who is on duty for the call's tier: the incoming
        /// responders hold it now, the outgoing ones may act for the grace period.
        case handedOver = "handed-over"
        /// Someone is at the station for the call.
        case arrived
        /// The call is acknowledged but still open: its owner is reminded, with rising priority.
        case reminder
        /// A stopped line stopped again at another station: the open stop lists it (stop minutes count once).
        case joined
        /// The call was shelved: recorded and timed, nobody called, until its shelf ends.
        case shelved
        /// Its shelf ended with the call still open: its tier is called again, its timers run.
        case unshelved

        /// Whether the step calls its responders (`ANDON_RESPONDER` names whom): what reports and replays count as
        /// notified. A `promoted` of a call taken up by its line's stop is not one (`lineStop` says so).
        public var notifies: Bool {
            switch self {
            case .raised, .escalated, .overdue, .handedOver, .promoted, .unanswered, .reminder, .joined, .unshelved:
                true
            case .skipped, .acknowledged, .repeated, .resolved, .cleared, .resumed, .silent, .heard, .arrived, .shelved:
                false
            }
        }
    }

    public var kind: Kind
    /// When it happened: for timeouts, exactly the deadline.
    public var at: Instant
    public var incident: IncidentID
    public var incidentKind: IncidentKind
    public var line: LineID
    public var station: StationID?
    public var category: Category?
    /// The tier the incident is at after this event (for `skipped`: the tier passed over).
    public var tier: TierPosition?
    /// The responders notified by this event (for `skipped`: none).
    public var responders: [ResponderID]
    /// Time since the incident was raised.
    public var elapsed: Duration
    /// `escalated`, `overdue`, `unanswered`: how long the tier had. `resumed`: how long the line stood.
    /// `heard`: how long the controller was quiet. `acknowledged`: time to acknowledge.
    public var waited: Duration?
    /// Who acted (`acknowledged`, `resolved`, `escalated` by hand).
    public var by: Actor?
    /// The acknowledgement note, the countermeasure, the reason given for a manual escalation.
    public var note: String?
    /// Why: a skipped tier's empty rota, a stop's reason, an andon's text.
    public var reason: String?
    /// `repeated`: signals received so far. `unanswered`: which repeat this is (1, 2, ...).
    public var count: Int?
    public var origin: SignalOrigin?
    /// The call is a drill (`drill=1`): its chain runs for real, and every entry says so (`ANDON_DRILL=1`).
    public var drill = false
    public var severity: Severity
    /// `handed-over`: who held the call before.
    public var previous: [ResponderID] = []
    /// `handed-over`: until when the previous holders may still act on it.
    public var graceUntil: Instant?
    /// `overdue`: what did not happen in time (`resolve` or `arrive`).
    public var missed: Deadline.Purpose?
    /// `cleared`: a call of a `page_everyone` category closed by the station without a countermeasure.
    public var needsReview = false
    /// The call's progress after the event: `open`, `acknowledged`, `arrived`.
    public var state: String
    /// Time from raising to the first acknowledgement and to arrival, once known.
    public var acknowledgedAfter: Duration?
    public var arrivedAfter: Duration?
    /// A line stop's stations.
    public var stations: [StationID]
    /// A call taken up by its line's stop: that stop.
    public var lineStop: IncidentID?
    /// Everyone notified for the incident so far (the recipients of its `taken` and `ended` notifications).
    public var notified: [ResponderID]
    /// A real signal (no `drill=1`) for a drill's call: the call is real from this event on (`ANDON_DRILL_ENDED=1`).
    public var madeReal = false
    /// The shelf the call is on after the event (nobody is called for it).
    public var shelf: UInt64?

    /// Whether the event ends its incident.
    public var closes: Bool { [.resolved, .cleared, .resumed, .heard].contains(kind) }

    public init(
        kind: Kind,
        at: Instant,
        incident: Incident,
        tier: TierPosition? = nil,
        responders: [ResponderID] = [],
        waited: Duration? = nil,
        by: Actor? = nil,
        note: String? = nil,
        reason: String? = nil,
        count: Int? = nil,
        origin: SignalOrigin? = nil,
        severity: Severity
    ) {
        self.kind = kind
        self.at = at
        self.incident = incident.id
        self.incidentKind = incident.kind
        self.line = incident.line
        self.station = incident.station
        self.category = incident.category
        self.tier = tier
        self.responders = responders
        self.elapsed = at.duration(since: incident.raisedAt)
        self.waited = waited
        self.by = by
        self.note = note
        self.reason = reason
        self.count = count
        self.origin = origin
        self.drill = incident.origin.drill
        self.severity = severity
        self.state = incident.state
        self.acknowledgedAfter = incident.firstAcknowledgedAt.map { $0.duration(since: incident.raisedAt) }
        self.arrivedAfter = incident.arrivedAt.map { $0.duration(since: incident.raisedAt) }
        self.stations = incident.stations
        self.lineStop = incident.lineStop
        self.notified = incident.notified
        self.shelf = incident.shelf
    }
}

/// A tier as an event names it: its place in the chain and the rota it resolved to.
public struct TierPosition: Sendable, Hashable, CustomStringConvertible {
    /// 1-based position in the chain.
    public var number: Int
    public var of: Int
    public var name: String
    public var rota: RotaID
    public var policy: PolicyID

    public var isKPO: Bool { rota == .kpo }
    public var description: String { name }
}
