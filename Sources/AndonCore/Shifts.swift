/// A shift: a daily window of local time. It crosses midnight when it ends at or before its start time
/// (`22:00`-`06:00`); the night shift of a date is the one that starts that evening.
public struct Shift: Sendable, Hashable {
    public var id: ShiftID
    public var start: LocalTime
    public var end: LocalTime

    public init(id: ShiftID, start: LocalTime, end: LocalTime) {
        self.id = id
        self.start = start
        self.end = end
    }

    public var crossesMidnight: Bool { end <= start }

    /// Nominal length in minutes, ignoring clock changes.
    public var nominalMinutes: Int {
        crossesMidnight ? 24 * 60 - start.minuteOfDay + end.minuteOfDay : end.minuteOfDay - start.minuteOfDay
    }

    /// The minutes of a day (0..<1440) this shift covers, nominally.
    public var minutesOfDay: [Int] {
        (0..<nominalMinutes).map { (start.minuteOfDay + $0) % (24 * 60) }
    }
}

/// One concrete occurrence of a shift: the shift that starts on `date`, from `start` to `end`.
public struct ShiftOccurrence: Sendable, Hashable {
    public var shift: ShiftID
    public var date: LocalDate
    public var start: Instant
    public var end: Instant

    public func contains(_ instant: Instant) -> Bool { start <= instant && instant < end }
}

/// The plant's shift pattern in its time zone.
public struct ShiftCalendar: Sendable, Hashable {
    public var timeZone: SiteTimeZone
    public var shifts: [Shift]

    public init(timeZone: SiteTimeZone, shifts: [Shift]) {
        self.timeZone = timeZone
        self.shifts = shifts
    }

    public func shift(_ id: ShiftID) -> Shift? { shifts.first { $0.id == id } }

    /// The occurrence of `shift` that starts on `date`.
    public func occurrence(of shift: Shift, on date: LocalDate) -> ShiftOccurrence {
        let start = timeZone.instant(of: LocalDateTime(date: date, time: shift.start))
        let endDate = shift.crossesMidnight ? date.adding(days: 1) : date
        let end = timeZone.instant(of: LocalDateTime(date: endDate, time: shift.end))
        return ShiftOccurrence(shift: shift.id, date: date, start: start, end: end)
    }

    /// The shift running at `instant`, or nil when no shift covers it.
    public func occurrence(at instant: Instant) -> ShiftOccurrence? {
        let today = timeZone.local(instant).date
        for date in [today, today.adding(days: -1)] {
            for shift in shifts {
                let occurrence = occurrence(of: shift, on: date)
                if occurrence.contains(instant) { return occurrence }
            }
        }
        return nil
    }

    /// Every occurrence that overlaps `start..<end`, in order of start.
    public func occurrences(from start: Instant, to end: Instant) -> [ShiftOccurrence] {
        let first = timeZone.local(start).date.adding(days: -1)
        let last = timeZone.local(end).date
        var result: [ShiftOccurrence] = []
        var date = first
        while date <= last {
            for shift in shifts {
                let occurrence = occurrence(of: shift, on: date)
                if occurrence.start < end && occurrence.end > start { result.append(occurrence) }
            }
            date = date.adding(days: 1)
        }
        return result.sorted { ($0.start, $0.shift) < ($1.start, $1.shift) }
    }
}
