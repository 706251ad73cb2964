import AndonCore
import AndonProtocol

/// `andonctl status` for people: one row per open call.
public enum StatusFormatter {
    public static func render(_ report: StatusReport) -> String {
        let now = Instant(millisecondsSinceEpoch: report.now)
        let count = report.total ?? report.incidents.count
        var lines = ["\(count) open call\(count == 1 ? "" : "s") at \(report.site)"]
        if let total = report.total, total != report.incidents.count {
            lines[0] += " (showing \(report.incidents.count))"
        }
        let standing = Self.standing(report)
        guard !report.incidents.isEmpty else { return ([lines[0]] + standing).joined(separator: "\n") }
        let header = ["ID", "LINE", "STATION", "KIND", "CATEGORY", "TIER", "OWNER", "AGE", "ACKNOWLEDGED", "NEXT"]
        let rows = report.incidents.map { incident -> [String] in
            let age = Duration.milliseconds(incident.ageMilliseconds).roundedDescription
            let ack = incident.acknowledgedBy.map { by in
                by
                    + (incident.acknowledgedAt.map {
                        " \(now.duration(since: Instant(millisecondsSinceEpoch: $0)).roundedDescription) ago"
                    } ?? "")
            }
            let arrived = incident.arrivedAt.map {
                ", at the station \(now.duration(since: Instant(millisecondsSinceEpoch: $0)).roundedDescription) ago"
            }
            let owners = incident.owners ?? incident.responders
            let next = incident.nextDeadline.map {
                "in " + Instant(millisecondsSinceEpoch: $0).duration(since: now).roundedDescription
            }
            return [
                String(incident.id), incident.line,
                incident.stations?.joined(separator: ",") ?? incident.station ?? "-",
                incident.drill == true ? "\(incident.kind) DRILL" : incident.kind, incident.category ?? "-",
                "\(incident.tierNumber)/\(incident.tiers) \(incident.tier)",
                (owners.isEmpty ? "(nobody)" : owners.joined(separator: ","))
                    + (incident.notifyFailed == true ? " (NOTIFY FAILED)" : "")
                    + (incident.shelf.map { " (SHELVED, shelf \($0))" } ?? ""),
                age, (ack ?? "-") + (arrived ?? ""),
                next ?? "-",
            ]
        }
        // What a call holds came from a sender or a responder: shown, never obeyed by the terminal.
        let all = [header] + rows.map { $0.map(\.escapingControlCharacters) }
        let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
        for row in all {
            let cells = row.enumerated().map { index, cell in
                index == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[index] - cell.count)
            }
            lines.append(cells.joined(separator: "  "))
        }
        if let omitted = report.omitted, omitted > 0 {
            lines.append("... and \(omitted) more (andonctl status --limit 0 shows all, --line L one line's)")
        }
        return (lines + standing).joined(separator: "\n")
    }

    /// The shelves and the stations out of service, one line each (what a sender or a responder wrote is escaped).
    static func standing(_ report: StatusReport) -> [String] {
        guard let plant = report.plant else { return [] }
        let zone = SiteTimeZone(identifier: plant.timeZone) ?? .utc
        var lines: [String] = []
        for shelf in plant.shelves ?? [] {
            let what = [shelf.station, shelf.category].compactMap { $0 }.joined(separator: " ")
            let until =
                shelf.until.map { "until \(zone.local(Instant(millisecondsSinceEpoch: $0)))" }
                ?? "until its calls are over"
            let calls = shelf.calls.isEmpty ? "" : ", holding \(shelf.calls.map(String.init).joined(separator: ","))"
            lines.append(
                "SHELVED: shelf \(shelf.id) \(shelf.line) \(what.isEmpty ? "(all)" : what) \(until)\(calls) "
                    + "(\(shelf.by): \(shelf.reason))".escapingControlCharacters
            )
        }
        for entry in plant.outOfService ?? [] {
            lines.append(
                "OUT OF SERVICE: \(entry.line)/\(entry.station) (\(entry.by): \(entry.reason)), \(entry.signals) cord pull(s) ignored"
                    .escapingControlCharacters
            )
        }
        return lines
    }
}
