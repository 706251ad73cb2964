import AndonCore

/// Builds a `Report` from andond's journal entries. Feed it every step (`add`), in any order, then `report()`.
///
/// A call counts in the window when it was raised in `since..<until`; its whole story counts with it, including steps
/// after `until`. Stop minutes are the part of each line stop inside the window, wherever the stop began.
public struct ReportBuilder: Sendable {
    public var since: Int64
    public var until: Int64
    public var includeDrills: Bool
    /// Overrides the entries' `ANDON_TIMEZONE`.
    public var timeZone: SiteTimeZone?
    /// For entries that name no time zone (andond before 0.5).
    public var fallbackTimeZone: SiteTimeZone
    private var entries: [ReportEntry] = []
    private var notifications: [NotificationEntry] = []
    private var shelves: [ShelfEntry] = []
    private var seenIDs: Set<String> = []

    public init(
        since: Int64,
        until: Int64,
        includeDrills: Bool = false,
        timeZone: SiteTimeZone? = nil,
        fallbackTimeZone: SiteTimeZone = .utc
    ) {
        self.since = since
        self.until = until
        self.includeDrills = includeDrills
        self.timeZone = timeZone
        self.fallbackTimeZone = fallbackTimeZone
    }

    /// Adds one step; an entry kept durably that reached the journal twice counts once.
    public mutating func add(_ entry: ReportEntry) {
        if let id = entry.eventID, !seenIDs.insert(id).inserted { return }
        entries.append(entry)
    }

    /// Adds one notification's outcome.
    public mutating func add(_ notification: NotificationEntry) { notifications.append(notification) }

    /// Adds a shelf's start or end; one that reached the journal twice counts once.
    public mutating func add(_ shelf: ShelfEntry) {
        if let id = shelf.eventID, !seenIDs.insert(id).inserted { return }
        shelves.append(shelf)
    }

    public func report() -> Report {
        // In andond's order (the journal's can differ after an outage); the indices move, not the entries.
        var order = Array(entries.indices)
        if !entries.indices.dropFirst().allSatisfy({ entries[$0 - 1].at <= entries[$0].at }) {
            order.sort { entries[$0].at != entries[$1].at ? entries[$0].at < entries[$1].at : $0 < $1 }
        }
        let zone =
            timeZone ?? entries.last(where: { $0.timeZone != nil }).flatMap { SiteTimeZone(identifier: $0.timeZone!) }
            ?? fallbackTimeZone
        // Over several sites (a central journal) line names repeat from plant to plant: each becomes SITE/LINE.
        let sites = Set(entries.compactMap(\.site))
        var calls = CallBook()
        calls.namesSites = sites.count > 1
        var shifts: Set<KnownShift> = []
        for index in order {
            let entry = entries[index]
            calls.apply(entry)
            if let shift = entry.shift, let start = entry.shiftStart, let end = entry.shiftEnd {
                shifts.insert(KnownShift(name: shift, start: start, end: end))
            }
        }
        let all = calls.calls
        let drills = all.filter { $0.drill && inWindow($0.raisedAt) }.count
        let counted = all.filter { includeDrills || !$0.drill }
        let window = counted.filter { inWindow($0.raisedAt) }
        let calendar = ReportCalendar(zone: zone, shifts: shifts.sorted { $0.start < $1.start })
        let pieces = stopPieces(of: counted, calendar: calendar)

        var report = Report(
            since: since,
            until: until,
            timeZone: zone.identifier,
            sites: sites.sorted(),
            includesDrills: includeDrills,
            drillCalls: includeDrills ? 0 : drills,
            total: Self.response(of: window),
            byLine: Self.groups(of: window) { Report.Group(line: $0.line, response: .init()) },
            byStation: Self.groups(of: window) {
                Report.Group(line: $0.line, station: $0.station ?? "-", response: .init())
            },
            byCategory: Self.groups(of: window) { Report.Group(category: $0.category, response: .init()) },
            byShift: Self.groups(of: window) { Report.Group(shift: $0.shift ?? "-", response: .init()) },
            groups: Self.groups(of: window) {
                Report.Group(
                    line: $0.line,
                    station: $0.station ?? "-",
                    category: $0.category,
                    shift: $0.shift ?? "-",
                    response: .init()
                )
            },
            byDay: [],
            stops: Self.stops(pieces, calls: counted, since: since, until: until),
            paretoStations: Self.pareto(window.map(\.stationName)),
            paretoCategories: Self.pareto(window.map(\.category)),
            alarms: alarms(of: window, calendar: calendar)
        )
        report.notifications = notificationFigures(calls: Set(window.map(\.incident)))
        report.shelving = Report.shelving(shelves, since: since, until: until)
        if sites.count > 1 { report.bySite = siteFigures(window, counted: counted, pieces: pieces) }
        var days: [String: [Call]] = [:]
        for call in window { days[calendar.date(of: call.raisedAt), default: []].append(call) }
        var dayMinutes: [String: [String: Double]] = [:]
        for piece in pieces { dayMinutes[piece.date, default: [:]][piece.line, default: 0] += piece.minutes }
        report.byDay = Set(days.keys).union(dayMinutes.keys).sorted().map { date in
            Report.Day(
                date: date,
                response: Self.response(of: days[date] ?? []),
                stopMinutes: (dayMinutes[date] ?? [:]).mapValues(Self.rounded)
            )
        }
        return report
    }

