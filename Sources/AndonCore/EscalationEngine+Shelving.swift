/// Shelving and out-of-service stations: calls recorded and timed but nobody called (OPC UA Part 9; ISA-18.2's
/// shelved alarms), and stations under repair whose cords raise nothing. What each does is journaled as a
/// `PlantNotice` (collected, `takeNotices`); the calls it touches get `shelved` and `unshelved` events.
extension EscalationEngine {
    /// What a shelving action did, for its reply.
    public struct ShelfOutcome: Sendable, Hashable {
        public var shelves: [UInt64] = []
        public var calls: [IncidentID] = []
        public var until: Instant?

        public init(shelves: [UInt64] = [], calls: [IncidentID] = [], until: Instant? = nil) {
            self.shelves = shelves
            self.calls = calls
            self.until = until
        }
    }

    /// The notices collected since the last call: the shell journals them with the input's events.
    public mutating func takeNotices() -> [PlantNotice] {
        defer { notices = [] }
        return notices
    }

    /// The standing shelves, oldest first.
    public var standingShelves: [Shelf] { shelves.values.sorted { $0.id < $1.id } }

    /// The stations out of service, by line and station.
    public var stationsOutOfService: [OutOfService] {
        outOfService.values.sorted { ($0.line, $0.station) < ($1.line, $1.station) }
    }

    /// Whether the call is shelved now.
    public func isShelved(_ incident: Incident) -> Bool { incident.shelf != nil }

    /// What a call at `line`/`station` of `category` would meet now besides its chain: a station out of service (no
    /// call at all) or a timed shelf (nobody called); nil for neither, and for a line stop or a safety call.
    public func standingNote(line: LineID, station: StationID?, category: Category?, stop: Bool) -> String? {
        guard !stop, let category, category != .safety, !plant.pageEveryone.contains(category) else { return nil }
        if let station, let entry = outOfService[StationRef(line: line, station: station)] {
            return "OUT OF SERVICE: station \(station) of line \(line) (\(entry.reason), by "
                + "\(plant.displayName(of: entry.by))): an andon there raises no call"
        }
        let shelf = standingShelves.first {
            !$0.isOneShot && $0.line == line && ($0.station == nil || $0.station == station)
                && ($0.category == nil || $0.category == category)
        }
        guard let shelf, let until = shelf.until else { return nil }
        return "SHELVED: shelf \(shelf.id) (\(shelf.reason), by \(plant.displayName(of: shelf.by))) holds these calls "
            + "until \(plant.timeZone.local(until)): a call now is recorded and calls nobody until then"
    }

    // MARK: Actions

    /// Shelves the line's andons (of `station`, of `category`): for `duration` (at most `maxShelve`), the open ones and
    /// the new ones; or, `duration` nil, one-shot: the open ones until each is over.
    public mutating func shelve(
        line: LineID,
        station: StationID?,
        category: Category?,
        for duration: Duration?,
        reason: String,
        by actor: Actor,
        at instant: Instant
    ) -> (Result<ShelfOutcome, ActionError>, [Event]) {
        var events = advance(to: instant)
        let at = now
        if let error = checkPlace(line: line, station: station) { return (.failure(error), events) }
        if category == .safety || category.map(plant.pageEveryone.contains) == true {
            return (
                .failure(
                    ActionError(
                        code: .notShelvable,
                        message: "\(category!) calls are never shelved: they call everyone, always"
                    )
                ), events
            )
        }
        if let duration {
            guard duration > .zero, duration <= plant.maxShelve else {
                return (
                    .failure(
                        ActionError(
                            code: .badValue,
                            message: "a shelf lasts at most \(plant.maxShelve.compactDescription) (max_shelve); "
                                + "\(duration.compactDescription) is longer"
                        )
                    ), events
                )
            }
        }
        var shelf = Shelf(
            id: nextShelf,
            line: line,
            station: station,
            category: category,
            until: duration.map { at + $0 },
            calls: [],
            reason: reason,
            by: actor,
            at: at
        )
        let open = index.ids(after: nil, count: .max) { incidents[$0] != nil }.compactMap { incidents[$0] }
            .filter { $0.shelf == nil && Shelf.shelvable($0) && shelf.matches($0) }
        if shelf.isOneShot, open.isEmpty {
            return (
                .failure(
                    ActionError(
                        code: .nothingShelved,
                        message: "no open call of \(Self.place(line, station, category)) to shelve until it clears "
                            + "(safety calls and line stops are never shelved); shelve for a time instead (--for)"
                    )
                ), events
            )
        }
        nextShelf += 1
        for var incident in open {
            put(&incident, on: &shelf, at: at, events: &events)
        }
        shelves[shelf.id] = shelf
        if let until = shelf.until { queue.schedule(.shelfEnd(shelf.id), at: until) }
        var notice = notice(.shelve, of: shelf, at: at)
        notice.calls = shelf.calls
        notices.append(notice)
        prune()
        return (.success(ShelfOutcome(shelves: [shelf.id], calls: shelf.calls, until: shelf.until)), events)
    }

