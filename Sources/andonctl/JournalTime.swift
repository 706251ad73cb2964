import AndonCore
import Foundation

/// A time as `tail --since` and `report --since/--until` take it, in this machine's time zone: "now", "today",
/// "yesterday", a date, a date and time, an ISO 8601 instant with its offset, or a time ago (30m, 2h, 7d).
enum JournalTime {
    static let help =
        "\"YYYY-MM-DD\", \"YYYY-MM-DD HH:MM[:SS]\", an instant with its offset (2026-11-29T06:00:00Z), today, "
        + "yesterday, now, or a time ago such as 30m, 2h, 7d"

    static func parse(_ text: String, now: Date = Date()) -> Date? {
        let calendar = Calendar.current
        switch text {
        case "now": return now
        case "today": return calendar.startOfDay(for: now)
        case "yesterday": return calendar.date(byAdding: .day, value: -1, to: calendar.startOfDay(for: now))
        default: break
        }
        if let ago = Swift.Duration(compact: text) {
            return now.addingTimeInterval(-Double(ago.milliseconds) / 1000)
        }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = .current
        for format in ["yyyy-MM-dd HH:mm:ss", "yyyy-MM-dd HH:mm", "yyyy-MM-dd"] {
            formatter.dateFormat = format
            if let date = formatter.date(from: text) { return date }
        }
        let iso = ISO8601DateFormatter()
        for options: ISO8601DateFormatter.Options in [
            [.withInternetDateTime], [.withInternetDateTime, .withFractionalSeconds],
        ] {
            iso.formatOptions = options
            if let date = iso.date(from: text) { return date }
        }
        return nil
    }
}