    private func inWindow(_ at: Int64) -> Bool { since <= at && at < until }

    /// Per channel: delivered, failed attempts, failed for good; the time from raising to the first notification.
    private func notificationFigures(calls: Set<String>) -> Report.Notifications? {
        let counted = notifications.filter { calls.contains($0.incident) }
        guard !counted.isEmpty else { return nil }
        var figures = Report.Notifications()
        var channels: [String: Report.Notifications.Channel] = [:]
        var first: [String: Int64] = [:]
        for entry in counted {
            var channel = channels[entry.channel] ?? Report.Notifications.Channel(channel: entry.channel)
            switch entry.state {
            case .delivered:
                channel.delivered += 1
                figures.delivered += 1
                if entry.purpose == NotifyPurpose.call.rawValue, entry.event == Event.Kind.raised.rawValue,
                    let latency = entry.latency
                {
                    first[entry.incident] = min(first[entry.incident] ?? latency, latency)
                }
            case .pending:
                channel.failedAttempts += 1
                figures.failedAttempts += 1
            case .failed:
                channel.failed += 1
                figures.failed += 1
            }
            channels[entry.channel] = channel
        }
        figures.firstNotification = Report.Spread(Array(first.values))
        figures.byChannel = channels.values.sorted { $0.channel < $1.channel }
        return figures
    }

    // MARK: Response

    static func response(of calls: [Call]) -> Report.Response {
        var response = Report.Response()
        response.calls = calls.count
        response.acknowledged = calls.count { $0.acknowledgedAfter != nil }
        response.arrived = calls.count { $0.arrivedAfter != nil }
        response.closed = calls.count { $0.closedAt != nil }
        response.acknowledge = Report.Spread(calls.compactMap(\.acknowledgedAfter))
        response.arrive = Report.Spread(calls.compactMap(\.arrivedAfter))
        response.resolve = Report.Spread(calls.compactMap(\.resolvedAfter))
        response.escalations = calls.reduce(0) { $0 + $1.escalations }
        response.reachedKPO = calls.count(where: \.reachedKPO)
        response.unansweredAtKPO = calls.reduce(0) { $0 + $1.unanswered }
        return response
    }

    /// One group per distinct key that `group` gives a call (its `response` is filled in), in key order.
    static func groups(of calls: [Call], _ group: (Call) -> Report.Group) -> [Report.Group] {
        var members: [GroupKey: (Report.Group, [Call])] = [:]
        for call in calls {
            let key = group(call)
            members[GroupKey(key), default: (key, [])].1.append(call)
        }
        return members.sorted { $0.key < $1.key }.map { _, value in
            var group = value.0
            group.response = response(of: value.1)
            return group
        }
    }

