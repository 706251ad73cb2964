import AndonCore
import AndonProtocol

/// `andonctl board`: the plant at a glance, as terminal rows. One row per line with its stations (green: no call,
/// yellow: an andon, red: the line stopped there), then the line's open calls: age, tier, who is on the way.
public struct BoardRenderer: Sendable {
    public var width: Int
    public var height: Int
    public var color: Bool

    public init(width: Int, height: Int, color: Bool = true) {
        self.width = max(40, width)
        self.height = max(8, height)
        self.color = color
    }

    /// What the board shows besides andond's status.
    public struct Extras: Sendable, Hashable {
        /// Today's line-stop minutes per line (from the journal); nil when the journal cannot be read.
        public var stopMinutes: [String: Double]?
        /// Why something is missing, for the last row.
        public var note: String?

        public init(stopMinutes: [String: Double]? = nil, note: String? = nil) {
            self.stopMinutes = stopMinutes
            self.note = note
        }
    }

    private enum Paint {
        case green, yellow, red, bold, dim, inverse
        var code: String {
            switch self {
            case .green: "\u{1b}[30;42m"
            case .yellow: "\u{1b}[30;43m"
            case .red: "\u{1b}[97;41;1m"
            case .bold: "\u{1b}[1m"
            case .dim: "\u{1b}[2m"
            case .inverse: "\u{1b}[7m"
            }
        }
    }

    /// One cell of text, painted or not, and its width on screen.
    private struct Piece {
        var text: String
        var paint: Paint?
    }

    /// The board's rows, at most `height`, each at most `width` characters wide on screen.
    public func render(_ status: StatusReport, extras: Extras, zone: SiteTimeZone) -> [String] {
        let now = Instant(millisecondsSinceEpoch: status.now)
        var rows: [[Piece]] = []
        let clock = Self.clock(now, zone)
        var title = "ANDON  \(status.site)"
        if let shift = status.plant?.shift {
            title += "  shift \(shift)"
            if let start = status.plant?.shiftStart {
                title += " since \(zone.local(Instant(millisecondsSinceEpoch: start)).time)"
            }
        }
        let kpo = status.plant.map { $0.kpo.isEmpty ? "NOBODY" : $0.kpo.joined(separator: ", ") } ?? "?"
        rows.append([Piece(text: title, paint: .bold)])
        rows.append([
            Piece(text: clock + "  \(status.total ?? status.incidents.count) open  ", paint: .dim),
            Piece(text: "KPO on duty: \(kpo)", paint: kpo == "NOBODY" ? .red : .bold),
        ])

        // Lines from the plant view, and any line that has calls but is not in it (an older andond).
        var lines = status.plant?.lines ?? []
        for line in Set(status.incidents.map(\.line)) where !lines.contains(where: { $0.id == line }) {
            lines.append(PlantView.Line(id: line, description: nil, stations: []))
        }
        lines.sort { $0.id < $1.id }
        let byLine = Dictionary(grouping: status.incidents, by: \.line)
        let lineWidth = max(4, lines.map(\.id.count).max() ?? 4)
        var lineRows: [(hasCalls: Bool, pieces: [Piece])] = []
        for line in lines {
            let calls = byLine[line.id] ?? []
            var stations = line.stations
            for call in calls.sorted(by: { $0.raisedAt < $1.raisedAt }) {
                for station in [call.station].compactMap({ $0 }) + (call.stations ?? [])
                where !stations.contains(station) {
                    stations.append(station)
                }
            }
            let stopped = calls.first { $0.kind == "stop" && $0.lineStop == nil }
            var row = [Piece(text: line.id.padding(lineWidth), paint: stopped == nil ? .bold : .red)]
            for station in stations {
                let atStation = calls.filter { $0.station == station || ($0.stations ?? []).contains(station) }
                let paint: Paint =
                    atStation.contains { $0.kind == "stop" } || (stopped?.stations ?? []).contains(station)
                    ? .red : atStation.contains { Self.rank($0) <= 1 } ? .red : atStation.isEmpty ? .green : .yellow
                row.append(Piece(text: " ", paint: nil))
                row.append(Piece(text: " \(station) ", paint: paint))
            }
            if stations.isEmpty { row.append(Piece(text: calls.isEmpty ? "  running" : "", paint: .dim)) }
            if let stopped {
                let age = now.duration(since: Instant(millisecondsSinceEpoch: stopped.raisedAt)).roundedDescription
                row.append(Piece(text: "  LINE STOP \(age)", paint: .red))
            }
            if let minutes = extras.stopMinutes?[line.id], minutes > 0 {
                row.append(Piece(text: "  stopped today \(Int(minutes.rounded())) min", paint: nil))
            }
            for shelf in status.plant?.shelves ?? [] where shelf.line == line.id {
                let what = [shelf.station, shelf.category].compactMap { $0 }.joined(separator: " ")
                let until =
                    shelf.until.map { "until " + zone.local(Instant(millisecondsSinceEpoch: $0)).time.description }
                    ?? "until clear"
                row.append(Piece(text: "  SHELVED \(what.isEmpty ? "all" : what) \(until)", paint: .dim))
            }
            for entry in status.plant?.outOfService ?? [] where entry.line == line.id {
                row.append(Piece(text: "  OUT OF SERVICE \(entry.station)", paint: .dim))
            }
            lineRows.append((!calls.isEmpty, row))
        }

        // The calls, most urgent first: line stops, safety, unanswered at KPO, the rest; each group oldest first.
        // The severe ones keep their rows even when the lines do not all fit; the rest fill what is left, and the
        // last row counts what did not fit, by kind.
        let calls = status.incidents.sorted {
            (Self.rank($0), $0.raisedAt, $0.id) < (Self.rank($1), $1.raisedAt, $1.id)
        }
        let room = max(0, height - rows.count - 1)
        let severe = calls.prefix { Self.rank($0) <= 2 }.count
        let callRoom = min(calls.count, max(min(severe, room), room - lineRows.count))
        let lineRoom = min(lineRows.count, room - callRoom)
        // Lines with calls first when not every line fits; shown in their own order.
        let shownLines = lineRows.indices.sorted {
            (lineRows[$0].hasCalls ? 0 : 1, $0) < (lineRows[$1].hasCalls ? 0 : 1, $1)
        }
        .prefix(lineRoom).sorted()
        for index in shownLines { rows.append(lineRows[index].pieces) }
        for call in calls.prefix(callRoom) { rows.append(Self.callRow(call, now: now, indent: 0)) }
        let hidden = calls.dropFirst(callRoom)
        let hiddenLines = lineRows.count - shownLines.count
        var footer: [String] = []
        if !hidden.isEmpty {
            var kinds: [(kind: String, count: Int)] = []
            for call in hidden {
                let kind = Self.kindName(call)
                if let index = kinds.firstIndex(where: { $0.kind == kind }) {
                    kinds[index].count += 1
                } else {
                    kinds.append((kind, 1))
                }
            }
            footer.append(
                "\(hidden.count) more call\(hidden.count == 1 ? "" : "s") ("
                    + kinds.map { "\($0.count) \($0.kind)" }.joined(separator: ", ") + "): andonctl status"
            )
        }
        if hiddenLines > 0 { footer.append("\(hiddenLines) more line\(hiddenLines == 1 ? "" : "s")") }
        if let note = extras.note { footer.append(note) }
        footer.append("q quits")
        rows.append([Piece(text: footer.joined(separator: "  ·  "), paint: .dim)])
        return rows.prefix(height).map(line)
    }

