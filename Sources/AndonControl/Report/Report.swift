/// How the plant answered its calls in a window, computed from andond's journal alone (`andonctl report`).
///
/// Every figure is defined in docs/report.md. Times are milliseconds; medians and p90s interpolate linearly between
/// the closest ranks (as numpy's default percentile does).
public struct Report: Sendable, Hashable, Codable {
    public var since: Int64
    public var until: Int64
    /// The plant's time zone, from the entries (`ANDON_TIMEZONE`): days are its local days.
    public var timeZone: String
    public var sites: [String]
    public var includesDrills: Bool
    /// Drill calls in the window (left out of every other figure unless `includesDrills`).
    public var drillCalls: Int

    public var total: Response
    public var byLine: [Group]
    public var byStation: [Group]
    public var byCategory: [Group]
    public var byShift: [Group]
    /// Line, station, category and shift together.
    public var groups: [Group]
    public var byDay: [Day]

    public var stops: Stops
    public var paretoStations: Pareto
    public var paretoCategories: Pareto
    public var alarms: Alarms
    /// How the calls of the window reached people (nil: nothing was notified, or andond before 0.6).
    public var notifications: Notifications?
    /// Per line: shelves made and minutes shelved (nil: nothing was shelved, or andond before 0.7).
    public var shelving: [Shelving]?
    /// Per site, when the entries come from more than one (a central journal): then every line is named `SITE/LINE`.
    public var bySite: [Site]?

    /// One site's calls and stops, to compare plants.
    public struct Site: Sendable, Hashable, Codable {
        public var site: String
        public var response: Response
        /// Line stops that overlap the window, and their minutes inside it.
        public var stops: Int
        public var stopMinutes: Double
    }

    /// Notifications of the window's calls.
    public struct Notifications: Sendable, Hashable, Codable {
        /// Calls with a delivered notification of their raising, and the time from raising to the first one.
        public var firstNotification: Spread?
        public var delivered = 0
        /// Attempts that failed and were tried again, and deliveries that failed for good.
        public var failedAttempts = 0
        public var failed = 0
        public var byChannel: [Channel] = []

        public struct Channel: Sendable, Hashable, Codable {
            public var channel: String
            public var delivered = 0
            public var failedAttempts = 0
            public var failed = 0
        }

        public init() {}
    }

    /// Calls, and how fast they were answered.
    public struct Response: Sendable, Hashable, Codable {
        public var calls = 0
        public var acknowledged = 0
        public var arrived = 0
        public var closed = 0
        public var acknowledge: Spread?
        public var arrive: Spread?
        public var resolve: Spread?
        /// Tier changes for lack of an answer: `escalated` and `overdue` steps.
        public var escalations = 0
        /// Calls that reached the KPO tier.
        public var reachedKPO = 0
        /// `unanswered` steps: KPO did not acknowledge, again.
        public var unansweredAtKPO = 0

        public init() {}
    }

    /// The median and the 90th percentile of some durations, in milliseconds.
    public struct Spread: Sendable, Hashable, Codable {
        public var count: Int
        public var median: Double
        public var p90: Double
    }

    public struct Group: Sendable, Hashable, Codable {
        public var line: String?
        public var station: String?
        public var category: String?
        public var shift: String?
        public var response: Response
    }

    public struct Day: Sendable, Hashable, Codable {
        /// The local date, `YYYY-MM-DD`.
        public var date: String
        public var response: Response
        /// Line-stop minutes of the day, per line.
        public var stopMinutes: [String: Double]
    }

    public struct Stops: Sendable, Hashable, Codable {
        /// Line stops that overlap the window.
        public var count: Int
        public var minutes: Double
        public var byLine: [String: Double]
        /// Stop minutes in pieces: one per line, local day, shift and reason (a stop across a boundary is split).
        public var pieces: [Piece]

        public struct Piece: Sendable, Hashable, Codable {
            public var line: String
            public var date: String
            /// The shift running then, `-` when none did (or none is known from the journal).
            public var shift: String
            public var reason: String
            public var minutes: Double
        }
    }

    public struct Pareto: Sendable, Hashable, Codable {
        public var rows: [Row]
        /// The share of all calls that the ten largest rows account for.
        public var top10Share: Double

        public struct Row: Sendable, Hashable, Codable {
            public var name: String
            public var calls: Int
            public var share: Double
            public var cumulativeShare: Double
        }
    }

    /// Alarm management, in the terms of ISA-18.2 and EEMUA 191.
    public struct Alarms: Sendable, Hashable, Codable {
        public var responders: [ResponderLoad]
        public var floods: [Flood]
        /// The share of the window in which some line was in flood, and per line.
        public var floodShare: Double
        public var floodShareByLine: [String: Double]
        public var staleCalls: [StaleCall]
        public var chattering: [Chatter]

        /// Calls per hour that notified one responder: about 6 is manageable, 12 the most (EEMUA 191).
        public struct ResponderLoad: Sendable, Hashable, Codable {
            public var user: String
            public var calls: Int
            /// Calls over the window's hours.
            public var perHour: Double
            /// The most calls in one local clock hour, and which hour (`YYYY-MM-DD HH:00`).
            public var peakHour: Int
            public var peakHourStart: String
            public var hoursOver6: Int
            public var hoursOver12: Int
        }

        /// A time in which more than 10 calls were raised on a line within 10 minutes.
        public struct Flood: Sendable, Hashable, Codable {
            public var line: String
            public var start: Int64
            public var end: Int64
            /// Calls raised in the 10 minutes before `start` up to `end` (those that made the flood).
            public var calls: Int
        }

        /// A call open for more than 24 hours.
        public struct StaleCall: Sendable, Hashable, Codable {
            public var incident: String
            public var line: String
            public var station: String?
            public var category: String?
            public var raisedAt: Int64
            /// Open until it closed, or until the end of the window.
            public var openMilliseconds: Int64
            public var closed: Bool
        }

        /// A station that raised 3 or more calls within 60 seconds.
        public struct Chatter: Sendable, Hashable, Codable {
            public var station: String
            public var calls: Int
            public var mostIn60s: Int
        }
    }
}

extension Report {
    /// The thresholds of the alarm figures.
    public enum Limits {
        public static let floodCalls = 10
        public static let floodWindow: Int64 = 10 * 60_000
        public static let staleAfter: Int64 = 24 * 3_600_000
        public static let chatterCalls = 3
        public static let chatterWindow: Int64 = 60_000
        public static let manageablePerHour = 6
        public static let mostPerHour = 12
    }
}

/// Linear interpolation between closest ranks (numpy's default), of `sorted` durations.
func percentile(_ sorted: [Int64], _ fraction: Double) -> Double {
    precondition(!sorted.isEmpty)
    let rank = fraction * Double(sorted.count - 1)
    let low = Int(rank.rounded(.down))
    let high = Int(rank.rounded(.up))
    return Double(sorted[low]) + (Double(sorted[high]) - Double(sorted[low])) * (rank - Double(low))
}

extension Report.Spread {
    init?(_ values: [Int64]) {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        self.init(count: sorted.count, median: percentile(sorted, 0.5), p90: percentile(sorted, 0.9))
    }
}