    /// Each site's response and stops, for the site comparison.
    func siteFigures(_ window: [Call], counted: [Call], pieces: [Report.Stops.Piece]) -> [Report.Site] {
        let lineSites = Dictionary(counted.map { ($0.line, $0.site) }, uniquingKeysWith: { first, _ in first })
        let names = Set(window.map(\.site)).union(pieces.compactMap { lineSites[$0.line] })
        return names.sorted(by: naturallyPrecedes).map { site in
            let stops = Self.stops(
                pieces.filter { lineSites[$0.line] == site },
                calls: counted.filter { $0.site == site },
                since: since,
                until: until
            )
            return Report.Site(
                site: site,
                response: Self.response(of: window.filter { $0.site == site }),
                stops: stops.count,
                stopMinutes: stops.minutes
            )
        }
    }

    // MARK: Stops

    /// Each line stop's time inside the window, cut at local midnights and shift boundaries.
    func stopPieces(of calls: [Call], calendar: ReportCalendar) -> [Report.Stops.Piece] {
        var minutes: [PieceKey: Int64] = [:]
        for call in calls {
            guard let start = call.stopStart else { continue }
            let from = max(start, since)
            let to = min(call.stopEnd ?? until, until)
            guard from < to else { continue }
            var cursor = from
            while cursor < to {
                let next = min(to, calendar.nextBoundary(after: cursor))
                let key = PieceKey(
                    line: call.line,
                    date: calendar.date(of: cursor),
                    shift: calendar.shift(at: cursor) ?? "-",
                    reason: call.stopReason ?? "-"
                )
                minutes[key, default: 0] += next - cursor
                cursor = next
            }
        }
        return minutes.sorted { $0.key < $1.key }.map { key, milliseconds in
            Report.Stops.Piece(
                line: key.line,
                date: key.date,
                shift: key.shift,
                reason: key.reason,
                minutes: Self.rounded(Double(milliseconds) / 60_000)
            )
        }
    }

    static func stops(_ pieces: [Report.Stops.Piece], calls: [Call], since: Int64, until: Int64) -> Report.Stops {
        var byLine: [String: Double] = [:]
        for piece in pieces { byLine[piece.line, default: 0] += piece.minutes }
        let count = calls.count { call in
            guard let start = call.stopStart else { return false }
            return start < until && (call.stopEnd ?? until) > since
        }
        return Report.Stops(
            count: count,
            minutes: rounded(pieces.reduce(0) { $0 + $1.minutes }),
            byLine: byLine.mapValues(rounded),
            pieces: pieces
        )
    }

    // MARK: Pareto

    static func pareto(_ names: [String]) -> Report.Pareto {
        var counts: [String: Int] = [:]
        for name in names { counts[name, default: 0] += 1 }
        let sorted = counts.sorted { $0.value != $1.value ? $0.value > $1.value : naturallyPrecedes($0.key, $1.key) }
        let total = Double(names.count)
        var cumulative = 0
        let rows = sorted.map { name, calls in
            cumulative += calls
            return Report.Pareto.Row(
                name: name,
                calls: calls,
                share: rounded(Double(calls) / total, places: 4),
                cumulativeShare: rounded(Double(cumulative) / total, places: 4)
            )
        }
        let top10 = sorted.prefix(10).reduce(0) { $0 + $1.value }
        return Report.Pareto(rows: rows, top10Share: total == 0 ? 0 : rounded(Double(top10) / total, places: 4))
    }

    // MARK: Alarm management

