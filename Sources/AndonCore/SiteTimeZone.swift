import Foundation

/// The plant's time zone: converts between instants and local wall-clock times.
///
/// Local times that do not exist (the hour skipped when clocks go forward) move forward by the gap:
/// `02:30` on the spring-forward day in Europe/Berlin is `03:30` CEST. Local times that exist twice (the hour
/// repeated when clocks go back) mean their first occurrence. Shift boundaries follow these rules, so a night shift
/// is one hour shorter or longer on those nights and no instant is ever on two shifts or on none.
public struct SiteTimeZone: Sendable, Hashable, CustomStringConvertible {
    public let identifier: String
    private let calendar: Calendar

    /// Nil when the identifier is not a known IANA time zone name.
    public init?(identifier: String) {
        guard let zone = TimeZone(identifier: identifier) else { return nil }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        self.identifier = identifier
        self.calendar = calendar
    }

    public static let utc = SiteTimeZone(identifier: "UTC")!  // UTC is always known.

    public var description: String { identifier }

    public static func == (lhs: SiteTimeZone, rhs: SiteTimeZone) -> Bool { lhs.identifier == rhs.identifier }
    public func hash(into hasher: inout Hasher) { hasher.combine(identifier) }

    /// The instant a local date and time stands for (see the type's rules for gaps and repeats).
    public func instant(of local: LocalDateTime) -> Instant {
        let components = DateComponents(
            year: local.date.year,
            month: local.date.month,
            day: local.date.day,
            hour: local.time.hour,
            minute: local.time.minute
        )
        // A Gregorian calendar resolves every in-range date; the fallback only guards absurd years.
        guard let date = calendar.date(from: components) else {
            return Instant(millisecondsSinceEpoch: Int64(local.date.dayNumber) * 86_400_000)
        }
        return Instant(date)
    }

    /// The local date and time (truncated to the minute) at an instant.
    public func local(_ instant: Instant) -> LocalDateTime {
        let components = calendar.dateComponents([.year, .month, .day, .hour, .minute], from: instant.date)
        return LocalDateTime(
            date: LocalDate(year: components.year ?? 1970, month: components.month ?? 1, day: components.day ?? 1),
            time: LocalTime(hour: components.hour ?? 0, minute: components.minute ?? 0)
        )
    }

    /// The zone's offset from UTC at an instant, such as `+01:00` (CET) or `+02:00` (CEST).
    public func offset(at instant: Instant) -> String {
        let seconds = calendar.timeZone.secondsFromGMT(for: instant.date)
        let minutes = abs(seconds) / 60
        let hours = minutes / 60
        let rest = minutes % 60
        return (seconds < 0 ? "-" : "+") + (hours < 10 ? "0" : "") + "\(hours):" + (rest < 10 ? "0" : "") + "\(rest)"
    }

    /// `2026-11-29 03:00 +01:00`.
    public func format(_ instant: Instant) -> String {
        "\(local(instant)) \(offset(at: instant))"
    }
}

extension Instant {
    /// The instant of a Foundation `Date`, to the millisecond (rounded down).
    public init(_ date: Date) {
        self.init(millisecondsSinceEpoch: Int64((date.timeIntervalSince1970 * 1000).rounded(.down)))
    }

    public var date: Date { Date(timeIntervalSince1970: Double(millisecondsSinceEpoch) / 1000) }
}

extension SiteTimeZone {
    /// Parses a time given by a person: a local `YYYY-MM-DD HH:MM` in this zone, or an ISO 8601 instant with an
    /// offset (`2026-11-29T02:00:00Z`, `2026-11-29T03:00+01:00`). Nil when it is neither.
    /// Why a local date-time names no instant at this site, or nil: it falls in the hour the clocks skip when they
    /// go forward (`2026-03-29 02:30` in Europe/Berlin). Such a time is refused, never moved silently.
    public func gap(at local: LocalDateTime) -> String? {
        let resolved = self.local(instant(of: local))
        guard resolved != local else { return nil }
        return
            "\(local) does not exist in \(identifier): the clocks go forward then (the same instant reads \(resolved))"
    }

    public func parseInstant(_ text: String) -> Instant? {
        if let local = LocalDateTime(parsing: text) { return instant(of: local) }
        for options: ISO8601DateFormatter.Options in [
            [.withInternetDateTime], [.withInternetDateTime, .withFractionalSeconds],
            [.withFullDate, .withTime, .withColonSeparatorInTime, .withTimeZone, .withDashSeparatorInDate],
        ] {
            let formatter = ISO8601DateFormatter()
            formatter.formatOptions = options
            if let date = formatter.date(from: text) { return Instant(date) }
        }
        return nil
    }
}
