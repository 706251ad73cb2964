import AndonCore
import AndonProtocol
import Foundation

extension Report {
    /// The report as one self-contained HTML page for a projector: no script, no font, no image from elsewhere; the
    /// charts are inline SVG.
    public func html() -> String {
        let zone = SiteTimeZone(identifier: timeZone) ?? .utc
        let title = "Andon report \(Self.local(since, zone)) – \(Self.local(until, zone))"
        var body: [String] = []
        body.append("<h1>\(Self.escape(title))</h1>")
        let site = sites.isEmpty ? "" : sites.joined(separator: ", ") + " · "
        body.append(
            "<p class=sub>\(Self.escape(site))\(Self.escape(timeZone))"
                + (drillCalls > 0 ? " · \(drillCalls) drill calls left out" : "") + "</p>"
        )
        func tile(_ label: String, _ value: String, _ note: String = "") -> String {
            "<div class=tile><div class=value>\(Self.escape(value))</div><div class=label>\(Self.escape(label))"
                + (note.isEmpty ? "" : "<br><span>\(Self.escape(note))</span>") + "</div></div>"
        }
        body.append("<div class=tiles>")
        body.append(tile("calls", String(total.calls)))
        body.append(
            tile(
                "time to acknowledge",
                total.acknowledge.map { Self.duration($0.median) } ?? "-",
                total.acknowledge.map { "median · p90 \(Self.duration($0.p90))" } ?? ""
            )
        )
        body.append(
            tile(
                "time to resolve",
                total.resolve.map { Self.duration($0.median) } ?? "-",
                total.resolve.map { "median · p90 \(Self.duration($0.p90))" } ?? ""
            )
        )
        body.append(tile("line-stop minutes", Self.minutes(stops.minutes), "\(stops.count) stops"))
        body.append(tile("reached KPO", String(total.reachedKPO), "\(total.unansweredAtKPO) unanswered repeats"))
        body.append(tile("time in flood", Self.percent(alarms.floodShare), "\(alarms.floods.count) floods"))
        body.append("</div>")
        body.append(siteSection())

        body.append("<h2>Pareto of stations</h2>")
        body.append(Self.paretoChart(paretoStations))
        body.append(
            "<p class=note>The top 10 stations have \(Self.percent(paretoStations.top10Share)) of the calls.</p>"
        )
        body.append("<h2>Time to acknowledge and to resolve, per day (median)</h2>")
        body.append(Self.dayChart(byDay))
        body.append("<h2>Line-stop minutes per line and day</h2>")
        body.append(Self.stopChart(byDay, lines: stops.byLine.keys.sorted(by: naturallyPrecedes)))
        // What stopped the lines, in the controllers' own words (escaped: they are data).
        var byReason: [String: Double] = [:]
        for piece in stops.pieces { byReason[piece.reason, default: 0] += piece.minutes }
        body.append(
            Self.htmlTable(
                ["Stop reason", "Minutes"],
                byReason.sorted { ($1.value, $0.key) < ($0.value, $1.key) }.map { [$0.key, Self.minutes($0.value)] }
            )
        )

        body.append("<h2>By line</h2>")
        body.append(Self.responseTable(byLine) { $0.line ?? "-" })
        body.append("<h2>By shift</h2>")
        body.append(Self.responseTable(byShift) { $0.shift ?? "-" })
        body.append("<h2>Pareto of categories</h2>")
        body.append(Self.paretoChart(paretoCategories))

        body.append("<h2>Alarm load</h2>")
        body.append(
            "<p class=note>ISA-18.2 / EEMUA 191: about \(Limits.manageablePerHour) calls per responder per hour are "
                + "manageable, \(Limits.mostPerHour) the most.</p>"
        )
        body.append(
            Self.htmlTable(
                ["Responder", "Calls", "Per hour", "Peak hour", "At", "Hours > 6", "Hours > 12"],
                alarms.responders.map {
                    [
                        $0.user, String($0.calls), String(format: "%.2f", $0.perHour), String($0.peakHour),
                        $0.peakHourStart, String($0.hoursOver6), String($0.hoursOver12),
                    ]
                }
            )
        )
        body.append("<h2>Floods, stale calls and chattering stations</h2>")
        body.append(
            Self.htmlTable(
                ["Line", "From", "To", "Calls"],
                alarms.floods.map {
                    [
                        $0.line, Self.local($0.start, zone, seconds: true), Self.local($0.end, zone, seconds: true),
                        String($0.calls),
                    ]
                }
            )
        )
        body.append(
            Self.htmlTable(
                ["Stale call", "Where", "Raised", "Open"],
                alarms.staleCalls.map {
                    [
                        "#\($0.incident)", Self.place($0.line, $0.station),
                        Self.local($0.raisedAt, zone), Self.duration(Double($0.openMilliseconds)),
                    ]
                }
            )
        )
        body.append(
            Self.htmlTable(
                ["Chattering station", "Calls", "Most in 60 s"],
                alarms.chattering.map { [$0.station, String($0.calls), String($0.mostIn60s)] }
            )
        )
        if let notifications {
            func spread(_ value: Double?) -> String { value.map { Self.duration($0) } ?? "-" }
            body.append("<h2>Notifications</h2>")
            body.append(
                "<p class=note>Raised to the first notification delivered: median "
                    + "\(spread(notifications.firstNotification?.median)), p90 "
                    + "\(spread(notifications.firstNotification?.p90)).</p>"
            )
            body.append(
                Self.htmlTable(
                    ["Channel", "Delivered", "Tried again", "Failed"],
                    notifications.byChannel.map {
                        [$0.channel, String($0.delivered), String($0.failedAttempts), String($0.failed)]
                    }
                )
            )
        }
        if let shelving {
            body.append("<h2>Shelved</h2>")
            body.append("<p class=note>Calls recorded and timed but nobody called (ISA-18.2's shelved alarms).</p>")
            body.append(
                Self.htmlTable(
                    ["Line", "Shelves", "Minutes shelved"],
                    shelving.map { [$0.line, String($0.shelves), String(format: "%.1f", $0.shelvedMinutes)] }
                )
            )
        }
        return """
            <!doctype html>
            <html lang=en><head><meta charset=utf-8><meta name=viewport content="width=device-width">
            <title>\(Self.escape(title))</title>
            <style>
            body{font:18px/1.4 "DejaVu Sans",Arial,sans-serif;color:#111;background:#fff;margin:24px 40px}
            h1{font-size:30px;margin:0 0 4px}h2{font-size:22px;margin:28px 0 8px;border-bottom:2px solid #333}
            .sub,.note{color:#444;margin:4px 0}
            .tiles{display:flex;flex-wrap:wrap;gap:12px;margin:16px 0}
            .tile{border:2px solid #333;border-radius:8px;padding:10px 16px;min-width:170px}
            .value{font-size:34px;font-weight:bold}.label{color:#333}.label span{font-size:15px;color:#555}
            table{border-collapse:collapse;margin:8px 0}th,td{padding:3px 12px;border-bottom:1px solid #bbb}
            th{text-align:left;background:#eee}td.n{text-align:right;font-variant-numeric:tabular-nums}
            svg text{font-family:"DejaVu Sans",Arial,sans-serif}
            </style></head><body>
            \(body.joined(separator: "\n"))
            </body></html>

            """
    }