    func alarms(of calls: [Call], calendar: ReportCalendar) -> Report.Alarms {
        typealias Limits = Report.Limits
        // Calls per responder per local clock hour.
        var perUser: [String: [String: Int]] = [:]
        for call in calls {
            for (user, at) in call.notified { perUser[user, default: [:]][calendar.hour(of: at), default: 0] += 1 }
        }
        let hours = max(1, Double(until - since) / 3_600_000)
        let responders = perUser.map { user, byHour -> Report.Alarms.ResponderLoad in
            // The busiest hour; of equally busy ones, the first.
            var peak = (key: "", value: 0)
            for (hour, calls) in byHour where calls > peak.value || (calls == peak.value && hour < peak.key) {
                peak = (hour, calls)
            }
            let total = byHour.values.reduce(0, +)
            return Report.Alarms.ResponderLoad(
                user: user,
                calls: total,
                perHour: Self.rounded(Double(total) / hours),
                peakHour: peak.value,
                peakHourStart: peak.key,
                hoursOver6: byHour.values.count { $0 > Limits.manageablePerHour },
                hoursOver12: byHour.values.count { $0 > Limits.mostPerHour }
            )
        }
        .sorted { $0.calls != $1.calls ? $0.calls > $1.calls : $0.user < $1.user }

        // Floods: more than 10 calls raised on a line within 10 minutes.
        var byLine: [String: [Int64]] = [:]
        for call in calls { byLine[call.line, default: []].append(call.raisedAt) }
        var floods: [Report.Alarms.Flood] = []
        for (line, times) in byLine { floods += Self.floods(line: line, times: times.sorted()) }
        // What the report says of a flood is what happened in its window: one that began before `since` (calls are
        // read from a day earlier) or would still run after `until` is cut at the window's edges.
        floods = floods.compactMap { flood in
            var clipped = flood
            clipped.start = max(flood.start, since)
            clipped.end = min(flood.end, until)
            return clipped.end > clipped.start ? clipped : nil
        }
        floods.sort { $0.start != $1.start ? $0.start < $1.start : $0.line < $1.line }
        let span = Double(max(1, until - since))
        func inside(_ flood: Report.Alarms.Flood) -> (Int64, Int64) { (flood.start, flood.end) }
        var shareByLine: [String: Double] = [:]
        for flood in floods {
            let (from, to) = inside(flood)
            if to > from { shareByLine[flood.line, default: 0] += Double(to - from) / span }
        }
        var union: Int64 = 0
        var reach = Int64.min
        for (from, to) in floods.map(inside).sorted(by: { $0.0 < $1.0 }) where to > from {
            if from >= reach {
                union += to - from
                reach = to
            } else if to > reach {
                union += to - reach
                reach = to
            }
        }

        let stale = calls.compactMap { call -> Report.Alarms.StaleCall? in
            let open = (call.closedAt ?? until) - call.raisedAt
            guard open > Limits.staleAfter else { return nil }
            return Report.Alarms.StaleCall(
                incident: call.incident,
                line: call.line,
                station: call.station,
                category: call.category,
                raisedAt: call.raisedAt,
                openMilliseconds: open,
                closed: call.closedAt != nil
            )
        }
        .sorted { $0.raisedAt < $1.raisedAt }

        var byStation: [String: [Int64]] = [:]
        for call in calls where call.station != nil { byStation[call.stationName, default: []].append(call.raisedAt) }
        let chattering = byStation.compactMap { station, times -> Report.Alarms.Chatter? in
            let most = Self.mostWithin(Limits.chatterWindow, times.sorted())
            guard most >= Limits.chatterCalls else { return nil }
            return Report.Alarms.Chatter(station: station, calls: times.count, mostIn60s: most)
        }
        .sorted { $0.mostIn60s != $1.mostIn60s ? $0.mostIn60s > $1.mostIn60s : $0.station < $1.station }

        return Report.Alarms(
            responders: responders,
            floods: floods,
            floodShare: Self.rounded(Double(union) / span, places: 4),
            floodShareByLine: shareByLine.mapValues { Self.rounded($0, places: 4) },
            staleCalls: stale,
            chattering: chattering
        )
    }

    /// The times in which a line had more than 10 calls in the last 10 minutes: each call counts from its instant for
    /// 10 minutes (`[at, at + 10 min)`).
    static func floods(line: String, times: [Int64]) -> [Report.Alarms.Flood] {
        let window = Report.Limits.floodWindow
        var changes = times.map { ($0, 1) } + times.map { ($0 + window, -1) }
        // At one instant, calls that stop counting go before calls that start.
        changes.sort { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }
        var floods: [Report.Alarms.Flood] = []
        var active = 0
        var start: Int64?
        for (at, change) in changes {
            active += change
            if active > Report.Limits.floodCalls, start == nil {
                start = at
            } else if active <= Report.Limits.floodCalls, let begun = start {
                let calls = times.count { $0 > begun - window && $0 < at }
                floods.append(Report.Alarms.Flood(line: line, start: begun, end: at, calls: calls))
                start = nil
            }
        }
        return floods
    }

    /// The most of `sorted` instants within any `window` (first to last at most `window` apart).
    static func mostWithin(_ window: Int64, _ sorted: [Int64]) -> Int {
        var most = 0
        var first = 0
        for last in sorted.indices {
            while sorted[last] - sorted[first] > window { first += 1 }
            most = max(most, last - first + 1)
        }
        return most
    }

