/// Signals from line controllers: calls raised, repeated, cleared; lines stopped, joined and resumed; arrivals at a
/// station; heartbeats.
extension EscalationEngine {
    /// Applies a signal from a line controller at `instant`.
    public mutating func receive(
        _ signal: Signal,
        at instant: Instant,
        origin: SignalOrigin = SignalOrigin()
    )
        -> SignalOutcome
    {
        var events = advance(to: instant)
        let at = now
        if let rejection = check(signal) {
            return SignalOutcome(result: .failure(rejection), events: events)
        }
        // A death certificate is not the controller heard: it opens the silent call instead of ending it.
        if case .lost(let line, let reason) = signal {
            let disposition = lost(line, reason: reason, at: at, events: &events)
            prune()
            return SignalOutcome(result: .success(disposition), events: events)
        }
        hear(signal.line, at: at, events: &events)
        let disposition: SignalDisposition
        switch signal {
        case .andon(let line, let station, let category, let text):
            disposition = andon(
                line: line,
                station: station,
                category: category,
                text: text,
                at: at,
                origin: origin,
                events: &events
            )
        case .stop(let line, let station, let reason):
            disposition = stop(line: line, station: station, reason: reason, at: at, origin: origin, events: &events)
        case .clear(let line, let station, let category):
            disposition = clear(
                line: line,
                station: station,
                category: category,
                at: at,
                origin: origin,
                events: &events
            )
        case .arrived(let line, let station, let responder):
            let actor = responder.map(Actor.responder) ?? .station(line, station)
            var ids: [IncidentID] = []
            for id in calls(at: line, station) {
                guard var incident = incidents[id], !incident.hasArrived else { continue }
                recordArrival(&incident, by: actor, note: nil, at: at, origin: origin, events: &events)
                incidents[id] = incident
                ids.append(id)
            }
            disposition = .arrived(ids)
        case .resume(let line):
            disposition = resume(line: line, at: at, origin: origin, events: &events)
        case .heartbeat, .lost:
            disposition = .unchanged(note: nil)
        }
        prune()
        return SignalOutcome(result: .success(disposition), events: events)
    }

    private func check(_ signal: Signal) -> SignalRejection? {
        let line: Line
        switch plant.line(signal.line) {
        case .success(let found): line = found
        case .failure(let rejection): return rejection
        }
        let station: StationID? =
            switch signal {
            case .andon(_, let station, _, _), .clear(_, let station, _), .arrived(_, let station, _): station
            case .stop(_, let station, _): station
            case .resume, .heartbeat, .lost: nil
            }
        if let station, let stations = line.stations, !stations.contains(station) {
            return SignalRejection(
                code: .unknownStation,
                message: "station \(station) is not configured on line \(line.id)"
            )
        }
        if case .andon(_, _, let category, _) = signal,
            case .failure(let rejection) = plant.policy(for: category, on: line)
        {
            return rejection
        }
        if case .arrived(_, _, let responder?) = signal, plant.responders[responder] == nil {
            return SignalRejection(
                code: .unknownResponder,
                message: "responder \(responder) is not in the configuration; send the key under responders:, "
                    + "or leave responder= out"
            )
        }
        return nil
    }

    /// The open calls at a station, oldest first: its andons of every category (a promoted one included), and the
    /// line's stop when it lists the station.
    func calls(at line: LineID, _ station: StationID) -> [IncidentID] {
        var ids = index.calls(at: line, station)
        if let stop = index.lineStop(of: line), !ids.contains(stop),
            incidents[stop]?.stations.contains(station) == true
        {
            ids.append(stop)
        }
        return ids.sorted()
    }

    private mutating func andon(
        line: LineID,
        station: StationID,
        category: Category,
        text: String?,
        at: Instant,
        origin: SignalOrigin,
        events: inout [Event]
    ) -> SignalDisposition {
        // A station under repair: its cord is counted and journaled, and calls nobody (never a safety andon).
        if category != .safety, let note = ignoredAsOutOfService(line, station, category: category, at: at) {
            return .unchanged(note: note)
        }
        if let id = index.atStation(line, station, category) {
            return repeated(id, at: at, origin: origin, events: &events)
        }
        var incident = makeIncident(
            kind: .andon,
            line: line,
            station: station,
            category: category,
            at: at,
            origin: origin
        )
        incident.text = text
        incident.policy = plant.lines[line]?.policies[category] ?? incident.policy
        incident.pagesEveryone = plant.pageEveryone.contains(category)
        if let stop = index.lineStop(of: line), incidents[stop]?.stations.contains(station) == true {
            incident.lineStop = stop
        }
        let base: Severity = incident.pagesEveryone ? .alert : category == .safety ? .error : .warning
        var raised = place(incident, as: .raised, at: at, base: base, reason: text, origin: origin)
        if !shelves.isEmpty { shelveIfTaken(incident.id, events: &raised) }
        events += raised
        return .opened(incident.id)
    }

