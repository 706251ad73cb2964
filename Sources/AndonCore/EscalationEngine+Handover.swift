/// Shift handover: when who is on duty changes (a shift boundary, a rotation turn, an override's edge), every open call
/// whose tier is affected passes to the incoming responders. Deadlines do not restart.
extension EscalationEngine {
    /// Queues the one duty-change timer for the first change after `instant`.
    mutating func armDutyChange(after instant: Instant) {
        let next = plant.nextDutyChange(after: instant)
        dutyChangeAt = next
        queue.schedule(.dutyChange, at: next)
    }

    /// The rotas of the tiers the call has reached, its current one last (every tier, for a call that pages
    /// everyone).
    func reachedRotas(of incident: Incident) -> [RotaID] {
        let tiers = policy(of: incident).tiers
        let last = incident.pagesEveryone ? tiers.count - 1 : min(incident.tierIndex, tiers.count - 1)
        return tiers[0...last].map { plant.rota(for: $0, on: incident.line) }
    }

    /// Whether `responder` is on duty for the call at `at`: for a tier it has reached, or for KPO.
    func isOnDuty(_ responder: ResponderID, for incident: Incident, at: Instant) -> Bool {
        if incident.responders.contains(responder) { return true }
        let shift = plant.calendar.occurrence(at: at)?.shift
        return (reachedRotas(of: incident) + [.kpo]).contains {
            plant.duty(of: $0, at: at, shift: shift).responders.contains(responder)
        }
    }

    /// Calls handed over per chunk, and the time between chunks: a shift change with many open calls never holds the
    /// engine for long, and signals are handled between chunks. 10,000 calls a second is what the commit and the
    /// journal take beside a controller's signals without making it wait (scripts/bench handover): 500 open calls go
    /// at once, 100,000 take 10 s.
    static let handoverChunk = 500
    static let handoverStep = Duration.milliseconds(50)

    /// Starts handing every open call over to whoever is on duty at `at`, in incident order: the first chunk now, the
    /// next ones `handoverStep` apart (timers in the one queue, so the same inputs at the same instants always hand
    /// over the same calls at the same moments). A sweep still under way starts again: each call is compared with
    /// who is on duty now, so nothing is missed.
    mutating func startHandover(at: Instant, events: inout [Event]) {
        // A shift starts: what is shelved or out of service is said again, for the incoming shift.
        if !shelves.isEmpty || !outOfService.isEmpty, plant.calendar.occurrence(at: at)?.start == at {
            announceStanding(at: at)
        }
        sweep = HandoverSweep(at: at, next: at, after: nil)
        continueHandover(notBefore: now, events: &events)
    }

    /// Hands over the next chunk of the sweep; queues the one after it, `handoverStep` after `notBefore` at the
    /// earliest (the instant the engine is advancing to: a late timer never makes up by handing over many chunks at
    /// once), or ends the sweep.
    mutating func continueHandover(notBefore: Instant, events: inout [Event]) {
        guard var sweep else { return }
        sweepChunks += 1
        let ids = openIDs(after: sweep.after, count: Self.handoverChunk)
        handOver(ids, at: sweep.at, events: &events)
        guard ids.count == Self.handoverChunk, let last = ids.last else {
            self.sweep = nil
            return
        }
        sweep.after = last
        sweep.next = max(sweep.next, notBefore) + Self.handoverStep
        self.sweep = sweep
        queue.schedule(.handoverChunk, at: sweep.next)
    }

    /// The `count` lowest IDs of open incidents above `after`, in order (from the index's ordered IDs).
    func openIDs(after: IncidentID?, count: Int) -> [IncidentID] {
        let open = incidents
        return index.ids(after: after, count: count) { open[$0] != nil }
    }

