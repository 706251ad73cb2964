/// One of andond's journal entries as `andonctl report` and `replay` read it: a step of a call, with the fields
/// docs/journal.md lists. Entries of the daemon itself (no `ANDON_EVENT`) are not steps of a call.
public struct ReportEntry: Sendable, Hashable {
    public var event: String
    public var incident: String
    public var kind: String
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
        event: String,
        incident: String,
        kind: String = "andon",
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

    /// The step in a journal entry's fields; nil for an entry that is not a step of a call.
    public init?(fields: [String: [String]]) {
        guard let event = fields["ANDON_EVENT"]?.first, let incident = fields["ANDON_INCIDENT"]?.first,
            let line = fields["ANDON_LINE"]?.first, let at = fields["ANDON_AT_MS"]?.first.flatMap({ Int64($0) })
        else { return nil }
        func number(_ name: String) -> Int64? { fields[name]?.first.flatMap { Int64($0) } }
        self.init(
            event: event,
            incident: incident,
            kind: fields["ANDON_KIND"]?.first ?? "andon",
            line: line,
            station: fields["ANDON_STATION"]?.first,
            category: fields["ANDON_CATEGORY"]?.first,
            at: at
        )
        tier = fields["ANDON_TIER"]?.first
        rota = fields["ANDON_ROTA"]?.first
        responders = fields["ANDON_RESPONDER"] ?? []
        by = fields["ANDON_BY"]?.first
        reason = fields["ANDON_REASON"]?.first
        note = fields["ANDON_NOTE"]?.first
        acknowledgedAfter = number("ANDON_ACK_MS")
        arrivedAfter = number("ANDON_ARRIVE_MS")
        resolvedAfter = number("ANDON_RESOLVE_MS")
        waited = number("ANDON_WAITED_MS")
        elapsed = number("ANDON_ELAPSED_MS")
        lineStop = fields["ANDON_LINE_STOP"]?.first
        stations = fields["ANDON_STATIONS"]?.first.map { $0.split(separator: ",").map(String.init) } ?? []
        shift = fields["ANDON_SHIFT"]?.first
        shiftStart = number("ANDON_SHIFT_START_MS")
        shiftEnd = number("ANDON_SHIFT_END_MS")
        timeZone = fields["ANDON_TIMEZONE"]?.first
        site = fields["ANDON_SITE"]?.first
        drill = fields["ANDON_DRILL"]?.first == "1"
        eventID = fields["ANDON_EVENT_ID"]?.first
    }

    /// Whether this step reached the KPO tier (the last line of defense).
    var atKPO: Bool { rota == "kpo" }
}
