/// The escalation state machine: every open incident of the plant, and one queue of all their deadlines.
///
/// A value type with no I/O and no clock of its own. Each input carries its instant; the engine first fires every
/// deadline due by then (stamping each event with its deadline, not with the input's time), then applies the input,
/// and returns the events in order. `nextDeadline` tells the shell when to call `advance(to:)` next. The same inputs
/// at the same instants always give the same events.
public struct EscalationEngine: Sendable {
    public internal(set) var plant: Plant
    /// The latest instant the engine has processed. Inputs from before it are treated as happening at it.
    public internal(set) var now: Instant

    /// A persistent (structurally shared) map of boxed incidents: a copy of the engine (a status request, a snapshot)
    /// costs O(1), and the next change copies only the path to what it changes, never all the incidents under the
    /// engine lock (IncidentTable).
    var incidents = IncidentTable()
    var index = IncidentIndex()
    var heartbeats: [LineID: Heartbeat] = [:]
    var queue = DeadlineQueue()
    var nextNumber: UInt64
    /// The instant of the queued duty-change timer: the next shift boundary, rotation turn or override edge, when
    /// open calls may be handed over.
    var dutyChangeAt: Instant?
    /// A handover still under way, with its next chunk queued.
    var sweep: HandoverSweep?
    /// Chunks of handovers done since the engine was made (not stored): the shell logs a timer tick that did one even
    /// when it had no events, so that a restore replays the sweep as it went.
    public internal(set) var sweepChunks = 0
    /// Standing shelves by number, and the next number.
    var shelves: [UInt64: Shelf] = [:]
    var nextShelf: UInt64 = 1
    /// Stations out of service.
    var outOfService: [StationRef: OutOfService] = [:]
    /// What changed about shelves and stations since `takeNotices` (not part of the state: journaled once).
    var notices: [PlantNotice] = []

    struct Heartbeat: Sendable, Hashable, Codable {
        var within: Duration
        /// Quiet since: the last signal from the line, or when its last `silent` incident ended.
        var quietSince: Instant
        /// The instant of the queued heartbeat deadline, if one is queued.
        var armedAt: Instant?
    }

    /// - Parameters:
    ///   - plant: the validated configuration.
    ///   - start: the engine's first instant; heartbeat watches start from it.
    ///   - firstIncidentNumber: the first incident ID to hand out (the daemon keeps IDs unique across restarts).
    public init(plant: Plant, startingAt start: Instant, firstIncidentNumber: UInt64 = 1) {
        self.plant = plant
        self.now = start
        self.nextNumber = firstIncidentNumber
        for line in plant.lines.values.sorted(by: { $0.id < $1.id }) {
            guard let within = line.heartbeatWithin else { continue }
            heartbeats[line.id] = Heartbeat(within: within, quietSince: start, armedAt: nil)
            arm(line.id, at: start + within)
        }
        armDutyChange(after: start)
    }

    /// Starts, changes or stops heartbeat watches to match the plant's lines.
    mutating func reconfigureHeartbeats(at instant: Instant) {
        for line in heartbeats.keys where plant.lines[line]?.heartbeatWithin == nil {
            heartbeats[line] = nil
        }
        for line in plant.lines.values.sorted(by: { $0.id < $1.id }) {
            guard let within = line.heartbeatWithin else { continue }
            if var heartbeat = heartbeats[line.id] {
                heartbeat.within = within
                heartbeats[line.id] = heartbeat
                // A shorter watch must not wait for the old deadline.
                if let armed = heartbeat.armedAt, heartbeat.quietSince + within < armed {
                    arm(line.id, at: max(instant, heartbeat.quietSince + within))
                }
            } else {
                heartbeats[line.id] = Heartbeat(within: within, quietSince: instant, armedAt: nil)
                arm(line.id, at: instant + within)
            }
        }
        prune()
    }

    // MARK: Reading

    /// When `advance(to:)` next has something to do; nil when nothing is pending.
    public var nextDeadline: Instant? { queue.first?.at }