    /// Ends the line's shelves (those of `station` and `category`, when given): every call still open on them is
    /// announced again (`unshelved`: its tier is called, its timers run).
    public mutating func unshelve(
        line: LineID,
        station: StationID?,
        category: Category?,
        by actor: Actor,
        at instant: Instant
    ) -> (Result<ShelfOutcome, ActionError>, [Event]) {
        var events = advance(to: instant)
        let at = now
        if let error = checkPlace(line: line, station: station) { return (.failure(error), events) }
        let ids = standingShelves.filter {
            $0.line == line && (station == nil || $0.station == station) && (category == nil || $0.category == category)
        }.map(\.id)
        guard !ids.isEmpty else {
            return (
                .failure(
                    ActionError(
                        code: .nothingShelved,
                        message: "nothing of \(Self.place(line, station, category)) is shelved"
                    )
                ), events
            )
        }
        var outcome = ShelfOutcome(shelves: ids)
        for id in ids { outcome.calls += endShelf(id, by: actor, expired: false, at: at, events: &events) }
        prune()
        return (.success(outcome), events)
    }

    /// Takes a station out of service: its andons are counted and journaled, and raise no call, until it is back.
    public mutating func takeOutOfService(
        line: LineID,
        station: StationID,
        reason: String,
        by actor: Actor,
        at instant: Instant
    ) -> (Result<ShelfOutcome, ActionError>, [Event]) {
        let events = advance(to: instant)
        if let error = checkPlace(line: line, station: station) { return (.failure(error), events) }
        let key = StationRef(line: line, station: station)
        var entry = OutOfService(line: line, station: station, reason: reason, by: actor, at: now)
        if let previous = outOfService[key] {
            entry.at = previous.at
            entry.signals = previous.signals
        }
        outOfService[key] = entry
        var notice = PlantNotice(kind: .outOfService, at: now, line: line, station: station)
        notice.reason = reason
        notice.by = actor
        notices.append(notice)
        return (.success(ShelfOutcome()), events)
    }

    /// Puts a station back in service.
    public mutating func putInService(
        line: LineID,
        station: StationID,
        by actor: Actor,
        at instant: Instant
    ) -> (Result<ShelfOutcome, ActionError>, [Event]) {
        let events = advance(to: instant)
        guard let entry = outOfService.removeValue(forKey: StationRef(line: line, station: station)) else {
            return (
                .failure(
                    ActionError(
                        code: .nothingShelved,
                        message: "station \(station) of line \(line) is not out of service"
                    )
                ), events
            )
        }
        var notice = PlantNotice(kind: .inService, at: now, line: line, station: station)
        notice.by = actor
        notice.reason = entry.reason
        notice.lasted = now.duration(since: entry.at)
        notice.count = entry.signals
        notices.append(notice)
        return (.success(ShelfOutcome()), events)
    }

    // MARK: Inside the engine

    /// An andon from a station out of service: counted and journaled, no call. Nil when the station is in service.
    mutating func ignoredAsOutOfService(
        _ line: LineID,
        _ station: StationID,
        category: Category,
        at: Instant
    ) -> String? {
        let key = StationRef(line: line, station: station)
        guard var entry = outOfService[key] else { return nil }
        entry.signals += 1
        outOfService[key] = entry
        var notice = PlantNotice(kind: .ignored, at: at, line: line, station: station, category: category)
        notice.reason = entry.reason
        notice.count = entry.signals
        notices.append(notice)
        return "station \(station) of line \(line) is out of service (\(entry.reason)): no call raised"
    }

    /// A new call a standing shelf takes: shelved at once, nobody called (its `raised` event names nobody).
    mutating func shelveIfTaken(_ id: IncidentID, events: inout [Event]) {
        guard var incident = incidents[id], let shelfID = shelves.values.filter({ $0.takes(incident) }).map(\.id).min(),
            var shelf = shelves[shelfID]
        else { return }
        incident.shelf = shelfID
        incident.responders = []
        incident.owners = []
        incident.notified = []
        clearDeadline(&incident)
        incidents[id] = incident
        shelf.calls.append(id)
        shelves[shelfID] = shelf
        for index in events.indices where events[index].incident == id && events[index].kind == .raised {
            events[index].responders = []
            events[index].notified = []
            events[index].shelf = shelfID
            events[index].severity = .notice
        }
    }

