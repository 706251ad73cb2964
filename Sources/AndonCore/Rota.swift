/// Who is on duty, when: per-shift assignments and/or a rotation, corrected by dated overrides.
public struct Rota: Sendable, Hashable {
    public var id: RotaID
    /// Responders assigned to each shift. A shift not listed has nobody from this part of the rota.
    public var byShift: [ShiftID: [ResponderID]]
    /// A member list that hands over every period, from an anchor.
    public var rotation: Rotation?
    /// Dated changes: a swap, a sick day, an extra hand. Applied in order.
    public var overrides: [Override]

    public init(
        id: RotaID,
        byShift: [ShiftID: [ResponderID]] = [:],
        rotation: Rotation? = nil,
        overrides: [Override] = []
    ) {
        self.id = id
        self.byShift = byShift
        self.rotation = rotation
        self.overrides = overrides
    }

    /// Every responder this rota can ever put on duty.
    public var members: Set<ResponderID> {
        var all = Set(byShift.values.joined())
        all.formUnion(rotation?.members ?? [])
        for override in overrides { if let responder = override.responder { all.insert(responder) } }
        return all
    }
}

/// A rotating member list: `onDuty` consecutive members are on duty, moving on by `onDuty` every `periodDays`
/// days at the anchor's local time of day.
public struct Rotation: Sendable, Hashable {
    public var members: [ResponderID]
    public var periodDays: Int
    public var anchor: LocalDateTime
    public var onDuty: Int
    /// When set, the rotation's members are on duty only during these shifts.
    public var duringShifts: Set<ShiftID>?

    public init(
        members: [ResponderID],
        periodDays: Int,
        anchor: LocalDateTime,
        onDuty: Int = 1,
        duringShifts: Set<ShiftID>? = nil
    ) {
        precondition(!members.isEmpty && periodDays > 0 && onDuty > 0, "a rotation needs members and a period")
        self.members = members
        self.periodDays = periodDays
        self.anchor = anchor
        self.onDuty = onDuty
        self.duringShifts = duringShifts
    }

    /// The index of the period that `local` falls in: 0 from the anchor, negative before it.
    public func period(at local: LocalDateTime) -> Int {
        var days = local.date.dayNumber - anchor.date.dayNumber
        if local.time < anchor.time { days -= 1 }
        return days >= 0 ? days / periodDays : -((-days + periodDays - 1) / periodDays)
    }

    /// The members on duty in a period.
    public func members(inPeriod period: Int) -> [ResponderID] {
        let count = members.count
        return (0..<min(onDuty, count)).map { offset in
            let index = ((period * onDuty + offset) % count + count) % count
            return members[index]
        }
    }

    /// The local start of a period.
    public func start(ofPeriod period: Int) -> LocalDateTime {
        LocalDateTime(date: anchor.date.adding(days: period * periodDays), time: anchor.time)
    }
}

/// A dated change to a rota between two instants: `responder` joins, and `replaces` (when set and on duty) leaves.
/// With only `replaces`, that responder is simply absent.
public struct Override: Sendable, Hashable {
    public var from: Instant
    public var until: Instant
    public var responder: ResponderID?
    public var replaces: ResponderID?
    /// Why, as the configuration says (`note:`): "swap with ben", "sick".
    public var note: String?

    public init(from: Instant, until: Instant, responder: ResponderID?, replaces: ResponderID?, note: String? = nil) {
        precondition(responder != nil || replaces != nil, "an override adds or removes someone")
        self.from = from
        self.until = until
        self.responder = responder
        self.replaces = replaces
        self.note = note
    }

    public func isActive(at instant: Instant) -> Bool { from <= instant && instant < until }
}

/// Why a responder is on duty: what put them there.
public enum DutyReason: Sendable, Hashable {
    /// Assigned to the running shift (`by_shift`).
    case shift(ShiftID)
    /// The rotation's turn: member `member` (from 1) of `of`, since the period began.
    case rotation(member: Int, of: Int, since: Instant)
    /// A dated override, with the responder it replaces (if any) and its note.
    case override(from: Instant, until: Instant, replaces: ResponderID?, note: String?)
}

/// The answer to "who is on duty for this rota at this instant", with the reason when nobody is.
public struct Duty: Sendable, Hashable {
    public var rota: RotaID
    public var responders: [ResponderID]
    /// Why each of `responders` is on duty (the first reason, when two apply).
    public var reasons: [ResponderID: DutyReason] = [:]
    /// The shift running at the instant, if any.
    public var shift: ShiftID?
    /// Why nobody is on duty; nil when someone is.
    public var emptyReason: String?

    public var isEmpty: Bool { responders.isEmpty }
}

extension Rota {
    /// Who is on duty at `instant`. A pure function of the rota, the shift calendar and the instant.
    public func duty(at instant: Instant, calendar: ShiftCalendar) -> Duty {
        let occurrence = calendar.occurrence(at: instant)
        return duty(at: instant, shift: occurrence?.shift, timeZone: calendar.timeZone)
    }

