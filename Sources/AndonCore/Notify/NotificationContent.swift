/// What a notification says, as its templates see it: one event of one call, for one recipient. Built by andond when
/// the delivery is created and stored with it, so that a retry after a restart or a reload says the same.
public struct NotificationContent: Sendable, Hashable, Codable {
    public var site: String
    /// The event's name (`raised`, `escalated`, ...; `test` for `andonctl notify-test`).
    public var event: String
    public var purpose: NotifyPurpose
    public var incident: IncidentID
    /// `andon`, `stop` or `silent`.
    public var incidentKind: String
    public var line: LineID
    public var station: StationID?
    public var category: String?
    public var tier: String?
    public var tierNumber: Int?
    public var tierCount: Int?
    /// Display names of the responders the event called.
    public var responders: [String]
    /// Who acted, by display name.
    public var by: String?
    /// The andon's text, a stop's reason, a note or countermeasure.
    public var text: String?
    /// `open`, `acknowledged` or `arrived`.
    public var state: String
    public var drill: Bool
    /// The journal's priority of the event (2 crit ... 6 info).
    public var severity: Int
    /// When the event happened and when the call was raised.
    public var at: Instant
    public var raisedAt: Instant
    /// The journal's sentence for the event (`MESSAGE=`).
    public var summary: String

    public init(event: Event, purpose: NotifyPurpose, plant: Plant) {
        site = plant.name
        self.event = event.kind.rawValue
        self.purpose = purpose
        incident = event.incident
        incidentKind = event.incidentKind.rawValue
        line = event.line
        station = event.station
        category = event.category?.rawValue
        tier = event.tier?.name
        tierNumber = event.tier?.number
        tierCount = event.tier?.of
        responders = event.responders.map { plant.displayName(of: $0) }
        by = event.by.map { plant.displayName(of: $0) }
        text = event.note ?? event.reason
        state = event.state
        drill = event.drill
        severity = event.severity.rawValue
        at = event.at
        raisedAt = event.at - event.elapsed
        summary = event.message(in: plant)
    }

    /// A test notification (`andonctl notify-test`): no call behind it.
    public init(testAt at: Instant, recipient: String, plant: Plant) {
        site = plant.name
        event = "test"
        purpose = .test
        incident = IncidentID(0)
        incidentKind = IncidentKind.andon.rawValue
        line = LineID(rawValue: "test")
        station = nil
        category = nil
        tier = nil
        tierNumber = nil
        tierCount = nil
        responders = [recipient]
        by = nil
        text = "a test of andond's notifications; nothing happened"
        state = "open"
        drill = false
        severity = Severity.info.rawValue
        self.at = at
        raisedAt = at
        summary = "andond notification test for \(recipient) at \(plant.name): nothing happened"
    }
}