    /// Open incidents, oldest first.
    public var openIncidents: [Incident] { incidents.values.sorted { $0.id < $1.id } }

    public var openIncidentCount: Int { incidents.count }

    /// The IDs of the open incidents of `line` (of every line when nil), oldest first, at most `limit`; and how many
    /// match in all. Sorts only IDs, so a short answer stays small at any size.
    public func openIncidentIDs(of line: LineID?, limit: Int?) -> (ids: ArraySlice<IncidentID>, matching: Int) {
        var ids: [IncidentID] = []
        if let line {
            for incident in incidents.values where incident.line == line { ids.append(incident.id) }
        } else {
            ids = Array(incidents.keys)
        }
        ids.sort()
        return (limit.map { ids.prefix(max(0, $0)) } ?? ids[...], ids.count)
    }

    /// What a status line shows, in one pass over the open incidents (no sorting, no copies).
    public var openSummary: OpenSummary {
        var summary = OpenSummary(open: incidents.count)
        for incident in incidents.values {
            if incident.isAtKPO { summary.atKPO += 1 }
            if incident.isAcknowledged { summary.acknowledged += 1 }
            if incident.kind == .stop {
                summary.stops += 1
                summary.stoppedLines.insert(incident.line)
                let since = incident.stoppedAt ?? incident.raisedAt
                summary.oldestStop = min(summary.oldestStop ?? since, since)
            }
        }
        return summary
    }

    /// The number the next incident will get.
    public var nextIncidentNumber: UInt64 { nextNumber }

    /// Entries in the deadline queue, stale ones included (for tests of its upkeep).
    var queuedTimerCount: Int { queue.count }

    /// The next timer of a call or a heartbeat watch, not counting the duty-change timer (for tests).
    var nextCallDeadline: Instant? {
        let calls = incidents.values.compactMap(\.deadline?.at).min()
        let watches = heartbeats.values.compactMap(\.armedAt).min()
        return [calls, watches].compactMap { $0 }.min()
    }

    public func incident(_ id: IncidentID) -> Incident? { incidents[id] }

    /// Whether `actor` may acknowledge, resolve or escalate `incident`: anyone notified for it, anyone on the KPO
    /// rota, and administrators.
    public func authorize(_ actor: Actor, for incident: Incident) -> ActionError? {
        guard case .responder(let responder) = actor else { return nil }
        if incident.notified.contains(responder) { return nil }
        if incident.grace.contains(where: { $0.responder == responder && now < $0.until }) { return nil }
        if plant.rotas[.kpo]?.members.contains(responder) == true { return nil }
        // People by the names they know (`Ben Fischer (ben)`, the Unix user in brackets), never by rota keys.
        let notified =
            incident.notified.isEmpty
            ? "nobody yet" : incident.notified.map { plant.displayName(of: $0) }.joined(separator: ", ")
        let who = plant.displayName(of: responder)
        if let ended = incident.grace.last(where: { $0.responder == responder }) {
            return ActionError(
                code: .notAuthorized,
                message:
                    "\(who) handed incident \(incident.id) over at a shift change, and the grace to act on it "
                    + "ended at \(plant.timeZone.local(ended.until)); it is with \(notified) now (or KPO)"
            )
        }
        return ActionError(
            code: .notAuthorized,
            message: "\(who) was not notified for incident \(incident.id) and is not on the KPO rota "
                + "(notified: \(notified)); ask one of them or KPO to act on it"
        )
    }

    // MARK: Time