    /// How urgent a call is on the board: 0 a line stop, 1 safety, 2 unanswered at KPO, 3 the rest.
    static func rank(_ call: IncidentReport) -> Int {
        if call.kind == "stop" { return 0 }
        if call.category == "safety" { return 1 }
        if call.tier == "kpo", call.acknowledgedBy == nil { return 2 }
        return 3
    }

    /// `line stop`, `safety`, `help`, `silent`: what the overflow row counts.
    static func kindName(_ call: IncidentReport) -> String {
        call.kind == "stop" ? "line stop" : call.category ?? call.kind
    }

    private static func callRow(_ call: IncidentReport, now: Instant, indent: Int) -> [Piece] {
        let age = now.duration(since: Instant(millisecondsSinceEpoch: call.raisedAt)).roundedDescription
        let what = kindName(call)
        let place = call.line + "/" + (call.stations?.joined(separator: ",") ?? call.station ?? "-")
        var who: String
        if let by = call.arrivedBy {
            who = "at the station: \(by)"
        } else if call.shelf != nil, call.acknowledgedBy == nil {
            who = "SHELVED: calling nobody"
        } else if let by = call.acknowledgedBy {
            who = "on the way: \(by)"
        } else {
            let owners = call.owners ?? call.responders
            who = "calling " + (owners.isEmpty ? "nobody" : owners.joined(separator: ","))
        }
        var pieces = [
            Piece(text: String(repeating: " ", count: indent + 1), paint: nil),
            Piece(text: "#\(call.id) ", paint: .bold),
            Piece(text: "\(what) \(place) ", paint: rank(call) <= 1 ? .red : .yellow),
            Piece(text: " \(age)  \(call.tierNumber)/\(call.tiers) \(call.tier)  \(who)", paint: nil),
        ]
        if call.lineStop != nil { pieces.append(Piece(text: "  (in the line stop)", paint: .dim)) }
        if call.notifyFailed == true { pieces.append(Piece(text: "  NOTIFY FAILED", paint: .red)) }
        if call.drill == true { pieces.insert(Piece(text: "DRILL ", paint: .inverse), at: 1) }
        return pieces
    }

    /// Joins pieces into one row, cut at `width` on screen; paint codes take no room.
    private func line(_ pieces: [Piece]) -> String {
        var out = ""
        var used = 0
        for piece in pieces where used < width {
            let text = String(piece.text.escapingControlCharacters.prefix(width - used))
            used += text.count
            if color, let paint = piece.paint {
                out += paint.code + text + "\u{1b}[0m"
            } else {
                out += text
            }
        }
        return out
    }

    static func clock(_ now: Instant, _ zone: SiteTimeZone) -> String {
        let local = zone.local(now)
        let second = Int((now.millisecondsSinceEpoch / 1000) % 60)
        return "\(local):\(second < 10 ? "0" : "")\(second)"
    }
}

extension String {
    fileprivate func padding(_ width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}
