/// What responders do to a call: acknowledge it, arrive at the station, resolve it, escalate it by hand.
extension EscalationEngine {
    /// A responder takes the call: escalation stops (until `arrive_within` or `resolve_within`, if the tier has them;
    /// reminders follow otherwise).
    public mutating func acknowledge(
        _ id: IncidentID,
        by actor: Actor,
        note: String? = nil,
        at instant: Instant
    )
        -> ActionOutcome
    {
        act(on: id, by: actor, at: instant) { engine, incident, at, events in
            if let by = incident.acknowledgedBy {
                return ActionError(
                    code: .alreadyAcknowledged,
                    message: "incident \(incident.id) was already acknowledged by \(by) "
                        + "\(at.duration(since: incident.acknowledgedAt ?? at).compactDescription) ago"
                )
            }
            engine.markAcknowledged(&incident, by: actor, note: note, at: at, events: &events)
            return nil
        }
    }

    /// A responder is at the station (`andonctl arrive`). An unacknowledged call is acknowledged by it too.
    public mutating func arrive(
        _ id: IncidentID,
        by actor: Actor,
        note: String? = nil,
        at instant: Instant
    )
        -> ActionOutcome
    {
        act(on: id, by: actor, at: instant) { engine, incident, at, events in
            if let arrivedAt = incident.arrivedAt {
                return ActionError(
                    code: .alreadyArrived,
                    message: "\(incident.arrivedBy?.description ?? "someone") arrived for incident \(incident.id) "
                        + "\(at.duration(since: arrivedAt).compactDescription) ago"
                )
            }
            engine.recordArrival(&incident, by: actor, note: note, at: at, origin: nil, events: &events)
            return nil
        }
    }

    /// A responder closes the call, saying what the countermeasure was.
    public mutating func resolve(_ id: IncidentID, by actor: Actor, note: String, at instant: Instant) -> ActionOutcome
    {
        act(on: id, by: actor, at: instant) { engine, incident, at, events in
            guard !note.allSatisfy(\.isWhitespace) else {
                return ActionError(
                    code: .missingNote,
                    message: "resolving needs a note that says what the countermeasure was"
                )
            }
            events.append(
                Event(
                    kind: .resolved,
                    at: at,
                    incident: incident,
                    tier: engine.position(of: incident),
                    by: actor,
                    note: note,
                    severity: .info
                )
            )
            engine.close(incident.id, at: at)
            return nil
        }
    }

    /// A responder moves the call to the next tier now.
    public mutating func escalate(
        _ id: IncidentID,
        by actor: Actor,
        reason: String? = nil,
        at instant: Instant
    )
        -> ActionOutcome
    {
        act(on: id, by: actor, at: instant) { engine, incident, at, events in
            let policy = engine.policy(of: incident)
            guard incident.tierIndex < policy.tiers.count - 1 else {
                return ActionError(
                    code: .finalTier,
                    message: "incident \(incident.id) is already at the KPO tier, the last one of chain \(policy.id)"
                )
            }
            let waited = at.duration(since: incident.notifiedAt)
            incident.acknowledgedBy = nil
            incident.acknowledgedAt = nil
            // Escalating a shelved call by hand takes it off its shelf: someone wants it answered.
            engine.detachFromShelf(&incident)
            let skipped = engine.enterTier(&incident, from: incident.tierIndex + 1, at: at)
            events += engine.arrival(
                .escalated,
                of: incident,
                at: at,
                skipped: skipped,
                base: incident.kind == .stop ? .error : .warning,
                waited: waited,
                by: actor,
                note: reason,
                reason: "escalated by hand by \(actor)"
            )
            return nil
        }
    }

    /// Acknowledges `incident` by `actor`: the acknowledging responder owns it while on duty (the tier's responders
    /// do otherwise), and its next timer is an arrival, resolution or reminder.
    mutating func markAcknowledged(
        _ incident: inout Incident,
        by actor: Actor,
        note: String?,
        at: Instant,
        events: inout [Event]
    ) {
        incident.acknowledgedBy = actor
        incident.acknowledgedAt = at
        incident.firstAcknowledgedAt = incident.firstAcknowledgedAt ?? at
        incident.reminderCount = 0
        incident.lastReminderAt = nil
        if let responder = actor.responder, isOnDuty(responder, for: incident, at: at) {
            incident.owners = [responder]
        }
        scheduleAcknowledged(&incident)
        events.append(
            Event(
                kind: .acknowledged,
                at: at,
                incident: incident,
                tier: position(of: incident),
                waited: at.duration(since: incident.raisedAt),
                by: actor,
                note: note,
                severity: .notice
            )
        )
    }

    /// Records that `actor` is at the station for `incident` (acknowledging it first when nobody had).
    mutating func recordArrival(
        _ incident: inout Incident,
        by actor: Actor,
        note: String?,
        at: Instant,
        origin: SignalOrigin?,
        events: inout [Event]
    ) {
        if !incident.isAcknowledged {
            markAcknowledged(&incident, by: actor, note: "on arrival", at: at, events: &events)
        }
        incident.arrivedAt = at
        incident.arrivedBy = actor
        scheduleAcknowledged(&incident)
        events.append(
            Event(
                kind: .arrived,
                at: at,
                incident: incident,
                tier: position(of: incident),
                waited: at.duration(since: incident.acknowledgedAt ?? incident.raisedAt),
                by: actor,
                note: note,
                origin: origin,
                severity: .notice
            )
        )
    }

    private mutating func act(
        on id: IncidentID,
        by actor: Actor,
        at instant: Instant,
        _ body: (inout EscalationEngine, inout Incident, Instant, inout [Event]) -> ActionError?
    ) -> ActionOutcome {
        var events = advance(to: instant)
        guard var incident = incidents[id] else {
            let error = ActionError(
                code: .unknownIncident,
                message:
                    "no open incident \(id): it may be resolved, cleared or resumed already (andonctl status lists open ones)"
            )
            return ActionOutcome(result: .failure(error), events: events)
        }
        if let error = authorize(actor, for: incident) {
            return ActionOutcome(result: .failure(error), events: events)
        }
        var actionEvents: [Event] = []
        if let error = body(&self, &incident, now, &actionEvents) {
            return ActionOutcome(result: .failure(error), events: events)
        }
        if incidents[id] != nil { incidents[id] = incident }
        events += actionEvents
        prune()
        return ActionOutcome(result: .success(incidents[id]), events: events)
    }
}
