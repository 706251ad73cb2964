import AndonCore

/// `andonctl status`: the open incidents, as the daemon sees them.
public struct StatusReport: Codable, Sendable, Hashable {
    public var site: String
    public var now: Int64
    public var incidents: [IncidentReport]
    public var counters: [String: Int]
    /// Open incidents in all (with a `line=` filter or a `limit=`, more than `incidents` may hold).
    public var total: Int?
    /// Incidents that matched the filter but are beyond the limit.
    public var omitted: Int?
    /// The plant as a board shows it: lines and stations, the shift, KPO on duty (andond 0.5 and later).
    public var plant: PlantView?

    public init(
        site: String,
        now: Int64,
        incidents: [IncidentReport],
        counters: [String: Int],
        total: Int? = nil,
        omitted: Int? = nil,
        plant: PlantView? = nil
    ) {
        self.site = site
        self.now = now
        self.incidents = incidents
        self.counters = counters
        self.total = total
        self.omitted = omitted
        self.plant = plant
    }
}

/// The plant's layout and duty now, for `andonctl board`.
public struct PlantView: Codable, Sendable, Hashable {
    public struct Line: Codable, Sendable, Hashable {
        public var id: String
        public var description: String?
        /// The stations the configuration lists (empty when the line takes any station).
        public var stations: [String]

        public init(id: String, description: String?, stations: [String]) {
            self.id = id
            self.description = description
            self.stations = stations
        }
    }

    public var lines: [Line]
    /// KPO on duty: "Name (user)".
    public var kpo: [String]
    public var shift: String?
    public var shiftStart: Int64?
    /// The site's time zone (`site.time_zone`).
    public var timeZone: String
    /// Categories that call every tier at once (safety): a board shows them red (andond 0.6 and later).
    public var pageEveryone: [String]?
    /// Standing shelves and stations out of service (andond 0.7 and later; absent when there are none).
    public var shelves: [ShelfView]?
    public var outOfService: [StationOutView]?

    /// A standing shelf as a board shows it.
    public struct ShelfView: Codable, Sendable, Hashable {
        public var id: UInt64
        public var line: String
        public var station: String?
        public var category: String?
        /// A timed shelf's end; absent for one-shot (until its calls are over).
        public var until: Int64?
        public var calls: [UInt64]
        public var reason: String
        public var by: String
        public var since: Int64

        public init(shelf: Shelf, plant: Plant) {
            id = shelf.id
            line = shelf.line.rawValue
            station = shelf.station?.rawValue
            category = shelf.category?.rawValue
            until = shelf.until?.millisecondsSinceEpoch
            calls = shelf.calls.map(\.number)
            reason = shelf.reason
            by = plant.userName(of: shelf.by)
            since = shelf.at.millisecondsSinceEpoch
        }
    }

    /// A station out of service as a board shows it.
    public struct StationOutView: Codable, Sendable, Hashable {
        public var line: String
        public var station: String
        public var reason: String
        public var by: String
        public var since: Int64
        /// Cord pulls ignored meanwhile.
        public var signals: Int

        public init(_ entry: AndonCore.OutOfService, plant: Plant) {
            line = entry.line.rawValue
            station = entry.station.rawValue
            reason = entry.reason
            by = plant.userName(of: entry.by)
            since = entry.at.millisecondsSinceEpoch
            signals = entry.signals
        }
    }

    public init(
        lines: [Line],
        kpo: [String],
        shift: String?,
        shiftStart: Int64?,
        timeZone: String,
        pageEveryone: [String]? = nil,
        shelves: [ShelfView]? = nil,
        outOfService: [StationOutView]? = nil
    ) {
        self.shelves = shelves
        self.outOfService = outOfService
        self.pageEveryone = pageEveryone
        self.lines = lines
        self.kpo = kpo
        self.shift = shift
        self.shiftStart = shiftStart
        self.timeZone = timeZone
    }