    /// Fires every deadline due at or before `instant`, in order, and returns their events.
    public mutating func advance(to instant: Instant) -> [Event] {
        var events: [Event] = []
        let target = max(instant, now)
        while let entry = queue.first, entry.at <= target {
            _ = queue.popFirst()
            now = max(now, entry.at)
            switch entry.target {
            case .incident(let id, let generation):
                guard let incident = incidents[id], incident.generation == generation, let deadline = incident.deadline
                else { continue }
                fire(deadline, of: id, events: &events)
            case .heartbeat(let line):
                guard heartbeats[line]?.armedAt == entry.at else { continue }
                heartbeats[line]?.armedAt = nil
                checkHeartbeat(of: line, at: entry.at, events: &events)
            case .dutyChange:
                guard dutyChangeAt == entry.at else { continue }
                dutyChangeAt = nil
                startHandover(at: entry.at, events: &events)
                armDutyChange(after: entry.at)
            case .handoverChunk:
                guard sweep?.next == entry.at else { continue }
                continueHandover(notBefore: target, events: &events)
            case .shelfEnd(let shelf):
                shelfFellDue(shelf, at: entry.at, events: &events)
            }
        }
        now = target
        prune()
        return events
    }

    /// Reminders rise in priority: notice, warning, err, then crit from the fourth on.
    static func reminderSeverity(_ count: Int) -> Severity {
        switch count {
        case ...1: .notice
        case 2: .warning
        case 3: .error
        default: .critical
        }
    }

    private mutating func fire(_ deadline: Deadline, of id: IncidentID, events: inout [Event]) {
        guard var incident = incidents[id] else { return }
        let at = deadline.at
        let policy = policy(of: incident)
        let isFinal = incident.tierIndex >= policy.tiers.count - 1
        switch deadline.purpose {
        case .acknowledge where isFinal:
            let tier = policy.tiers[incident.tierIndex]
            let waited = at.duration(since: incident.notifiedAt)
            incident.unansweredCount += 1
            let shift = plant.calendar.occurrence(at: at)?.shift
            // The KPO on duty first; past `kpoWidenAfter` repeats, every KPO member who can be reached.
            let duty =
                incident.rota == .kpo
                ? plant.kpoCall(repeat: incident.unansweredCount, at: at, shift: shift)
                : plant.duty(of: incident.rota, at: at, shift: shift)
            notify(&incident, duty.responders, at: at)
            setDeadline(&incident, at + (tier.repeatEvery ?? tier.ackWithin), purpose: .acknowledge)
            let count = incident.unansweredCount
            events.append(
                Event(
                    kind: .unanswered,
                    at: at,
                    incident: incident,
                    tier: position(of: incident),
                    responders: duty.responders,
                    waited: waited,
                    reason: duty.isEmpty ? duty.emptyReason : nil,
                    count: count,
                    severity: count == 1 ? .critical : .alert
                )
            )
        case .acknowledge:
            let waited = at.duration(since: incident.notifiedAt)
            let from = incident.tierName
            let skipped = enterTier(&incident, from: incident.tierIndex + 1, at: at)
            events += arrival(
                .escalated,
                of: incident,
                at: at,
                skipped: skipped,
                base: incident.kind == .stop ? .error : .warning,
                waited: waited,
                reason: "\(from) did not acknowledge within \(waited.compactDescription)"
            )
        case .resolve, .arrive:
            let waited = at.duration(since: incident.acknowledgedAt ?? incident.notifiedAt)
            let from = incident.tierName
            let acknowledgedBy = incident.acknowledgedBy
            incident.acknowledgedBy = nil
            incident.acknowledgedAt = nil
            let skipped = enterTier(&incident, from: min(incident.tierIndex + 1, policy.tiers.count - 1), at: at)
            let missed =
                deadline.purpose == .arrive ? "nobody was at the station within" : "not resolved within"
            var overdue = arrival(
                .overdue,
                of: incident,
                at: at,
                skipped: skipped,
                base: incident.kind == .stop ? .error : .warning,
                waited: waited,
                by: acknowledgedBy,
                reason: "acknowledged at \(from) but \(missed) \(waited.compactDescription)"
            )
            overdue[0].missed = deadline.purpose
            events += overdue
        case .remind:
            incident.reminderCount += 1
            incident.lastReminderAt = at
            scheduleAcknowledged(&incident)
            let count = incident.reminderCount
            events.append(
                Event(
                    kind: .reminder,
                    at: at,
                    incident: incident,
                    tier: position(of: incident),
                    responders: incident.owners.isEmpty ? incident.responders : incident.owners,
                    waited: at.duration(since: incident.acknowledgedAt ?? incident.notifiedAt),
                    by: incident.acknowledgedBy,
                    count: count,
                    severity: Self.reminderSeverity(count)
                )
            )
        }
        incidents[id] = incident
    }

