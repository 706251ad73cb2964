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
        guard !report.incidents.isEmpty else { return lines[0] }
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
                    + (incident.notifyFailed == true ? " (NOTIFY FAILED)" : ""),
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
        return lines.joined(separator: "\n")
    }
}