    func write(to writer: inout JSONWriter) {
        writer.object { writer in
            writer.field("kpo", kpo)
            writer.key("lines")
            writer.array { writer in
                for line in lines {
                    writer.object { writer in
                        writer.field("description", line.description)
                        writer.field("id", line.id)
                        writer.field("stations", line.stations)
                    }
                }
            }
            if let outOfService {
                writer.key("outOfService")
                writer.array { writer in
                    for entry in outOfService {
                        writer.object { writer in
                            writer.field("by", entry.by)
                            writer.field("line", entry.line)
                            writer.field("reason", entry.reason)
                            writer.field("signals", entry.signals)
                            writer.field("since", entry.since)
                            writer.field("station", entry.station)
                        }
                    }
                }
            }
            writer.field("pageEveryone", pageEveryone)
            if let shelves {
                writer.key("shelves")
                writer.array { writer in
                    for shelf in shelves {
                        writer.object { writer in
                            writer.field("by", shelf.by)
                            writer.key("calls")
                            writer.array { writer in
                                for call in shelf.calls { writer.number(call) }
                            }
                            writer.field("category", shelf.category)
                            writer.field("id", shelf.id)
                            writer.field("line", shelf.line)
                            writer.field("reason", shelf.reason)
                            writer.field("since", shelf.since)
                            writer.field("station", shelf.station)
                            writer.field("until", shelf.until)
                        }
                    }
                }
            }
            writer.field("shift", shift)
            writer.field("shiftStart", shiftStart)
            writer.field("timeZone", timeZone)
        }
    }
}

public struct IncidentReport: Codable, Sendable, Hashable {
    public var id: UInt64
    public var kind: String
    public var line: String
    public var station: String?
    public var category: String?
    public var tier: String
    public var tierNumber: Int
    public var tiers: Int
    public var rota: String
    /// Unix users notified at the current tier.
    public var responders: [String]
    public var raisedAt: Int64
    public var ageMilliseconds: Int64
    public var acknowledgedBy: String?
    public var acknowledgedAt: Int64?
    public var signals: Int
    /// When the next escalation (or KPO repeat) is due, if one is.
    public var nextDeadline: Int64?
    public var text: String?
    /// Unix users who answer for the call now (the acknowledging responder while on duty, or the tier's).
    /// (Optional here and below: an andond from before 0.4 does not send them.)
    public var owners: [String]?
    /// `open`, `acknowledged` or `arrived`.
    public var state: String?
    public var arrivedAt: Int64?
    public var arrivedBy: String?
    /// A line stop's stations, in the order they stopped it.
    public var stations: [String]?
    /// A call taken up by its line's stop: the stop's number.
    public var lineStop: UInt64?
    /// A drill (`drill=1`): present only when true.
    public var drill: Bool?
    /// A notification of the call failed for good (refused, or given up): present only when true.
    public var notifyFailed: Bool?
    /// The shelf holding the call (nobody is called for it): present only when shelved.
    public var shelf: UInt64?

    public init(incident: Incident, plant: Plant, now: Instant, tiers: Int) {
        id = incident.id.number
        kind = incident.kind.rawValue
        line = incident.line.rawValue
        station = incident.station?.rawValue
        category = incident.category?.rawValue
        tier = incident.tierName
        tierNumber = incident.tierIndex + 1
        self.tiers = tiers
        rota = incident.rota.rawValue
        responders = incident.responders.map { plant.user(of: $0) }
        raisedAt = incident.raisedAt.millisecondsSinceEpoch
        ageMilliseconds = incident.age(at: now).milliseconds
        acknowledgedBy = incident.acknowledgedBy.map(plant.userName(of:))
        owners = incident.owners.map { plant.user(of: $0) }
        state = incident.state
        arrivedAt = incident.arrivedAt?.millisecondsSinceEpoch
        arrivedBy = incident.arrivedBy.map(plant.userName(of:))
        stations = incident.stations.isEmpty ? nil : incident.stations.map(\.rawValue)
        lineStop = incident.lineStop?.number
        drill = incident.origin.drill ? true : nil
        acknowledgedAt = incident.acknowledgedAt?.millisecondsSinceEpoch
        signals = incident.signalCount
        nextDeadline = incident.deadline?.at.millisecondsSinceEpoch
        text = incident.text ?? incident.reason
        shelf = incident.shelf
    }
}