    private mutating func checkHeartbeat(of line: LineID, at: Instant, events: inout [Event]) {
        guard let heartbeat = heartbeats[line], index.silent(of: line) == nil else { return }
        let due = heartbeat.quietSince + heartbeat.within
        guard due <= at else {
            arm(line, at: due)
            return
        }
        let incident = makeSilent(
            line,
            at: at,
            reason:
                "no signal from the line controller for \(at.duration(since: heartbeat.quietSince).compactDescription)"
        )
        let waited = at.duration(since: heartbeat.quietSince)
        events += place(incident, as: .silent, at: at, base: .error, waited: waited, reason: incident.reason)
    }

    // MARK: Tiers and timers

    /// Puts a new (or promoted) call at the first tier of its chain with someone on duty, files and stores it, and
    /// returns its event (`raised`, `promoted`, `silent`) with the tiers it skipped.
    mutating func place(
        _ incident: Incident,
        as kind: Event.Kind,
        at: Instant,
        base: Severity,
        waited: Duration? = nil,
        reason: String?,
        origin: SignalOrigin? = nil
    ) -> [Event] {
        var incident = incident
        let skipped = enterTier(&incident, from: 0, at: at)
        index.insert(incident)
        incidents[incident.id] = incident
        return arrival(
            kind,
            of: incident,
            at: at,
            skipped: skipped,
            base: base,
            waited: waited,
            reason: reason,
            origin: origin
        )
    }

    /// Moves `incident` to the first tier from `index` on with someone on duty (the KPO tier is never passed),
    /// notifies its responders and sets its acknowledgement deadline. Returns the `skipped` events.
    mutating func enterTier(_ incident: inout Incident, from index: Int, at: Instant) -> [Event] {
        let policy = policy(of: incident)
        let shift = plant.calendar.occurrence(at: at)?.shift
        var skipped: [Event] = []
        var index = min(index, policy.tiers.count - 1)
        while true {
            let tier = policy.tiers[index]
            let rota = plant.rota(for: tier, on: incident.line)
            let duty = plant.duty(of: rota, at: at, shift: shift)
            let position = TierPosition(
                number: index + 1,
                of: policy.tiers.count,
                name: tier.name,
                rota: rota,
                policy: policy.id
            )
            if duty.isEmpty && index < policy.tiers.count - 1 {
                skipped.append(
                    Event(
                        kind: .skipped,
                        at: at,
                        incident: incident,
                        tier: position,
                        reason: duty.emptyReason,
                        severity: incident.kind == .stop ? .warning : .notice
                    )
                )
                index += 1
                continue
            }
            incident.tierIndex = index
            incident.tierName = tier.name
            incident.rota = rota
            incident.tierEnteredAt = at
            incident.unansweredCount = 0
            incident.reminderCount = 0
            incident.lastReminderAt = nil
            let responders = incident.pagesEveryone ? everyone(on: incident, at: at, shift: shift) : duty.responders
            notify(&incident, responders, at: at)
            setDeadline(&incident, at + tier.ackWithin, purpose: .acknowledge)
            return skipped
        }
    }

    /// Everyone on duty for any tier of the call's chain, in tier order: whom a `page_everyone` call notifies.
    func everyone(on incident: Incident, at: Instant, shift: ShiftID?) -> [ResponderID] {
        var all: [ResponderID] = []
        for tier in policy(of: incident).tiers {
            let rota = plant.rota(for: tier, on: incident.line)
            for responder in plant.duty(of: rota, at: at, shift: shift).responders where !all.contains(responder) {
                all.append(responder)
            }
        }
        return all
    }