    /// Takes a call off its shelf without announcing it (it is promoted to a stop, escalated by hand: its own event
    /// calls people).
    mutating func detachFromShelf(_ incident: inout Incident) {
        guard let id = incident.shelf else { return }
        incident.shelf = nil
        shelves[id]?.calls.removeAll { $0 == incident.id }
    }

    /// A closed call leaves its shelf; a one-shot shelf with no call left ends.
    mutating func leaveShelf(_ incident: Incident, at: Instant) {
        guard let id = incident.shelf, var shelf = shelves[id] else { return }
        shelf.calls.removeAll { $0 == incident.id }
        shelves[id] = shelf
        if shelf.isOneShot, shelf.calls.isEmpty {
            var events: [Event] = []
            _ = endShelf(id, by: nil, expired: false, at: at, events: &events)
        }
    }

    /// A timed shelf's end fell due.
    mutating func shelfFellDue(_ id: UInt64, at: Instant, events: inout [Event]) {
        guard let shelf = shelves[id], shelf.until == at else { return }
        _ = endShelf(id, by: nil, expired: true, at: at, events: &events)
    }

    /// At a shift's start: every shelf and station out of service still standing is said again.
    mutating func announceStanding(at: Instant) {
        for shelf in standingShelves {
            var notice = notice(.standing, of: shelf, at: at)
            notice.calls = shelf.calls
            notices.append(notice)
        }
        for entry in stationsOutOfService {
            var notice = PlantNotice(kind: .standing, at: at, line: entry.line, station: entry.station)
            notice.reason = entry.reason
            notice.by = entry.by
            notice.lasted = at.duration(since: entry.at)
            notice.count = entry.signals
            notices.append(notice)
        }
    }

    /// Ends a shelf: each of its calls still open is announced again where it stands. Returns those calls.
    private mutating func endShelf(
        _ id: UInt64,
        by actor: Actor?,
        expired: Bool,
        at: Instant,
        events: inout [Event]
    ) -> [IncidentID] {
        guard let shelf = shelves.removeValue(forKey: id) else { return [] }
        var announced: [IncidentID] = []
        for call in shelf.calls {
            guard var incident = incidents[call], incident.shelf == id else { continue }
            incident.shelf = nil
            if incident.isAcknowledged {
                scheduleAcknowledged(&incident)
                incidents[call] = incident
                continue
            }
            let skipped = enterTier(&incident, from: incident.tierIndex, at: at)
            incidents[call] = incident
            events += arrival(
                .unshelved,
                of: incident,
                at: at,
                skipped: skipped,
                base: .warning,
                by: actor,
                reason: expired ? "its shelf ended at its time" : actor.map { "unshelved by \($0)" } ?? "unshelved"
            )
            announced.append(call)
        }
        var notice = notice(.unshelve, of: shelf, at: at)
        notice.by = actor
        notice.calls = announced
        notice.lasted = at.duration(since: shelf.at)
        notice.expired = expired
        notices.append(notice)
        return announced
    }

    private mutating func put(_ incident: inout Incident, on shelf: inout Shelf, at: Instant, events: inout [Event]) {
        incident.shelf = shelf.id
        clearDeadline(&incident)
        incidents[incident.id] = incident
        shelf.calls.append(incident.id)
        events.append(
            Event(
                kind: .shelved,
                at: at,
                incident: incident,
                tier: position(of: incident),
                by: shelf.by,
                reason: shelf.reason,
                severity: .notice
            )
        )
    }

    private func notice(_ kind: PlantNotice.Kind, of shelf: Shelf, at: Instant) -> PlantNotice {
        var notice = PlantNotice(kind: kind, at: at, line: shelf.line, station: shelf.station, category: shelf.category)
        notice.shelf = shelf.id
        notice.until = shelf.until
        notice.oneShot = shelf.isOneShot
        notice.reason = shelf.reason
        notice.by = shelf.by
        return notice
    }

    private func checkPlace(line: LineID, station: StationID?) -> ActionError? {
        switch plant.line(line) {
        case .failure(let rejection): return ActionError(code: .unknownLine, message: rejection.message)
        case .success(let found):
            if let station, let stations = found.stations, !stations.contains(station) {
                return ActionError(
                    code: .unknownStation,
                    message: "station \(station) is not configured on line \(line)"
                )
            }
            return nil
        }
    }

    static func place(_ line: LineID, _ station: StationID?, _ category: Category?) -> String {
        var text = "line \(line)"
        if let station { text += " station \(station)" }
        if let category { text += " (\(category))" }
        return text
    }
}
