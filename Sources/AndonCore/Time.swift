/// A point in time: whole milliseconds since the Unix epoch (1970-01-01T00:00:00Z).
///
/// The core counts in integer milliseconds so that deadlines are exact: an escalation due at
/// `raised + ack_within` fires at that millisecond, never a rounding error earlier or later.
public struct Instant: Sendable, Hashable, Comparable, CustomStringConvertible, Codable {
    public var millisecondsSinceEpoch: Int64

    public init(millisecondsSinceEpoch: Int64) {
        self.millisecondsSinceEpoch = millisecondsSinceEpoch
    }

    public init(secondsSinceEpoch: Int64) {
        self.millisecondsSinceEpoch = secondsSinceEpoch * 1000
    }

    public static func < (lhs: Instant, rhs: Instant) -> Bool {
        lhs.millisecondsSinceEpoch < rhs.millisecondsSinceEpoch
    }

    public static func + (lhs: Instant, rhs: Duration) -> Instant {
        Instant(millisecondsSinceEpoch: lhs.millisecondsSinceEpoch + rhs.milliseconds)
    }

    public static func - (lhs: Instant, rhs: Duration) -> Instant {
        Instant(millisecondsSinceEpoch: lhs.millisecondsSinceEpoch - rhs.milliseconds)
    }

    public static func += (lhs: inout Instant, rhs: Duration) {
        lhs = lhs + rhs
    }

    /// The time from `other` to `self`.
    public func duration(since other: Instant) -> Duration {
        .milliseconds(millisecondsSinceEpoch - other.millisecondsSinceEpoch)
    }

    public var description: String { "@\(millisecondsSinceEpoch)ms" }
}

extension Duration {
    /// Whole milliseconds, rounded toward zero.
    public var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }

    /// For people reading a status: whole seconds (`4m10s`), or `<1s`.
    public var roundedDescription: String {
        let ms = milliseconds
        if abs(ms) < 1000 { return "<1s" }
        return Duration.milliseconds((ms / 1000) * 1000).compactDescription
    }

    /// A compact human form: `90ms`, `45s`, `3m`, `1h30m`, `7d`.
    public var compactDescription: String {
        var ms = milliseconds
        if ms == 0 { return "0s" }
        var out = ms < 0 ? "-" : ""
        ms = abs(ms)
        if ms < 1000 { return out + "\(ms)ms" }
        let units: [(Int64, String)] = [(86_400_000, "d"), (3_600_000, "h"), (60_000, "m"), (1000, "s")]
        for (size, suffix) in units where ms >= size {
            out += "\(ms / size)\(suffix)"
            ms %= size
        }
        if ms > 0 { out += "\(ms)ms" }
        return out
    }
}

/// Where the shells read the current time from. The core never asks for the time itself:
/// every input carries its instant, and shells obtain it from a `Clock`.
public protocol AndonClock: Sendable {
    var now: Instant { get }
}