    static func rounded(_ value: Double) -> Double { rounded(value, places: 2) }

    static func rounded(_ value: Double, places: Int) -> Double {
        var scale = 1.0
        for _ in 0..<places { scale *= 10 }
        return (value * scale).rounded() / scale
    }
}

// MARK: Calls

/// One call as its steps tell it.
struct Call: Sendable {
    var incident: String
    /// `ANDON_SITE`, empty when the entries name none.
    var site: String
    var line: String
    var station: String?
    /// The andon's category, `line-stop` for a stop raised as one, `silent` for a quiet controller.
    var category: String
    var raisedAt: Int64
    var shift: String?
    var drill: Bool
    var acknowledgedAfter: Int64?
    var arrivedAfter: Int64?
    var resolvedAfter: Int64?
    var closedAt: Int64?
    var escalations = 0
    var reachedKPO = false
    var unanswered = 0
    var stopStart: Int64?
    var stopEnd: Int64?
    var stopReason: String?
    /// Each Unix user notified, and when first.
    var notified: [String: Int64] = [:]

    var stationName: String { station.map { "\(line)/\($0)" } ?? "\(line) (line)" }
}

/// Calls by site and incident number; a number raised again after its call closed (andond started afresh) is a new
/// call.
struct CallBook {
    private(set) var calls: [Call] = []
    private var open: [String: Int] = [:]
    /// Lines named `SITE/LINE` (a report over several sites).
    var namesSites = false

    mutating func apply(_ entry: ReportEntry) {
        let key = "\(entry.site ?? "")|\(entry.incident)"
        let index: Int
        if let known = open[key], entry.event != .raised || calls[known].closedAt == nil {
            index = known
        } else {
            let category =
                entry.kind == .stop && entry.event == .raised
                ? "line-stop" : entry.kind == .silent ? "silent" : (entry.category ?? entry.kind.rawValue)
            calls.append(
                Call(
                    incident: entry.incident,
                    site: entry.site ?? "",
                    line: namesSites ? "\(entry.site ?? "-")/\(entry.line)" : entry.line,
                    station: entry.station,
                    category: category,
                    raisedAt: entry.event == .raised ? entry.at : entry.at - (entry.elapsed ?? 0),
                    shift: entry.event == .raised ? entry.shift : nil,
                    drill: entry.drill
                )
            )
            index = calls.count - 1
            open[key] = index
            if entry.kind == .stop, entry.event != .raised, entry.event != .promoted {
                // A stop seen only after it began: its start from its length when it ended, else from its age.
                calls[index].stopStart =
                    entry.event == .resumed ? entry.at - (entry.waited ?? entry.elapsed ?? 0) : calls[index].raisedAt
                calls[index].stopReason = entry.reason
            }
        }
        calls[index].apply(entry, notifying: entry.event.notifies)
    }
}

extension Call {
    fileprivate mutating func apply(_ entry: ReportEntry, notifying: Bool) {
        // Every entry of a drill's call says DRILL until a real signal makes the call real: the latest one decides.
        drill = entry.drill
        if notifying, entry.lineStop == nil || entry.event != .promoted {
            for user in entry.responders where notified[user] == nil { notified[user] = entry.at }
        }
        if entry.atKPO, entry.event != .skipped { reachedKPO = true }
        switch entry.event {
        case .raised:
            if entry.kind == .stop {
                stopStart = entry.at
                stopReason = entry.reason
            }
        case .promoted:
            if entry.kind == .stop, entry.lineStop == nil, stopStart == nil {
                stopStart = entry.at
                stopReason = entry.reason ?? entry.category
            }
        case .escalated, .overdue:
            escalations += 1
        case .unanswered:
            unanswered += 1
        case .acknowledged, .arrived:
            if acknowledgedAfter == nil { acknowledgedAfter = entry.acknowledgedAfter ?? entry.at - raisedAt }
            if entry.event == .arrived, arrivedAfter == nil {
                arrivedAfter = entry.arrivedAfter ?? entry.at - raisedAt
            }
        default:
            break
        }
        if entry.acknowledgedAfter != nil, acknowledgedAfter == nil { acknowledgedAfter = entry.acknowledgedAfter }
        if entry.resolvedAfter != nil || [Event.Kind.resolved, .cleared, .resumed].contains(entry.event),
            closedAt == nil
        {
            closedAt = entry.at
            resolvedAfter = entry.resolvedAfter ?? entry.at - raisedAt
            if stopStart != nil, stopEnd == nil { stopEnd = entry.at }
            if entry.event == .resumed, stopStart == nil, let waited = entry.waited {
                stopStart = entry.at - waited
                stopEnd = entry.at
            }
        }
    }
}

