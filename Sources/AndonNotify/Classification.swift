import AndonProtocol
import Foundation

/// What an HTTP answer means for a delivery: 2xx delivered; 408, 429 and 5xx tried again (429 and 503 after the
/// receiver's `Retry-After`); any other status failed at once.
public enum Classification {
    public static func outcome(
        status: Int,
        retryAfter: String?,
        now: Date = Date()
    ) -> (DeliveryReport.Outcome, Duration?) {
        switch status {
        case 200..<300: return (.delivered, nil)
        case 408, 429, 500..<600: return (.retry, retryAfter.flatMap { parseRetryAfter($0, now: now) })
        default: return (.failed, nil)
        }
    }

    /// `Retry-After`: seconds, or an HTTP date; at most a day.
    public static func parseRetryAfter(_ text: String, now: Date = Date()) -> Duration? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if let seconds = Int(trimmed), seconds >= 0 { return .seconds(min(seconds, 86_400)) }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = formatter.date(from: trimmed) else { return nil }
        let seconds = max(0, min(date.timeIntervalSince(now), 86_400))
        return .milliseconds(Int64(seconds * 1000))
    }
}