    /// Text as HTML character data or an attribute value: markup characters as references, and what a sender wrote
    /// that could reorder or hide the page's text (controls, bidi overrides, separators) as visible escapes, as every
    /// other view shows them.
    static func escape(_ text: String) -> String {
        var out = ""
        for scalar in text.escapingControlCharacters.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    static func htmlTable(_ header: [String], _ rows: [[String]]) -> String {
        guard !rows.isEmpty else { return "<p class=note>\(escape(header[0])): none.</p>" }
        var out = "<table><tr>" + header.map { "<th>\(escape($0))</th>" }.joined() + "</tr>"
        for row in rows {
            out += "<tr>"
            for (column, cell) in row.enumerated() {
                out += column == 0 ? "<td>\(escape(cell))</td>" : "<td class=n>\(escape(cell))</td>"
            }
            out += "</tr>"
        }
        return out + "</table>"
    }

    static func responseTable(_ groups: [Group], name: (Group) -> String) -> String {
        func spread(_ value: Double?) -> String { value.map { duration($0) } ?? "-" }
        return htmlTable(
            [
                "", "Calls", "Ack median", "Ack p90", "Arrive median", "Resolve median", "Resolve p90", "Escalated",
                "KPO",
            ],
            groups.map { group in
                let r = group.response
                return [
                    name(group), String(r.calls), spread(r.acknowledge?.median), spread(r.acknowledge?.p90),
                    spread(r.arrive?.median), spread(r.resolve?.median), spread(r.resolve?.p90), String(r.escalations),
                    String(r.reachedKPO),
                ]
            }
        )
    }

    // MARK: Charts

    static func svgNumber(_ value: Double) -> String { String(format: "%.1f", value) }

    /// Bars of the largest rows (at most 15) and the cumulative share as a line, on a 0-100 % axis at the right.
    static func paretoChart(_ pareto: Pareto) -> String {
        let rows = Array(pareto.rows.prefix(15))
        guard !rows.isEmpty else { return "<p class=note>No calls.</p>" }
        let width = 1000.0
        let height = 360.0
        let left = 60.0
        let right = 60.0
        let top = 20.0
        let bottom = 110.0
        let plotWidth = width - left - right
        let plotHeight = height - top - bottom
        let most = Double(rows.map(\.calls).max() ?? 1)
        let step = plotWidth / Double(rows.count)
        var svg = svgOpen(width, height, "Pareto chart")
        svg += axis(left: left, top: top, plotWidth: plotWidth, plotHeight: plotHeight, most: most, unit: "calls")
        var points: [String] = []
        for (index, row) in rows.enumerated() {
            let barHeight = plotHeight * Double(row.calls) / most
            let x = left + step * Double(index) + step * 0.15
            svg +=
                "<rect x=\"\(svgNumber(x))\" y=\"\(svgNumber(top + plotHeight - barHeight))\" "
                + "width=\"\(svgNumber(step * 0.7))\" height=\"\(svgNumber(barHeight))\" fill=\"#1f5fa8\"/>"
            svg +=
                "<text x=\"\(svgNumber(x + step * 0.35))\" y=\"\(svgNumber(top + plotHeight - barHeight - 4))\" "
                + "font-size=\"14\" text-anchor=\"middle\">\(row.calls)</text>"
            let labelX = x + step * 0.35
            let labelY = top + plotHeight + 14
            svg +=
                "<text x=\"\(svgNumber(labelX))\" y=\"\(svgNumber(labelY))\" font-size=\"14\" text-anchor=\"end\" "
                + "transform=\"rotate(-40 \(svgNumber(labelX)) \(svgNumber(labelY)))\">\(escape(row.name))</text>"
            points.append("\(svgNumber(labelX)),\(svgNumber(top + plotHeight * (1 - row.cumulativeShare)))")
        }
        svg +=
            "<polyline points=\"\(points.joined(separator: " "))\" fill=\"none\" stroke=\"#c0392b\" stroke-width=\"3\"/>"
        for share in [0.0, 0.5, 0.8, 1.0] {
            let y = top + plotHeight * (1 - share)
            svg +=
                "<text x=\"\(svgNumber(left + plotWidth + 8))\" y=\"\(svgNumber(y + 5))\" font-size=\"14\" "
                + "fill=\"#c0392b\">\(Int(share * 100))%</text>"
        }
        return svg + "</svg>"
    }

    /// The median time to acknowledge and to resolve of each day's calls, in minutes: two bars per day.
    static func dayChart(_ days: [Day]) -> String {
        let shown = days.filter { $0.response.calls > 0 }
        guard !shown.isEmpty else { return "<p class=note>No calls.</p>" }
        let width = 1000.0
        let height = 320.0
        let left = 60.0
        let top = 30.0
        let bottom = 70.0
        let plotWidth = width - left - 20
        let plotHeight = height - top - bottom
        var longest = 0.0
        for day in shown {
            longest = max(longest, day.response.acknowledge?.median ?? 0, day.response.resolve?.median ?? 0)
        }
        let most = max(1, longest / 60_000)
        let step = plotWidth / Double(shown.count)
        var svg = svgOpen(width, height, "Median times per day")
        svg += axis(left: left, top: top, plotWidth: plotWidth, plotHeight: plotHeight, most: most, unit: "minutes")
        svg += legend([("acknowledge", "#1f5fa8"), ("resolve", "#e08e0b")], x: left + 10, y: 16)
        for (index, day) in shown.enumerated() {
            for (series, (value, color)) in [
                (day.response.acknowledge?.median, "#1f5fa8"), (day.response.resolve?.median, "#e08e0b"),
            ].enumerated() {
                guard let value else { continue }
                let barHeight = plotHeight * value / 60_000 / most
                let x = left + step * Double(index) + step * (0.1 + 0.4 * Double(series))
                svg +=
                    "<rect x=\"\(svgNumber(x))\" y=\"\(svgNumber(top + plotHeight - barHeight))\" "
                    + "width=\"\(svgNumber(step * 0.38))\" height=\"\(svgNumber(barHeight))\" fill=\"\(color)\"/>"
            }
            if shown.count <= 16 || index % max(1, shown.count / 10) == 0 {
                let x = left + step * (Double(index) + 0.5)
                svg +=
                    "<text x=\"\(svgNumber(x))\" y=\"\(svgNumber(top + plotHeight + 20))\" font-size=\"14\" "
                    + "text-anchor=\"middle\">\(escape(String(day.date.dropFirst(5))))</text>"
            }
        }
        return svg + "</svg>"
    }

    /// A heat map: one row per line, one column per day, darker for more stop minutes (the figure in the cell).
    static func stopChart(_ days: [Day], lines: [String]) -> String {
        guard !lines.isEmpty, !days.isEmpty else { return "<p class=note>No line stops.</p>" }
        let cell = min(60.0, 900.0 / Double(days.count))
        let rowHeight = 26.0
        let left = 90.0
        let top = 30.0
        let width = left + cell * Double(days.count) + 20
        let height = top + rowHeight * Double(lines.count) + 10
        let most = max(1, days.flatMap { Array($0.stopMinutes.values) }.max() ?? 1)
        var svg = svgOpen(width, height, "Stop minutes per line and day")
        for (column, day) in days.enumerated() where days.count <= 16 || column % max(1, days.count / 10) == 0 {
            svg +=
                "<text x=\"\(svgNumber(left + cell * (Double(column) + 0.5)))\" y=\"20\" font-size=\"14\" "
                + "text-anchor=\"middle\">\(escape(String(day.date.dropFirst(5))))</text>"
        }
        for (row, line) in lines.enumerated() {
            let y = top + rowHeight * Double(row)
            svg +=
                "<text x=\"\(svgNumber(left - 8))\" y=\"\(svgNumber(y + rowHeight * 0.7))\" font-size=\"15\" "
                + "text-anchor=\"end\">\(escape(line))</text>"
            for (column, day) in days.enumerated() {
                let minutes = day.stopMinutes[line] ?? 0
                let x = left + cell * Double(column)
                let strength = minutes / most
                let shade = Int(255 - 200 * strength)
                let fill = minutes == 0 ? "#f3f3f3" : "rgb(255,\(shade),\(shade))"
                svg +=
                    "<rect x=\"\(svgNumber(x))\" y=\"\(svgNumber(y))\" width=\"\(svgNumber(cell - 2))\" "
                    + "height=\"\(svgNumber(rowHeight - 2))\" fill=\"\(fill)\"/>"
                if minutes > 0, cell >= 34 {
                    svg +=
                        "<text x=\"\(svgNumber(x + cell / 2 - 1))\" y=\"\(svgNumber(y + rowHeight * 0.68))\" "
                        + "font-size=\"13\" text-anchor=\"middle\">\(Int(minutes.rounded()))</text>"
                }
            }
        }
        return svg + "</svg>"
    }

    static func svgOpen(_ width: Double, _ height: Double, _ label: String) -> String {
        "<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" aria-label=\"\(escape(label))\" "
            + "viewBox=\"0 0 \(svgNumber(width)) \(svgNumber(height))\" width=\"\(svgNumber(width))\" "
            + "height=\"\(svgNumber(height))\">"
    }

    private static func axis(
        left: Double,
        top: Double,
        plotWidth: Double,
        plotHeight: Double,
        most: Double,
        unit: String
    ) -> String {
        var svg =
            "<line x1=\"\(svgNumber(left))\" y1=\"\(svgNumber(top + plotHeight))\" "
            + "x2=\"\(svgNumber(left + plotWidth))\" y2=\"\(svgNumber(top + plotHeight))\" stroke=\"#333\"/>"
        for fraction in [0.0, 0.5, 1.0] {
            let y = top + plotHeight * (1 - fraction)
            let value = most * fraction
            let label = value >= 10 || value == 0 ? String(Int(value.rounded())) : String(format: "%.1f", value)
            svg +=
                "<text x=\"\(svgNumber(left - 8))\" y=\"\(svgNumber(y + 5))\" font-size=\"14\" "
                + "text-anchor=\"end\">\(label)</text>"
            if fraction > 0 {
                svg +=
                    "<line x1=\"\(svgNumber(left))\" y1=\"\(svgNumber(y))\" x2=\"\(svgNumber(left + plotWidth))\" "
                    + "y2=\"\(svgNumber(y))\" stroke=\"#ddd\"/>"
            }
        }
        svg +=
            "<text x=\"12\" y=\"\(svgNumber(top + plotHeight / 2))\" font-size=\"14\" text-anchor=\"middle\" "
            + "transform=\"rotate(-90 12 \(svgNumber(top + plotHeight / 2)))\">\(escape(unit))</text>"
        return svg
    }

    private static func legend(_ items: [(String, String)], x: Double, y: Double) -> String {
        var svg = ""
        var cursor = x
        for (name, color) in items {
            svg +=
                "<rect x=\"\(svgNumber(cursor))\" y=\"\(svgNumber(y - 12))\" width=\"14\" height=\"14\" fill=\"\(color)\"/>"
            svg += "<text x=\"\(svgNumber(cursor + 20))\" y=\"\(svgNumber(y))\" font-size=\"15\">\(escape(name))</text>"
            cursor += 40 + Double(name.count) * 9
        }
        return svg
    }
}