    func notify(_ incident: inout Incident, _ responders: [ResponderID], at: Instant) {
        incident.responders = responders
        incident.notifiedAt = at
        if !incident.isAcknowledged { incident.owners = responders }
        // The first tier's: the same array, one buffer for both (100,000 open calls, 6 MB less).
        if incident.notified.isEmpty {
            incident.notified = responders
            return
        }
        for responder in responders where !incident.notified.contains(responder) {
            incident.notified.append(responder)
        }
    }

    /// The next timer of an acknowledged call: arrival (`arrive_within`, until someone arrives), resolution
    /// (`resolve_within`), or else a reminder; the earliest of them. Counted from the acknowledgement, so a handover
    /// or an arrival never restarts them.
    mutating func scheduleAcknowledged(_ incident: inout Incident) {
        guard let acknowledgedAt = incident.acknowledgedAt else { return }
        let policy = policy(of: incident)
        let tier = policy.tiers[incident.tierIndex]
        var next: Deadline?
        func consider(_ at: Instant, _ purpose: Deadline.Purpose) {
            if next.map({ at < $0.at }) ?? true { next = Deadline(at: at, purpose: purpose) }
        }
        if !incident.hasArrived, let within = tier.arriveWithin { consider(acknowledgedAt + within, .arrive) }
        if let within = tier.resolveWithin {
            consider(acknowledgedAt + within, .resolve)
        } else {
            let every = tier.remindEvery ?? policy.remindEvery ?? plant.remindEvery
            consider((incident.lastReminderAt ?? acknowledgedAt) + every, .remind)
        }
        if let next { setDeadline(&incident, next.at, purpose: next.purpose) } else { clearDeadline(&incident) }
    }

    mutating func setDeadline(_ incident: inout Incident, _ at: Instant, purpose: Deadline.Purpose) {
        // A shelved call is timed (its age runs) but never escalated or reminded: its timers start when unshelved.
        guard incident.shelf == nil else {
            clearDeadline(&incident)
            return
        }
        incident.generation += 1
        incident.deadline = Deadline(at: at, purpose: purpose)
        queue.schedule(.incident(incident.id, generation: incident.generation), at: at)
    }

    func clearDeadline(_ incident: inout Incident) {
        incident.generation += 1
        incident.deadline = nil
    }

    mutating func arm(_ line: LineID, at: Instant) {
        heartbeats[line]?.armedAt = at
        queue.schedule(.heartbeat(line), at: at)
    }

    mutating func prune() {
        // The maps are read while the queue (also part of self) changes: copies, which share storage and cost nothing.
        let (incidents, heartbeats, timers) = (incidents, heartbeats, engineTimers)
        queue.prune(liveCount: incidents.count + heartbeats.count + shelves.count + 2) {
            Self.isLive($0, incidents: incidents, heartbeats: heartbeats, engine: timers)
        }
    }

    /// Whether a queued timer still applies: its incident's current deadline, or its line's armed heartbeat.
    static func isLive(
        _ entry: DeadlineQueue.Entry,
        incidents: IncidentTable,
        heartbeats: [LineID: Heartbeat],
        engine timers: EngineTimers
    ) -> Bool {
        switch entry.target {
        case .incident(let id, let generation):
            guard let incident = incidents[id] else { return false }
            return incident.generation == generation && incident.deadline != nil
        case .heartbeat(let line):
            return heartbeats[line]?.armedAt == entry.at
        case .dutyChange:
            return timers.dutyChangeAt == entry.at
        case .handoverChunk:
            return timers.sweepNext == entry.at
        case .shelfEnd(let shelf):
            return timers.shelfEnds[shelf] == entry.at
        }
    }

    /// The engine's own timers, as `isLive` checks them.
    struct EngineTimers {
        var dutyChangeAt: Instant?
        var sweepNext: Instant?
        var shelfEnds: [UInt64: Instant] = [:]
    }

    var engineTimers: EngineTimers {
        EngineTimers(
            dutyChangeAt: dutyChangeAt,
            sweepNext: sweep?.next,
            shelfEnds: shelves.compactMapValues(\.until)
        )
    }