    /// A line has at most one open stop. The first `stop` opens it (taking over the station's oldest andon, when it
    /// names a station with one open); later ones join it, listing their stations, so its minutes count once. Either
    /// way the station's other open calls are taken up by the stop: each keeps its own chain and responders, and its
    /// entries name the stop.
    private mutating func stop(
        line: LineID,
        station: StationID?,
        reason: String?,
        at: Instant,
        origin: SignalOrigin,
        events: inout [Event]
    ) -> SignalDisposition {
        if let id = index.lineStop(of: line), var stop = incidents[id] {
            let disposition: SignalDisposition
            if let station, !stop.stations.contains(station) {
                stop.stations.append(station)
                stop.signalCount += 1
                let madeReal = Self.makeReal(&stop, by: origin)
                incidents[id] = stop
                var event = Event(
                    kind: .joined,
                    at: at,
                    incident: stop,
                    tier: position(of: stop),
                    responders: stop.responders,
                    waited: at.duration(since: stop.stoppedAt ?? stop.raisedAt),
                    reason: reason,
                    count: stop.signalCount,
                    origin: origin,
                    severity: callSeverity(stop, base: .warning)
                )
                // The entry is about the station that stopped now; the stop's first station is in ANDON_STATIONS.
                event.station = station
                event.madeReal = madeReal
                events.append(event)
                disposition = .joined(id)
            } else {
                disposition = repeated(id, at: at, origin: origin, events: &events)
            }
            if let station { takeUp(line, station, into: id, at: at, origin: origin, events: &events) }
            return disposition
        }
        let stopPolicy = plant.lines[line]?.stopPolicy
        if let station, let id = calls(at: line, station).first(where: { incidents[$0]?.kind == .andon }),
            var incident = incidents[id]
        {
            index.remove(incident)
            // A line stop is never shelved: the promoted call calls its chain from the start.
            detachFromShelf(&incident)
            incident.kind = .stop
            incident.stations = [station]
            incident.reason = reason ?? incident.reason
            incident.stoppedAt = at
            incident.policy = stopPolicy ?? incident.policy
            incident.acknowledgedBy = nil
            incident.acknowledgedAt = nil
            incident.signalCount += 1
            let madeReal = Self.makeReal(&incident, by: origin)
            var placed = place(incident, as: .promoted, at: at, base: .error, reason: reason, origin: origin)
            if madeReal, let last = placed.indices.last { placed[last].madeReal = true }
            events += placed
            takeUp(line, station, into: id, at: at, origin: origin, events: &events)
            return .promoted(id)
        }
        var incident = makeIncident(kind: .stop, line: line, station: station, category: nil, at: at, origin: origin)
        incident.stations = station.map { [$0] } ?? []
        incident.reason = reason
        incident.stoppedAt = at
        incident.policy = stopPolicy ?? incident.policy
        events += place(incident, as: .raised, at: at, base: .error, reason: reason, origin: origin)
        return .opened(incident.id)
    }

    /// A real signal for a drill's call makes the call real: a drill flag is never inherited by a real signal.
    /// A drill signal for a real call leaves it real. Returns whether the call stopped being a drill.
    static func makeReal(_ incident: inout Incident, by origin: SignalOrigin) -> Bool {
        guard incident.origin.drill, !origin.drill else { return false }
        incident.origin.drill = false
        return true
    }

    /// Links the station's open andons that no stop has taken up yet to the line's stop `stop` (`promoted`).
    private mutating func takeUp(
        _ line: LineID,
        _ station: StationID,
        into stop: IncidentID,
        at: Instant,
        origin: SignalOrigin,
        events: inout [Event]
    ) {
        for id in index.calls(at: line, station) where id != stop {
            guard var incident = incidents[id], incident.kind == .andon, incident.lineStop == nil else { continue }
            incident.lineStop = stop
            incidents[id] = incident
            events.append(
                Event(
                    kind: .promoted,
                    at: at,
                    incident: incident,
                    tier: position(of: incident),
                    responders: incident.responders,
                    reason: "line \(line) stopped at \(station) (incident \(stop))",
                    origin: origin,
                    severity: callSeverity(incident, base: .error)
                )
            )
        }
    }

