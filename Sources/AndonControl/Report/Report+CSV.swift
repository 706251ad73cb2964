import AndonProtocol
import Foundation

extension Report {
    /// The report as one long CSV table, for spreadsheets and pivot tables: one figure per row, with the view it
    /// belongs to (`section`) and its dimensions. Durations are in seconds.
    public func csv() -> String {
        var rows: [[String]] = [
            ["section", "line", "station", "category", "shift", "date", "reason", "name", "metric", "value"]
        ]
        func add(
            _ section: String,
            line: String? = nil,
            station: String? = nil,
            category: String? = nil,
            shift: String? = nil,
            date: String? = nil,
            reason: String? = nil,
            name: String? = nil,
            _ metric: String,
            _ value: String
        ) {
            rows.append(
                [section, line, station, category, shift, date, reason, name].map { $0 ?? "" } + [metric, value]
            )
        }
        func add(_ section: String, _ group: Group?, date: String? = nil, name: String? = nil, _ response: Response) {
            let dimensions = (group?.line, group?.station, group?.category, group?.shift)
            func put(_ metric: String, _ value: String) {
                add(
                    section,
                    line: dimensions.0,
                    station: dimensions.1,
                    category: dimensions.2,
                    shift: dimensions.3,
                    date: date,
                    name: name,
                    metric,
                    value
                )
            }
            put("calls", String(response.calls))
            put("acknowledged", String(response.acknowledged))
            put("arrived", String(response.arrived))
            put("closed", String(response.closed))
            for (name, spread) in [
                ("acknowledge", response.acknowledge), ("arrive", response.arrive), ("resolve", response.resolve),
            ] {
                guard let spread else { continue }
                put("\(name)_median_s", Self.seconds(spread.median))
                put("\(name)_p90_s", Self.seconds(spread.p90))
            }
            put("escalations", String(response.escalations))
            put("reached_kpo", String(response.reachedKPO))
            put("unanswered_at_kpo", String(response.unansweredAtKPO))
        }
        add("window", name: "since", "unix_ms", String(since))
        add("window", name: "until", "unix_ms", String(until))
        // One thing a row: the name column names it, the metric says what the value is.
        add("window", name: "time_zone", "iana", timeZone)
        add("window", name: "drill_calls_left_out", "calls", String(drillCalls))
        add("total", nil, total)
        for site in bySite ?? [] {
            add("site", nil, name: site.site, site.response)
            add("site", name: site.site, "stops", String(site.stops))
            add("site", name: site.site, "stop_minutes", Self.number(site.stopMinutes))
        }
        for group in byLine { add("line", group, group.response) }
        for group in byStation { add("station", group, group.response) }
        for group in byCategory { add("category", group, group.response) }
        for group in byShift { add("shift", group, group.response) }
        for group in groups { add("group", group, group.response) }
        for day in byDay {
            add("day", nil, date: day.date, day.response)
            for (line, minutes) in day.stopMinutes.sorted(by: { $0.key < $1.key }) {
                add("day", line: line, date: day.date, "stop_minutes", Self.number(minutes))
            }
        }
        add("stops", "count", String(stops.count))
        add("stops", "minutes", Self.number(stops.minutes))
        for piece in stops.pieces {
            add(
                "stop",
                line: piece.line,
                shift: piece.shift,
                date: piece.date,
                reason: piece.reason,
                "minutes",
                Self.number(piece.minutes)
            )
        }
        for (section, pareto) in [("pareto-station", paretoStations), ("pareto-category", paretoCategories)] {
            add(section, name: "top-10", "share", Self.number(pareto.top10Share))
            for row in pareto.rows {
                add(section, name: row.name, "calls", String(row.calls))
                add(section, name: row.name, "share", Self.number(row.share))
                add(section, name: row.name, "cumulative_share", Self.number(row.cumulativeShare))
            }
        }
        for load in alarms.responders {
            add("responder", name: load.user, "calls", String(load.calls))
            add("responder", name: load.user, "per_hour", Self.number(load.perHour))
            add("responder", name: load.user, "peak_hour_calls", String(load.peakHour))
            add("responder", name: load.user, "peak_hour_start", load.peakHourStart)
            add("responder", name: load.user, "hours_over_6", String(load.hoursOver6))
            add("responder", name: load.user, "hours_over_12", String(load.hoursOver12))
        }
        add("flood", "share", Self.number(alarms.floodShare))
        for (line, share) in alarms.floodShareByLine.sorted(by: { $0.key < $1.key }) {
            add("flood", line: line, "share", Self.number(share))
        }
        for flood in alarms.floods {
            let name = "\(flood.start)"
            add("flood", line: flood.line, name: name, "start_unix_ms", String(flood.start))
            add("flood", line: flood.line, name: name, "end_unix_ms", String(flood.end))
            add("flood", line: flood.line, name: name, "calls", String(flood.calls))
        }
        for call in alarms.staleCalls {
            add(
                "stale",
                line: call.line,
                station: call.station,
                category: call.category,
                name: call.incident,
                "open_s",
                Self.seconds(Double(call.openMilliseconds))
            )
        }
        for chatter in alarms.chattering {
            add("chatter", name: chatter.station, "calls", String(chatter.calls))
            add("chatter", name: chatter.station, "most_in_60s", String(chatter.mostIn60s))
        }
        return rows.map { $0.map(Self.field).joined(separator: ",") }.joined(separator: "\r\n") + "\r\n"
    }

    /// RFC 4180: quoted when it holds a comma, a quote or a line break; a leading `=`, `+`, `-` or `@` is quoted
    /// with a leading `'` so that a spreadsheet does not run it as a formula.
    static func field(_ text: String) -> String {
        var text = text
        if let first = text.first, "=+-@".contains(first), Double(text) == nil { text = "'" + text }
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    static func seconds(_ milliseconds: Double) -> String { number(milliseconds / 1000) }

    static func number(_ value: Double) -> String {
        let text = String(format: "%.3f", value)
        var trimmed = Substring(text)
        while trimmed.hasSuffix("0") { trimmed = trimmed.dropLast() }
        if trimmed.hasSuffix(".") { trimmed = trimmed.dropLast() }
        return String(trimmed)
    }

    /// The report as one JSON object: every figure, durations in milliseconds, instants in milliseconds since the
    /// epoch.
    public func json() -> String {
        JSONWriter.encode(self)
    }
}
