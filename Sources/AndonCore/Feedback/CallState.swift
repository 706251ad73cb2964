/// What a station's stack light needs to know about one call: the line's side of the call's life. Built from an
/// event when the call changes (raised, acknowledged, arrived, escalated, resolved, cleared, ...) and from the open
/// call itself when andond repeats a line's lights or answers `state?`.
public struct CallState: Sendable, Hashable {
    /// How far the call got, as a light shows it: flashing (`open`), steady (`acknowledged`), "on site" (`arrived`),
    /// dark (`over`).
    public enum Progress: String, Sendable, Hashable, CaseIterable {
        case open, acknowledged, arrived, over
    }

    public var line: LineID
    /// Nil for a stop of the whole line and a silent controller.
    public var station: StationID?
    public var incident: IncidentID
    public var kind: IncidentKind
    public var category: Category?
    public var progress: Progress
    /// The event that changed the call; nil when the state is repeated (every `feedback_every`, a `state?`).
    public var event: Event.Kind?
    /// The tier the call is at: its name, its place in the chain and the chain's length.
    public var tier: String
    public var tierNumber: Int
    public var tiers: Int
    /// Who took it, or who is at the station.
    public var by: String?
    public var raisedAt: Instant
    public var drill: Bool
    /// Shelved: recorded and timed, nobody called (a light may show it apart).
    public var shelved = false

    public init(
        line: LineID,
        station: StationID?,
        incident: IncidentID,
        kind: IncidentKind,
        category: Category?,
        progress: Progress,
        event: Event.Kind?,
        tier: String,
        tierNumber: Int,
        tiers: Int,
        by: String?,
        raisedAt: Instant,
        drill: Bool
    ) {
        self.line = line
        self.station = station
        self.incident = incident
        self.kind = kind
        self.category = category
        self.progress = progress
        self.event = event
        self.tier = tier
        self.tierNumber = tierNumber
        self.tiers = tiers
        self.by = by
        self.raisedAt = raisedAt
        self.drill = drill
    }

    /// An open call as it stands.
    public init(incident: Incident, plant: Plant) {
        let progress: Progress = incident.hasArrived ? .arrived : incident.isAcknowledged ? .acknowledged : .open
        let by = incident.hasArrived ? incident.arrivedBy : incident.acknowledgedBy
        self.init(
            line: incident.line,
            station: incident.station,
            incident: incident.id,
            kind: incident.kind,
            category: incident.category,
            progress: progress,
            event: nil,
            tier: incident.tierName,
            tierNumber: incident.tierIndex + 1,
            tiers: plant.policy(incident.policy).tiers.count,
            by: by.map(Self.name(of:)),
            raisedAt: incident.raisedAt,
            drill: incident.origin.drill
        )
        shelved = incident.shelf != nil
    }

    /// The change an event makes to its call's light; nil for events that change nothing there (a repeat, a
    /// reminder, a handover, a skipped tier, KPO's repeats).
    public init?(event: Event) {
        guard Self.changesLight(event.kind) else { return nil }
        let progress: Progress =
            event.closes
            ? .over : event.state == "arrived" ? .arrived : event.state == "acknowledged" ? .acknowledged : .open
        self.init(
            line: event.line,
            station: event.station,
            incident: event.incident,
            kind: event.incidentKind,
            category: event.category,
            progress: progress,
            event: event.kind,
            tier: event.tier?.name ?? "",
            tierNumber: event.tier?.number ?? 0,
            tiers: event.tier?.of ?? 0,
            by: event.by.map(Self.name(of:)),
            raisedAt: event.at - event.elapsed,
            drill: event.drill
        )
        shelved = event.shelf != nil && !event.closes
    }

    /// The line-side changes of a list of events, in order.
    public static func changes(of events: [Event]) -> [CallState] { events.compactMap(CallState.init(event:)) }

    public static func changesLight(_ kind: Event.Kind) -> Bool {
        switch kind {
        case .raised, .escalated, .overdue, .acknowledged, .arrived, .promoted, .joined, .resolved, .cleared, .resumed,
            .silent, .heard, .shelved, .unshelved:
            true
        case .skipped, .unanswered, .repeated, .handedOver, .reminder:
            false
        }
    }

    /// A station's button names nobody; a responder and an administrator by their id and Unix user.
    static func name(of actor: Actor) -> String {
        switch actor {
        case .responder(let id): id.rawValue
        case .administrator(let user): user
        case .station: "station"
        }
    }
}

extension EscalationEngine {
    /// The open calls of `line` (only `station`'s, when given), oldest first, at most `limit`, as a stack light sees
    /// them.
    public func callStates(of line: LineID, station: StationID? = nil, limit: Int = .max) -> [CallState] {
        var states: [CallState] = []
        for id in openIncidentIDs(of: line, limit: nil).ids {
            guard states.count < limit else { break }
            guard let incident = incident(id), station == nil || incident.station == station else { continue }
            states.append(CallState(incident: incident, plant: plant))
        }
        return states
    }
}