/// `andonctl who`: the chain, as text and as data.
public struct WhoReport: Codable, Sendable, Hashable {
    public struct Tier: Codable, Sendable, Hashable {
        public var number: Int
        public var name: String
        public var rota: String
        public var reachedAt: Int64
        public var responders: [String]
        public var skipped: Bool
        public var emptyReason: String?
        public var ackWithinMilliseconds: Int64
        public var resolveWithinMilliseconds: Int64?
        public var arriveWithinMilliseconds: Int64?
        public var repeatEveryMilliseconds: Int64?
        /// Why each responder is on duty, in the order of `responders`.
        public var why: [Why]?
    }

    /// What put a responder on duty: `shift` (with `shift`), `rotation` (member `member` of `of`, since `since`), or
    /// `override` (`from`, `until`, the responder it `replaces`, its `note`); `text` says it in words.
    public struct Why: Codable, Sendable, Hashable {
        public var responder: String
        public var by: String
        public var text: String
        public var shift: String?
        public var member: Int?
        public var of: Int?
        public var since: Int64?
        public var from: Int64?
        public var until: Int64?
        public var replaces: String?
        public var note: String?
    }

    public var text: String
    public var policy: String
    public var shift: String?
    public var tiers: [Tier]
    /// True when the call notifies every tier at once (a `page_everyone` category).
    public var pagesEveryone: Bool?
    /// A shelf or a station out of service that a call there meets now (also the last line of `text`).
    public var standing: String?

    public init(chain: ChainPreview, plant: Plant) {
        pagesEveryone = chain.category.map(plant.pageEveryone.contains) == true ? true : nil
        text = chain.render(in: plant)
        policy = chain.policy.rawValue
        shift = chain.shift?.shift.rawValue
        tiers = chain.steps.map { step in
            Tier(
                number: step.position.number,
                name: step.position.name,
                rota: step.position.rota.rawValue,
                reachedAt: step.reachedAt.millisecondsSinceEpoch,
                responders: step.duty.responders.map { plant.user(of: $0) },
                skipped: step.isSkipped,
                emptyReason: step.duty.emptyReason,
                ackWithinMilliseconds: step.tier.ackWithin.milliseconds,
                resolveWithinMilliseconds: step.tier.resolveWithin?.milliseconds,
                arriveWithinMilliseconds: step.tier.arriveWithin?.milliseconds,
                repeatEveryMilliseconds: step.tier.repeatEvery?.milliseconds,
                why: step.duty.responders.compactMap { id in
                    step.duty.reasons[id].map { Why(responder: id, reason: $0, plant: plant) }
                }
            )
        }
    }
}

extension WhoReport.Why {
    init(responder id: ResponderID, reason: DutyReason, plant: Plant) {
        responder = plant.user(of: id)
        text = reason.explanation(in: plant)
        switch reason {
        case .shift(let shift):
            by = "shift"
            self.shift = shift.rawValue
        case .rotation(let member, let count, let since):
            by = "rotation"
            self.member = member
            of = count
            self.since = since.millisecondsSinceEpoch
        case .override(let from, let until, let replaces, let note):
            by = "override"
            self.from = from.millisecondsSinceEpoch
            self.until = until.millisecondsSinceEpoch
            self.replaces = replaces.map { plant.user(of: $0) }
            self.note = note
        }
    }
}

extension Reply {
    /// The reply to a controller signal the engine took or refused; responders are named by their Unix users.
    public static func signal(_ outcome: SignalOutcome, sequence: UInt64?, plant: Plant) -> Reply {
        let seq = sequence.map(String.init)
        switch outcome.result {
        case .failure(let rejection):
            return .error(
                WireError(WireError.Code(rawValue: rejection.code.rawValue), rejection.message, sequence: sequence)
            )
        case .success(let disposition):
            let event = outcome.events.last { disposition.incidents.contains($0.incident) && $0.kind != .skipped }
            switch disposition {
            case .opened(let id), .promoted(let id), .joined(let id):
                return .ok([
                    "incident": id.description, "event": event?.kind.rawValue, "tier": event?.tier?.name,
                    "responders": event.map {
                        $0.responders.map { plant.user(of: $0) }.joined(separator: ",")
                    }, "seq": seq,
                ])
            case .repeated(let id, let count):
                return .ok(["incident": id.description, "event": "repeated", "count": String(count), "seq": seq])
            case .closed(let ids), .arrived(let ids):
                if ids.count == 1 {
                    return .ok(["incident": ids[0].description, "event": event?.kind.rawValue, "seq": seq])
                }
                return .ok(["incidents": ids.isEmpty ? nil : ids.map(\.description).joined(separator: ","), "seq": seq])
            case .unchanged(let note):
                return .ok(["note": note, "seq": seq])
            }
        }
    }
}