    private mutating func repeated(
        _ id: IncidentID,
        at: Instant,
        origin: SignalOrigin,
        events: inout [Event]
    )
        -> SignalDisposition
    {
        guard var incident = incidents[id] else { return .unchanged(note: nil) }
        incident.signalCount += 1
        let madeReal = Self.makeReal(&incident, by: origin)
        // A call that pages everyone (safety) logs every repeat: it is never rate-limited; nor is the repeat that
        // makes a drill real.
        if madeReal || incident.pagesEveryone
            || incident.lastRepeatLoggedAt.map({ at >= $0 + plant.coalesceWithin }) ?? true
        {
            incident.lastRepeatLoggedAt = at
            var event = Event(
                kind: .repeated,
                at: at,
                incident: incident,
                tier: position(of: incident),
                count: incident.signalCount,
                origin: origin,
                severity: incident.pagesEveryone || madeReal ? .warning : .notice
            )
            event.madeReal = madeReal
            events.append(event)
        }
        incidents[id] = incident
        return .repeated(id, count: incident.signalCount)
    }

    /// The station reset its cord: its andons end (only the one of `category`, when given). A call of a
    /// `page_everyone` category closed this way, with no countermeasure, is flagged for KPO in its entry.
    private mutating func clear(
        line: LineID,
        station: StationID,
        category: Category?,
        at: Instant,
        origin: SignalOrigin,
        events: inout [Event]
    )
        -> SignalDisposition
    {
        var closed: [IncidentID] = []
        var stop: IncidentID?
        for id in index.calls(at: line, station) {
            guard let incident = incidents[id], category.map({ $0 == incident.category }) ?? true else { continue }
            guard incident.kind == .andon else {
                stop = id
                continue
            }
            var event = Event(
                kind: .cleared,
                at: at,
                incident: incident,
                tier: position(of: incident),
                origin: origin,
                severity: incident.pagesEveryone ? .warning : .info
            )
            event.needsReview = incident.pagesEveryone
            events.append(event)
            close(id, at: at)
            closed.append(id)
        }
        if closed.isEmpty, let stop {
            return .unchanged(note: "incident \(stop) is a line stop; it ends when the line resumes")
        }
        return .closed(closed)
    }

    private mutating func resume(
        line: LineID,
        at: Instant,
        origin: SignalOrigin,
        events: inout [Event]
    )
        -> SignalDisposition
    {
        let ids = index.stops(of: line).sorted()
        for id in ids {
            guard let incident = incidents[id] else { continue }
            events.append(
                Event(
                    kind: .resumed,
                    at: at,
                    incident: incident,
                    tier: position(of: incident),
                    waited: at.duration(since: incident.stoppedAt ?? incident.raisedAt),
                    origin: origin,
                    severity: .info
                )
            )
            close(id, at: at)
        }
        return .closed(ids)
    }

    /// The line's controller died (`lost`): its silent call opens now, unless one is open.
    private mutating func lost(_ line: LineID, reason: String?, at: Instant, events: inout [Event]) -> SignalDisposition
    {
        if let open = index.silent(of: line) { return .repeated(open, count: incidents[open]?.signalCount ?? 1) }
        let incident = makeSilent(line, at: at, reason: reason ?? "the line controller is gone")
        events += place(incident, as: .silent, at: at, base: .error, reason: incident.reason)
        // A heartbeat watch counts the silence from here: the controller is known to be gone.
        if var heartbeat = heartbeats[line] {
            heartbeat.quietSince = min(heartbeat.quietSince, at)
            heartbeats[line] = heartbeat
        }
        return .opened(incident.id)
    }

    private mutating func hear(_ line: LineID, at: Instant, events: inout [Event]) {
        // A line without a heartbeat watch can have a silent call only from `lost` (a bridge saw its controller die).
        guard var heartbeat = heartbeats[line] else {
            guard let id = index.silent(of: line), let incident = incidents[id] else { return }
            events.append(
                Event(
                    kind: .heard,
                    at: at,
                    incident: incident,
                    tier: position(of: incident),
                    waited: at.duration(since: incident.raisedAt),
                    severity: .info
                )
            )
            close(id, at: at)
            return
        }
        // The silence is from the last time the controller was heard, not from when the silent call opened.
        let lastHeard = heartbeat.quietSince
        heartbeat.quietSince = max(heartbeat.quietSince, at)
        heartbeats[line] = heartbeat
        if let id = index.silent(of: line), let incident = incidents[id] {
            events.append(
                Event(
                    kind: .heard,
                    at: at,
                    incident: incident,
                    tier: position(of: incident),
                    waited: at.duration(since: min(lastHeard, incident.raisedAt)),
                    severity: .info
                )
            )
            close(id, at: at)
        } else if heartbeat.armedAt == nil {
            arm(line, at: at + heartbeat.within)
        }
    }
}
