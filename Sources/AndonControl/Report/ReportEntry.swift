import AndonCore
import AndonProtocol

/// One of andond's journal entries as `andonctl report` and `replay` read it: a step of a call, with the fields
/// docs/journal.md lists. Entries of the daemon itself (no `ANDON_EVENT`) are not steps of a call.
public struct ReportEntry: Sendable, Hashable {
    public var event: Event.Kind
    public var incident: String
    public var kind: IncidentKind
    public var line: String
    public var station: String?
    public var category: String?
    public var tier: String?
    public var rota: String?
    /// The Unix users notified by this step (`ANDON_RESPONDER`).
    public var responders: [String]
    public var by: String?
    public var reason: String?
    public var note: String?
    /// When the engine handled the step (`ANDON_AT_MS`), in milliseconds since the epoch.
    public var at: Int64
    public var acknowledgedAfter: Int64?
    public var arrivedAfter: Int64?
    public var resolvedAfter: Int64?
    public var waited: Int64?
    /// How long the call had been open at this step (`ANDON_ELAPSED_MS`).
    public var elapsed: Int64?
    public var lineStop: String?
    /// A line stop's stations, in the order they stopped it (`ANDON_STATIONS`).
    public var stations: [String] = []
    public var shift: String?
    public var shiftStart: Int64?
    public var shiftEnd: Int64?
    public var timeZone: String?
    public var site: String?
    public var drill: Bool
    /// Set on entries kept durably (`ANDON_EVENT_ID`): one entry may reach the journal twice after an outage.
    public var eventID: String?

    public init(
        event: Event.Kind,
        incident: String,
        kind: IncidentKind = .andon,
        line: String,
        station: String? = nil,
        category: String? = nil,
        at: Int64
    ) {
        self.event = event
        self.incident = incident
        self.kind = kind
        self.line = line
        self.station = station
        self.category = category
        self.at = at
        responders = []
        drill = false
    }

    /// The step in a journal entry's fields; nil for an entry that is not a step of a call (or is one of an event
    /// this andonctl does not know, from a newer andond).
    public init?(fields: [String: [String]]) {
        guard let event = fields.first(.event).flatMap(Event.Kind.init(rawValue:)),
            let incident = fields.first(.incident),
            let line = fields.first(.line), let at = fields.first(.at).flatMap({ Int64($0) })
        else { return nil }
        func number(_ field: JournalField) -> Int64? { fields.first(field).flatMap { Int64($0) } }
        self.init(
            event: event,
            incident: incident,
            kind: fields.first(.kind).flatMap(IncidentKind.init(rawValue:)) ?? .andon,
            line: line,
            station: fields.first(.station),
            category: fields.first(.category),
            at: at
        )
        tier = fields.first(.tier)
        rota = fields.first(.rota)
        responders = fields[.responder] ?? []
        by = fields.first(.by)
        reason = fields.first(.reason)
        note = fields.first(.note)
        acknowledgedAfter = number(.acknowledgedAfter)
        arrivedAfter = number(.arrivedAfter)
        resolvedAfter = number(.resolvedAfter)
        waited = number(.waited)
        elapsed = number(.elapsed)
        lineStop = fields.first(.lineStop)
        stations = fields.first(.stations).map { $0.split(separator: ",").map(String.init) } ?? []
        shift = fields.first(.shift)
        shiftStart = number(.shiftStart)
        shiftEnd = number(.shiftEnd)
        timeZone = fields.first(.timeZone)
        site = fields.first(.site)
        drill = fields.first(.drill) == JournalSchema.flagSet
        eventID = fields.first(.eventID)
    }

    /// Whether this step reached the KPO tier (the last line of defense).
    var atKPO: Bool { rota == "kpo" }
}

/// A notification's outcome as `andonctl report` reads it (`notified`, `notify-failed`).
public struct NotificationEntry: Sendable, Hashable {
    public typealias State = Delivery.State

    public var incident: String
    public var channel: String
    public var recipient: String
    public var purpose: String?
    /// The event the notification was for (`raised`, `escalated`, ...).
    public var event: String?
    public var state: State
    /// From the event to the receiver's answer (`delivered` only).
    public var latency: Int64?
    public var at: Int64
    public var drill: Bool

    public init(
        incident: String,
        channel: String,
        recipient: String,
        purpose: String? = "call",
        event: String? = "raised",
        state: State,
        latency: Int64? = nil,
        at: Int64,
        drill: Bool = false
    ) {
        self.incident = incident
        self.channel = channel
        self.recipient = recipient
        self.purpose = purpose
        self.event = event
        self.state = state
        self.latency = latency
        self.at = at
        self.drill = drill
    }

    /// The outcome in a journal entry's fields; nil for any other entry.
    public init?(fields: [String: [String]]) {
        guard fields.first(.event) == nil, fields.first(.delivery) != nil,
            let state = fields.first(.deliveryState).flatMap(State.init(name:)),
            let incident = fields.first(.incident), let channel = fields.first(.channel),
            let recipient = fields.first(.recipient), let at = fields.first(.at).flatMap({ Int64($0) })
        else { return nil }
        self.init(
            incident: incident,
            channel: channel,
            recipient: recipient,
            purpose: fields.first(.purpose),
            event: fields.first(.causeEventKind),
            state: state,
            latency: fields.first(.notifyLatency).flatMap { Int64($0) },
            at: at,
            drill: fields.first(.drill) == JournalSchema.flagSet
        )
    }
}