// MARK: Keys and the calendar

private struct GroupKey: Hashable, Comparable {
    var parts: [String]

    init(_ group: Report.Group) {
        parts = [group.line, group.station, group.category, group.shift].map { $0 ?? "" }
    }

    static func < (lhs: GroupKey, rhs: GroupKey) -> Bool { naturallyPrecedes(lhs.parts, rhs.parts) }
}

private struct PieceKey: Hashable, Comparable {
    var line: String
    var date: String
    var shift: String
    var reason: String

    static func < (lhs: PieceKey, rhs: PieceKey) -> Bool {
        naturallyPrecedes([lhs.line, lhs.date, lhs.shift, lhs.reason], [rhs.line, rhs.date, rhs.shift, rhs.reason])
    }
}

/// Names as people order them: `B2` before `B10`, `S9` before `S10` (runs of digits compare as numbers).
func naturallyPrecedes(_ lhs: String, _ rhs: String) -> Bool {
    var left = lhs.unicodeScalars[...]
    var right = rhs.unicodeScalars[...]
    func isDigit(_ scalar: Unicode.Scalar) -> Bool { ("0"..."9").contains(scalar) }
    while let a = left.first, let b = right.first {
        if isDigit(a), isDigit(b) {
            let leftDigits = left.prefix(while: isDigit)
            let rightDigits = right.prefix(while: isDigit)
            let leftNumber = leftDigits.drop { $0 == "0" }
            let rightNumber = rightDigits.drop { $0 == "0" }
            if leftNumber.count != rightNumber.count { return leftNumber.count < rightNumber.count }
            if !leftNumber.elementsEqual(rightNumber) { return String(leftNumber) < String(rightNumber) }
            left = left.dropFirst(leftDigits.count)
            right = right.dropFirst(rightDigits.count)
        } else {
            if a != b { return a < b }
            left = left.dropFirst()
            right = right.dropFirst()
        }
    }
    return left.isEmpty && !right.isEmpty
}

func naturallyPrecedes(_ lhs: [String], _ rhs: [String]) -> Bool {
    for (a, b) in zip(lhs, rhs) where a != b { return naturallyPrecedes(a, b) }
    return lhs.count < rhs.count
}

struct KnownShift: Hashable {
    var name: String
    var start: Int64
    var end: Int64
}

/// Local days in the plant's zone, and the shifts the entries name (`ANDON_SHIFT_START_MS`, `..._END_MS`).
struct ReportCalendar: Sendable {
    var zone: SiteTimeZone
    var shifts: [KnownShift]

    init(zone: SiteTimeZone, shifts: [KnownShift]) {
        self.zone = zone
        self.shifts = shifts
    }

    func date(of at: Int64) -> String { zone.local(Instant(millisecondsSinceEpoch: at)).date.description }

    /// `YYYY-MM-DD HH:00`, the local clock hour.
    func hour(of at: Int64) -> String {
        let local = zone.local(Instant(millisecondsSinceEpoch: at))
        return "\(local.date) \(LocalTime(hour: local.time.hour, minute: 0))"
    }

    func shift(at: Int64) -> String? { shifts.last { $0.start <= at && at < $0.end }?.name }

    /// The next local midnight or shift start or end after `at`.
    func nextBoundary(after at: Int64) -> Int64 {
        let today = zone.local(Instant(millisecondsSinceEpoch: at)).date
        var next = zone.instant(of: LocalDateTime(date: today.adding(days: 1), time: LocalTime(hour: 0, minute: 0)))
            .millisecondsSinceEpoch
        for shift in shifts {
            if shift.start > at { next = min(next, shift.start) }
            if shift.end > at { next = min(next, shift.end) }
        }
        return next
    }
}