    /// As `duty(at:calendar:)`, with the running shift already known.
    public func duty(at instant: Instant, shift: ShiftID?, timeZone: SiteTimeZone) -> Duty {
        var onDuty: [ResponderID] = []
        var reasons: [ResponderID: DutyReason] = [:]
        func add(_ responder: ResponderID, _ reason: DutyReason) {
            guard !onDuty.contains(responder) else { return }
            onDuty.append(responder)
            reasons[responder] = reason
        }

        if let shift {
            for responder in byShift[shift] ?? [] { add(responder, .shift(shift)) }
        }
        if let rotation, rotation.duringShifts.map({ shift.map($0.contains) ?? false }) ?? true {
            let period = rotation.period(at: timeZone.local(instant))
            let since = timeZone.instant(of: rotation.start(ofPeriod: period))
            for responder in rotation.members(inPeriod: period) {
                let member = (rotation.members.firstIndex(of: responder) ?? 0) + 1
                add(responder, .rotation(member: member, of: rotation.members.count, since: since))
            }
        }
        let scheduled = onDuty
        for override in overrides where override.isActive(at: instant) {
            let reason = DutyReason.override(
                from: override.from,
                until: override.until,
                replaces: override.replaces,
                note: override.note
            )
            if let replaced = override.replaces {
                guard let index = onDuty.firstIndex(of: replaced) else { continue }
                onDuty.remove(at: index)
                reasons[replaced] = nil
                if let responder = override.responder, !onDuty.contains(responder) {
                    onDuty.insert(responder, at: index)
                    reasons[responder] = reason
                }
            } else if let responder = override.responder {
                add(responder, reason)
            }
        }
        return Duty(
            rota: id,
            responders: onDuty,
            reasons: reasons,
            shift: shift,
            emptyReason: onDuty.isEmpty ? emptyReason(shift: shift, scheduled: scheduled) : nil
        )
    }

    /// Everyone the rota can reach at `instant`: who is on duty first, then every other member on call, in the
    /// rotation's order, then the rest by name. A member an active override has away (`replaces`) is left out, and
    /// so is one whom only an override that is over (or not begun) brought in.
    /// Whom an unanswered KPO call widens to.
    public func reachable(at instant: Instant, shift: ShiftID?, timeZone: SiteTimeZone) -> Duty {
        var duty = duty(at: instant, shift: shift, timeZone: timeZone)
        let active = overrides.filter { $0.isActive(at: instant) }
        let away = Set(active.compactMap(\.replaces))
        // Members by the rota's standing parts; someone an override brought in only while it is active (a stand-in
        // from last month is nobody's call today).
        let standing = Set(byShift.values.joined()).union(active.compactMap(\.responder))
        let ordered = (rotation?.members ?? []) + standing.sorted()
        for member in ordered where !away.contains(member) && !duty.responders.contains(member) {
            duty.responders.append(member)
        }
        if !duty.responders.isEmpty { duty.emptyReason = nil }
        return duty
    }

    private func emptyReason(shift: ShiftID?, scheduled: [ResponderID]) -> String {
        if !scheduled.isEmpty {
            let names = scheduled.map(\.rawValue).joined(separator: ", ")
            return "rota \(id) has nobody on duty: an override removes \(names)"
        }
        guard let shift else {
            return "rota \(id) has nobody on duty: no shift is running and the rota has no rotation for this time"
        }
        if rotation?.duringShifts != nil {
            return "rota \(id) has nobody on duty: shift \(shift) has no assignment and the rotation is off shift"
        }
        return "rota \(id) has nobody on duty on shift \(shift)"
    }

    /// The instants in `start..<end` at which this rota's duty may change: shift boundaries, handovers, overrides.
    /// Duty is constant between consecutive change points.
    public func changePoints(from start: Instant, to end: Instant, calendar: ShiftCalendar) -> [Instant] {
        var points: Set<Instant> = [start]
        for occurrence in calendar.occurrences(from: start, to: end) {
            points.insert(occurrence.start)
            points.insert(occurrence.end)
        }
        if let rotation {
            let timeZone = calendar.timeZone
            var period = rotation.period(at: timeZone.local(start))
            while true {
                let handover = timeZone.instant(of: rotation.start(ofPeriod: period))
                if handover >= end { break }
                points.insert(handover)
                period += 1
            }
        }
        for override in overrides {
            points.insert(override.from)
            points.insert(override.until)
        }
        return points.filter { $0 >= start && $0 < end }.sorted()
    }

    /// The stretches of `start..<end` in which nobody is on duty, each with the reason.
    public func gaps(from start: Instant, to end: Instant, calendar: ShiftCalendar) -> [CoverageGap] {
        let points = changePoints(from: start, to: end, calendar: calendar)
        var gaps: [CoverageGap] = []
        for (index, point) in points.enumerated() {
            let next = index + 1 < points.count ? points[index + 1] : end
            let duty = duty(at: point, calendar: calendar)
            guard duty.isEmpty else { continue }
            if let last = gaps.last, last.end == point, last.reason == duty.emptyReason {
                gaps[gaps.count - 1].end = next
            } else {
                gaps.append(CoverageGap(rota: id, start: point, end: next, reason: duty.emptyReason ?? ""))
            }
        }
        return gaps
    }
}

/// A stretch of time in which a rota has nobody on duty.
public struct CoverageGap: Sendable, Hashable {
    public var rota: RotaID
    public var start: Instant
    public var end: Instant
    public var reason: String
}