    /// Hands the calls `ids` over to whoever is on duty at `at`.
    ///
    /// - The call's responders become those on duty for its tier now; an unacknowledged call is theirs, and so is an
    ///   acknowledged one whose owner went off duty (`handed-over`, from whom, to whom).
    /// - Whoever lost their place (off duty for every tier the call reached) may still act on it for the plant's
    ///   handover grace; whoever came on duty for one of those tiers may act on it now.
    /// - A tier left with nobody on duty passes the call on to the next tier with someone (`escalated`).
    mutating func handOver(_ ids: [IncidentID], at: Instant, events: inout [Event]) {
        let plant = self.plant
        let shift = plant.calendar.occurrence(at: at)?.shift
        var cache: [RotaID: [ResponderID]] = [:]
        func onDuty(_ rota: RotaID) -> [ResponderID] {
            if let known = cache[rota] { return known }
            let found = plant.duty(of: rota, at: at, shift: shift).responders
            cache[rota] = found
            return found
        }
        let kpo = onDuty(.kpo)
        // Calls at the same place of the same chain share who may act and who holds them: worked out once each.
        struct Place: Hashable {
            var line: LineID
            var policy: PolicyID
            var tierIndex: Int
            var rota: RotaID
            var pagesEveryone: Bool
        }
        var places: [Place: (entitled: [ResponderID], holders: [ResponderID])] = [:]
        for id in ids {
            // A shelved call calls nobody: whoever is on duty when its shelf ends is called then.
            guard var incident = incidents[id], incident.shelf == nil else { continue }
            let place = Place(
                line: incident.line,
                policy: incident.policy,
                tierIndex: incident.tierIndex,
                rota: incident.rota,
                pagesEveryone: incident.pagesEveryone
            )
            let reach: (entitled: [ResponderID], holders: [ResponderID])
            if let known = places[place] {
                reach = known
            } else {
                var entitled: [ResponderID] = []
                for rota in reachedRotas(of: incident) {
                    for responder in onDuty(rota) where !entitled.contains(responder) { entitled.append(responder) }
                }
                let holders = incident.pagesEveryone ? entitled : onDuty(incident.rota)
                for responder in holders where !entitled.contains(responder) { entitled.append(responder) }
                reach = (entitled, holders)
                places[place] = reach
            }
            let (entitled, holders) = reach
            // The common case, one comparison each: nothing changed for this call.
            if holders == incident.responders, incident.grace.isEmpty, incident.notified.allSatisfy(entitled.contains),
                entitled.allSatisfy(incident.notified.contains),
                incident.owners.allSatisfy({ entitled.contains($0) || kpo.contains($0) })
            {
                continue
            }
            let leaving = incident.notified.filter { !entitled.contains($0) }
            let ownersLeaving = incident.owners.filter { !entitled.contains($0) && !kpo.contains($0) }
            let joining = entitled.filter { !incident.notified.contains($0) }
            let expired = incident.grace.contains { $0.until <= at }
            guard
                holders != incident.responders || !leaving.isEmpty || !ownersLeaving.isEmpty || !joining.isEmpty
                    || expired
            else { continue }
            incident.grace.removeAll { $0.until <= at }
            var graceUntil: Instant?
            for responder in leaving + ownersLeaving
            where !incident.grace.contains(where: { $0.responder == responder }) {
                incident.grace.append(GraceRight(responder: responder, until: at + plant.handoverGrace))
                graceUntil = at + plant.handoverGrace
            }
            incident.notified = incident.notified.filter(entitled.contains) + joining
            let previous = incident.isAcknowledged ? incident.owners : incident.responders
            let tiers = policy(of: incident).tiers
            if holders.isEmpty, incident.tierIndex < tiers.count - 1, !incident.pagesEveryone,
                !incident.isAcknowledged || !ownersLeaving.isEmpty
            {
                let (from, rota) = (incident.tierName, incident.rota)
                incident.acknowledgedBy = nil
                incident.acknowledgedAt = nil
                let skipped = enterTier(&incident, from: incident.tierIndex + 1, at: at)
                var moved = arrival(
                    .escalated,
                    of: incident,
                    at: at,
                    skipped: skipped,
                    base: incident.kind == .stop ? .error : .warning,
                    reason: "nobody is on duty at \(from) (rota \(rota)) from \(plant.timeZone.local(at).time)"
                )
                moved[0].previous = previous
                moved[0].graceUntil = graceUntil
                events += moved
                incidents[id] = incident
                continue
            }
            incident.responders = holders
            if !incident.isAcknowledged || !ownersLeaving.isEmpty { incident.owners = holders }
            incidents[id] = incident
            guard Set(previous) != Set(incident.owners) else { continue }
            var event = Event(
                kind: .handedOver,
                at: at,
                incident: incident,
                tier: position(of: incident),
                responders: incident.owners,
                waited: at.duration(since: incident.notifiedAt),
                by: incident.acknowledgedBy,
                severity: callSeverity(incident, base: incident.kind == .stop ? .warning : .notice)
            )
            event.previous = previous
            event.graceUntil = graceUntil
            events.append(event)
        }
    }
}

extension Plant {
    /// The first instant after `instant` at which any rota's duty may change: a shift boundary, a rotation turn or an
    /// override's edge; at most 15 days on (when nothing changes that soon, the engine simply looks again then).
    public func nextDutyChange(after instant: Instant) -> Instant {
        var next = instant + .seconds(15 * 86_400)
        for rota in rotas.values.sorted(by: { $0.id < $1.id }) {
            let points = rota.changePoints(from: instant, to: next, calendar: calendar)
            if let point = points.first(where: { $0 > instant }) { next = min(next, point) }
        }
        return next
    }
}

/// A handover under way: the duty change it hands over for, when its next chunk is due, and how far it got.
struct HandoverSweep: Sendable, Hashable, Codable {
    /// The instant of the duty change: every event of the sweep is stamped with it.
    var at: Instant
    var next: Instant
    /// The last incident handed over so far; nil before the first chunk.
    var after: IncidentID?
}
