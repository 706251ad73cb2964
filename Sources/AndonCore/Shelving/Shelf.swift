/// A shelf: a line's calls (of one station, of one category, or both) recorded and timed, but neither notified nor
/// escalated, while a known problem is being worked on. Timed (until an instant, at most the plant's `maxShelve`), or
/// one-shot: the calls open when it was made, until they are over (OPC UA Part 9's timed and one-shot shelving).
/// Safety calls and line stops are never shelved.
public struct Shelf: Sendable, Hashable, Codable {
    public var id: UInt64
    public var line: LineID
    public var station: StationID?
    public var category: Category?
    /// A timed shelf's end; nil for a one-shot shelf.
    public var until: Instant?
    /// The calls it holds now (a one-shot shelf ends when none is left).
    public var calls: [IncidentID]
    public var reason: String
    public var by: Actor
    public var at: Instant

    public var isOneShot: Bool { until == nil }

    /// Whether a new call would be shelved by it: a timed shelf takes the line's (station's, category's) new andons
    /// too; a one-shot shelf only the calls it took.
    func takes(_ incident: Incident) -> Bool {
        !isOneShot && Self.shelvable(incident) && matches(incident)
    }

    func matches(_ incident: Incident) -> Bool {
        incident.line == line && (station == nil || incident.station == station)
            && (category == nil || incident.category == category)
    }

    /// Safety (and every `page_everyone` category) and line stops are never shelved, nor a call a stop took up.
    static func shelvable(_ incident: Incident) -> Bool {
        incident.kind == .andon && incident.category != .safety && !incident.pagesEveryone && incident.lineStop == nil
    }
}

/// A station taken out of service (under repair): its andons are counted and journaled, but raise no call.
public struct OutOfService: Sendable, Hashable, Codable {
    public var line: LineID
    public var station: StationID
    public var reason: String
    public var by: Actor
    public var at: Instant
    /// Andons it sent meanwhile.
    public var signals: Int = 0
}

/// A station of a line.
public struct StationRef: Sendable, Hashable, Codable, Comparable {
    public var line: LineID
    public var station: StationID

    public init(line: LineID, station: StationID) {
        self.line = line
        self.station = station
    }

    public static func < (lhs: StationRef, rhs: StationRef) -> Bool {
        (lhs.line, lhs.station) < (rhs.line, rhs.station)
    }
}

/// A change of the plant's shelves and stations out of service, for the journal (its own MESSAGE_IDs): not a step of
/// one call. The engine collects them as it goes (`takeNotices`).
public struct PlantNotice: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        /// Calls shelved (`andonctl shelve`).
        case shelve
        /// A shelf ended: by hand, at its time, or (one-shot) when its calls were over.
        case unshelve
        /// A station taken out of service, and back in.
        case outOfService = "out-of-service"
        case inService = "in-service"
        /// An out-of-service station pulled its cord: counted, no call.
        case ignored
        /// At a shift's start: a shelf, or a station out of service, still standing.
        case standing
    }

    public var kind: Kind
    public var at: Instant
    public var line: LineID
    public var station: StationID?
    public var category: Category?
    /// The shelf's number (shelve, unshelve, standing).
    public var shelf: UInt64?
    public var until: Instant?
    public var oneShot = false
    public var reason: String?
    public var by: Actor?
    /// The calls shelved (shelve), or re-announced (unshelve).
    public var calls: [IncidentID] = []
    /// unshelve: how long it stood. ignored: the station's andons while out of service so far.
    public var lasted: Duration?
    public var count: Int?
    /// unshelve: it ended at its time, not by hand.
    public var expired = false

    public init(kind: Kind, at: Instant, line: LineID, station: StationID? = nil, category: Category? = nil) {
        self.kind = kind
        self.at = at
        self.line = line
        self.station = station
        self.category = category
    }

    public var severity: Severity {
        switch kind {
        case .shelve, .outOfService, .standing: .warning
        case .unshelve, .inService: .notice
        case .ignored: .info
        }
    }
}

extension PlantNotice {
    /// The sentence the journal's `MESSAGE` carries.
    public func message(in plant: Plant) -> String {
        var place = "line \(line)"
        if let station { place += " station \(station)" }
        if let category { place += " \(category) calls" }
        let who = by.map { plant.displayName(of: $0) } ?? "andond"
        let why = reason.map { ": \($0)" } ?? ""
        let until = self.until.map { "until \(plant.timeZone.local($0))" } ?? "until its calls are over"
        let listed =
            calls.isEmpty
            ? "" : " (incident\(calls.count == 1 ? "" : "s") \(calls.map(\.description).joined(separator: ", ")))"
        switch kind {
        case .shelve:
            return "SHELVED \(place) \(until) by \(who)\(why); \(calls.count) open call\(calls.count == 1 ? "" : "s")"
                + " shelved\(listed): recorded, nobody called"
        case .unshelve:
            let how = expired ? "ended at its time" : by == nil ? "ended: its calls are over" : "ended by \(who)"
            return
                "Shelf \(shelf.map(String.init) ?? "?") of \(place) \(how) after \(lasted?.compactDescription ?? "?")"
                + (calls.isEmpty ? "" : "; calling again for\(listed)")
        case .outOfService:
            return
                "\(place.prefix(1).uppercased())\(place.dropFirst()) OUT OF SERVICE by \(who)\(why): its cords raise no call"
        case .inService:
            return "\(place.prefix(1).uppercased())\(place.dropFirst()) back in service (by \(who)) after "
                + "\(lasted?.compactDescription ?? "?"); \(count ?? 0) cord pull\(count == 1 ? "" : "s") ignored meanwhile"
        case .ignored:
            let what =
                category.map { "\($0.rawValue.prefix(1).uppercased())\($0.rawValue.dropFirst()) andon" } ?? "Andon"
            return "\(what) from line \(line) station \(station.map(\.rawValue) ?? "?") ignored: the station is out of "
                + "service\(why) (\(count ?? 1) so far)"
        case .standing:
            if let shelf {
                return
                    "Still shelved at the shift's start: shelf \(shelf) of \(place) \(until) (by \(who)\(why))\(listed)"
            }
            return "Still out of service at the shift's start: \(place) since \(lasted?.compactDescription ?? "?") ago "
                + "(by \(who)\(why))"
        }
    }
}
