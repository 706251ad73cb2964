import AndonCore
import Foundation

extension Report {
    /// The report for a terminal or a printout: a summary, then one table per view.
    public func text() -> String {
        var out: [String] = []
        let zone = SiteTimeZone(identifier: timeZone) ?? .utc
        let site = sites.isEmpty ? "" : sites.joined(separator: ", ") + ", "
        out.append(
            "andon report: \(site)\(Self.local(since, zone)) to \(Self.local(until, zone)) (\(timeZone))"
        )
        if drillCalls > 0 {
            out.append("\(drillCalls) drill call\(drillCalls == 1 ? "" : "s") left out (--drills counts them)")
        }
        out.append("")
        out.append(
            "Calls \(total.calls): acknowledged \(total.acknowledged), someone at the station \(total.arrived), "
                + "closed \(total.closed)"
        )
        for (name, spread) in [
            ("Time to acknowledge", total.acknowledge), ("Time to arrive", total.arrive),
            ("Time to resolve", total.resolve),
        ] {
            guard let spread else { continue }
            out.append(
                "\(name.padding(toLength: 20, withPad: " ", startingAt: 0))median \(Self.duration(spread.median)), "
                    + "p90 \(Self.duration(spread.p90)) (\(spread.count) calls)"
            )
        }
        out.append(
            "Escalations \(total.escalations), calls that reached KPO \(total.reachedKPO), "
                + "unanswered repeats at KPO \(total.unansweredAtKPO)"
        )
        out += siteLines()
        for (title, key, groups) in [
            ("By line", "LINE", byLine), ("By shift", "SHIFT", byShift), ("By category", "CATEGORY", byCategory),
        ] where !groups.isEmpty {
            out.append("")
            out.append(title)
            out += Self.responseTable(key: key, groups) { $0.line ?? $0.shift ?? $0.category ?? "-" }
        }

        out.append("")
        out.append("Line stops: \(stops.count), \(Self.minutes(stops.minutes)) minutes in the window")
        if stops.pieces.count <= 20 {
            let rows = stops.pieces.map { [$0.line, $0.date, $0.shift, $0.reason, Self.minutes($0.minutes)] }
            if !rows.isEmpty { out += Self.table(["LINE", "DATE", "SHIFT", "REASON", "MINUTES"], rows, right: [4]) }
        } else {
            // Per line and shift, and per reason; every piece is in --format csv and json.
            let shifts = Array(Set(stops.pieces.map(\.shift))).sorted(by: naturallyPrecedes)
            var byLine: [String: [String: Double]] = [:]
            var byReason: [String: Double] = [:]
            for piece in stops.pieces {
                byLine[piece.line, default: [:]][piece.shift, default: 0] += piece.minutes
                byReason[piece.reason, default: 0] += piece.minutes
            }
            let rows = byLine.keys.sorted(by: naturallyPrecedes).map { line in
                [line] + shifts.map { Self.minutes(byLine[line]?[$0] ?? 0) }
                    + [Self.minutes(byLine[line]?.values.reduce(0, +) ?? 0)]
            }
            out += Self.table(
                ["LINE"] + shifts.map { "SHIFT \($0)" } + ["MINUTES"],
                rows,
                right: Array(1...(shifts.count + 1))
            )
            out.append("")
            let reasons = byReason.sorted { $0.value > $1.value }.map { [$0.key, Self.minutes($0.value)] }
            out += Self.table(["REASON", "MINUTES"], reasons, right: [1])
        }

        for (title, pareto) in [("Pareto of stations", paretoStations), ("Pareto of categories", paretoCategories)]
        where !pareto.rows.isEmpty {
            out.append("")
            out.append("\(title) (the top 10 have \(Self.percent(pareto.top10Share)) of the calls)")
            let rows = pareto.rows.prefix(10).map {
                [$0.name, String($0.calls), Self.percent($0.share), Self.percent($0.cumulativeShare)]
            }
            out += Self.table(["NAME", "CALLS", "SHARE", "CUMULATIVE"], Array(rows), right: [1, 2, 3])
            if pareto.rows.count > 10 { out.append("... and \(pareto.rows.count - 10) more") }
        }

        out.append("")
        out.append(
            "Alarm load (ISA-18.2 / EEMUA 191: about \(Limits.manageablePerHour) calls per responder per hour are "
                + "manageable, \(Limits.mostPerHour) the most)"
        )
        if alarms.responders.isEmpty {
            out.append("nobody was called")
        } else {
            let rows = alarms.responders.map {
                [
                    $0.user, String($0.calls), String(format: "%.2f", $0.perHour), String($0.peakHour),
                    $0.peakHourStart, String($0.hoursOver6), String($0.hoursOver12),
                ]
            }
            out += Self.table(
                ["RESPONDER", "CALLS", "PER HOUR", "PEAK HOUR", "AT", "HOURS >6", "HOURS >12"],
                rows,
                right: [1, 2, 3, 5, 6]
            )
        }
        out.append(
            "Floods (more than \(Limits.floodCalls) calls in 10 minutes on a line): \(alarms.floods.count), "
                + "\(Self.percent(alarms.floodShare)) of the time"
        )
        if !alarms.floods.isEmpty {
            let rows = alarms.floods.map {
                [
                    $0.line, Self.local($0.start, zone, seconds: true), Self.local($0.end, zone, seconds: true),
                    Self.duration(Double($0.end - $0.start)), String($0.calls),
                ]
            }
            out += Self.table(["LINE", "FROM", "TO", "FOR", "CALLS"], rows, right: [3, 4])
        }
        out.append("Stale calls (open more than 24 h): \(alarms.staleCalls.count)")
        if !alarms.staleCalls.isEmpty {
            let rows = alarms.staleCalls.map {
                [
                    "#\($0.incident)", Self.place($0.line, $0.station), $0.category ?? "-",
                    Self.local($0.raisedAt, zone), Self.duration(Double($0.openMilliseconds)),
                    $0.closed ? "closed" : "open",
                ]
            }
            out += Self.table(["CALL", "WHERE", "CATEGORY", "RAISED", "OPEN", "NOW"], rows, right: [4])
        }
        out.append("Chattering stations (3 or more calls within 60 s): \(alarms.chattering.count)")
        if !alarms.chattering.isEmpty {
            let rows = alarms.chattering.map { [$0.station, String($0.calls), String($0.mostIn60s)] }
            out += Self.table(["STATION", "CALLS", "MOST IN 60 S"], rows, right: [1, 2])
        }
        if let notifications {
            out.append("")
            out.append(
                "Notifications: \(notifications.delivered) delivered, \(notifications.failed) failed for good, "
                    + "\(notifications.failedAttempts) attempts tried again; raised to first notification: median "
                    + "\(Self.spread(notifications.firstNotification?.median)), p90 "
                    + "\(Self.spread(notifications.firstNotification?.p90))"
            )
            let rows = notifications.byChannel.map {
                [$0.channel, String($0.delivered), String($0.failedAttempts), String($0.failed)]
            }
            out += Self.table(["CHANNEL", "DELIVERED", "RETRIED", "FAILED"], rows, right: [1, 2, 3])
        }
        if let shelving {
            out.append("")
            out.append("Shelved (ISA-18.2): calls recorded but nobody called")
            let rows = shelving.map { [$0.line, String($0.shelves), Self.minutes($0.shelvedMinutes)] }
            out += Self.table(["LINE", "SHELVES", "SHELVED MIN"], rows, right: [1, 2])
        }
        return out.joined(separator: "\n")
    }