// MARK: Streamed JSON

extension StatusReport {
    /// The report's JSON, as `JSONEncoder` with `.sortedKeys` writes it, with each incident written as `incidents`
    /// yields it: no array of reports and no tree of values, whatever the number of calls.
    public static func json(
        site: String,
        now: Int64,
        counters: [String: Int],
        total: Int?,
        omitted: Int?,
        incidents: some Sequence<IncidentReport>,
        expectedCount: Int = 0,
        plant: PlantView? = nil
    ) -> String {
        let frame = Frame(site: site, now: now, counters: counters, total: total, omitted: omitted, plant: plant)
        var writer = JSONWriter(reservingCapacity: 1024 + expectedCount * 320)
        writer.raw(frame.prefix)
        var first = true
        for incident in incidents {
            if !first { writer.raw([UInt8(ascii: ",")]) }
            first = false
            incident.write(to: &writer)
        }
        writer.raw(frame.suffix)
        return writer.text
    }

    /// The report's JSON around its incidents: what comes before the first and after the last, so that a large
    /// report can be written incident by incident (`andond` streams a status of 100,000 calls this way). Keys
    /// sorted: counters, incidents, now, omitted, plant, site, total.
    public struct Frame: Sendable {
        public var prefix: [UInt8]
        public var suffix: [UInt8]

        public init(
            site: String,
            now: Int64,
            counters: [String: Int],
            total: Int?,
            omitted: Int?,
            plant: PlantView?
        ) {
            var head = JSONWriter()
            head.object { writer in
                for (name, value) in counters.sorted(by: { $0.key < $1.key }) { writer.field(name, value) }
            }
            prefix = Array(#"{"counters":"#.utf8) + head.bytes + Array(#","incidents":["#.utf8)
            var tail = JSONWriter()
            tail.object { writer in
                writer.field("now", now)
                writer.field("omitted", omitted)
                if let plant {
                    writer.key("plant")
                    plant.write(to: &writer)
                }
                writer.field("site", site)
                writer.field("total", total)
            }
            // `{"now":...}` less its opening brace: the rest of the report's object.
            suffix = Array("],".utf8) + tail.bytes.dropFirst()
        }
    }

    public var json: String {
        Self.json(
            site: site,
            now: now,
            counters: counters,
            total: total,
            omitted: omitted,
            incidents: incidents,
            plant: plant
        )
    }
}

extension IncidentReport {
    /// The report as one JSON object, appended to `writer`.
    public func write(to writer: inout JSONWriter) {
        writer.object { writer in
            writer.field("acknowledgedAt", acknowledgedAt)
            writer.field("acknowledgedBy", acknowledgedBy)
            writer.field("ageMilliseconds", ageMilliseconds)
            writer.field("arrivedAt", arrivedAt)
            writer.field("arrivedBy", arrivedBy)
            writer.field("category", category)
            writer.field("drill", drill)
            writer.field("id", id)
            writer.field("kind", kind)
            writer.field("line", line)
            writer.field("lineStop", lineStop)
            writer.field("nextDeadline", nextDeadline)
            writer.field("owners", owners)
            writer.field("raisedAt", raisedAt)
            writer.field("responders", responders)
            writer.field("rota", rota)
            writer.field("shelf", shelf)
            writer.field("signals", signals)
            writer.field("state", state)
            writer.field("station", station)
            writer.field("stations", stations)
            writer.field("text", text)
            writer.field("tier", tier)
            writer.field("tierNumber", tierNumber)
            writer.field("tiers", tiers)
        }
    }
}