    mutating func close(_ id: IncidentID, at: Instant) {
        guard let incident = incidents.removeValue(forKey: id) else { return }
        index.remove(incident)
        leaveShelf(incident, at: at)
        if incident.kind == .stop {
            // The line runs again: the calls it had taken up are calls of a running line from now on.
            for station in incident.stations {
                for call in index.calls(at: incident.line, station) where incidents[call]?.lineStop == id {
                    incidents[call]?.lineStop = nil
                }
            }
        }
        let open = incidents
        index.closed { open[$0] != nil }
        if incident.kind == .silent {
            if var heartbeat = heartbeats[incident.line] {
                heartbeat.quietSince = max(heartbeat.quietSince, at)
                heartbeats[incident.line] = heartbeat
                if heartbeat.armedAt == nil { arm(incident.line, at: at + heartbeat.within) }
            }
        }
    }

    mutating func makeIncident(
        kind: IncidentKind,
        line: LineID,
        station: StationID?,
        category: Category?,
        at: Instant,
        origin: SignalOrigin
    ) -> Incident {
        let id = IncidentID(nextNumber)
        nextNumber += 1
        return Incident(
            id: id,
            kind: kind,
            line: line,
            station: station,
            category: category,
            text: nil,
            reason: nil,
            raisedAt: at,
            origin: origin,
            policy: plant.lines[line]?.stopPolicy ?? PolicyID(rawValue: "stop"),
            tierIndex: 0,
            tierName: "",
            rota: .kpo,
            tierEnteredAt: at,
            notifiedAt: at,
            responders: [],
            notified: [],
            acknowledgedBy: nil,
            acknowledgedAt: nil,
            unansweredCount: 0,
            signalCount: 1,
            lastRepeatLoggedAt: nil,
            stoppedAt: nil,
            deadline: nil,
            generation: 0
        )
    }

    /// A line's silent call (its controller went quiet, or is known to be gone), routed like a maintenance andon.
    mutating func makeSilent(_ line: LineID, at: Instant, reason: String) -> Incident {
        var incident = makeIncident(
            kind: .silent,
            line: line,
            station: nil,
            category: nil,
            at: at,
            origin: SignalOrigin()
        )
        incident.policy = plant.lines[line]?.silentPolicy ?? incident.policy
        incident.reason = reason
        return incident
    }

    /// The incident's chain (KPO alone should it be gone).
    func policy(of incident: Incident) -> Policy { plant.policy(incident.policy) }

    /// The event of a call reaching a tier (raised, escalated, overdue, promoted, silent), then its `skipped` tiers.
    func arrival(
        _ kind: Event.Kind,
        of incident: Incident,
        at: Instant,
        skipped: [Event],
        base: Severity,
        waited: Duration? = nil,
        by: Actor? = nil,
        note: String? = nil,
        reason: String? = nil,
        origin: SignalOrigin? = nil
    ) -> [Event] {
        let event = Event(
            kind: kind,
            at: at,
            incident: incident,
            tier: position(of: incident),
            responders: incident.responders,
            waited: waited,
            by: by,
            note: note,
            reason: reason,
            origin: origin,
            severity: callSeverity(incident, base: base)
        )
        // A call's first entry is the one that opens it (raised, silent, or the promotion to a stop): reports and
        // replays start a call there. On the way up, the tiers passed come before the tier reached.
        return [.raised, .silent, .promoted].contains(kind) ? [event] + skipped : skipped + [event]
    }

    func position(of incident: Incident) -> TierPosition {
        TierPosition(
            number: incident.tierIndex + 1,
            of: policy(of: incident).tiers.count,
            name: incident.tierName,
            rota: incident.rota,
            policy: incident.policy
        )
    }

    /// A call that reaches KPO is an alert, and so is every step of one that pages everyone (safety: its raised
    /// entry is one, and its escalations must not read as less urgent); otherwise `base`.
    func callSeverity(_ incident: Incident, base: Severity) -> Severity {
        incident.isAtKPO || incident.pagesEveryone ? .alert : base
    }
}