    static func responseTable(key: String, _ groups: [Group], name: (Group) -> String) -> [String] {
        let rows = groups.map { group -> [String] in
            let r = group.response
            return [
                name(group), String(r.calls), spread(r.acknowledge?.median), spread(r.acknowledge?.p90),
                spread(r.arrive?.median), spread(r.resolve?.median), spread(r.resolve?.p90), String(r.escalations),
                String(r.reachedKPO), String(r.unansweredAtKPO),
            ]
        }
        return table(
            [
                key, "CALLS", "ACK MEDIAN", "ACK P90", "ARRIVE MEDIAN", "RESOLVE MEDIAN", "RESOLVE P90", "ESCALATED",
                "KPO", "UNANSWERED",
            ],
            rows,
            right: Array(1...9)
        )
    }

    private static func spread(_ value: Double?) -> String { value.map { duration($0) } ?? "-" }

    /// `42s`, `4m 05s`, `2h 03m`.
    public static func duration(_ milliseconds: Double) -> String {
        let seconds = Int((milliseconds / 1000).rounded())
        if seconds < 60 { return "\(seconds)s" }
        if seconds < 3600 { return "\(seconds / 60)m \(twoDigits(seconds % 60))s" }
        return "\(seconds / 3600)h \(twoDigits(seconds / 60 % 60))m"
    }

    static func place(_ line: String, _ station: String?) -> String { station.map { "\(line)/\($0)" } ?? line }

    static func minutes(_ value: Double) -> String { String(format: "%.1f", value) }
    static func percent(_ share: Double) -> String { String(format: "%.1f%%", share * 100) }
    private static func twoDigits(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }

    static func local(_ at: Int64, _ zone: SiteTimeZone, seconds: Bool = false) -> String {
        let instant = Instant(millisecondsSinceEpoch: at)
        let text = zone.local(instant).description
        guard seconds else { return text }
        let second = Int((at / 1000) % 60 + 60) % 60
        return "\(text):\(twoDigits(second))"
    }

    /// Columns padded to their widest cell; `right` are right-aligned.
    static func table(_ header: [String], _ rows: [[String]], right: [Int] = []) -> [String] {
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
        return all.map { row in
            row.indices.map { column in
                let cell = row[column]
                let pad = String(repeating: " ", count: widths[column] - cell.count)
                if column == row.count - 1, !right.contains(column) { return cell }
                return right.contains(column) ? pad + cell : cell + pad
            }
            .joined(separator: "  ")
        }
    }
}
