import AndonCore
import AndonProtocol

/// A shelf's start or end as `andonctl report` reads it (`shelve`, `unshelve`): ISA-18.2's shelved-alarm figures.
public struct ShelfEntry: Sendable, Hashable {
    public var kind: PlantNotice.Kind
    public var shelf: String
    public var line: String
    public var at: Int64
    /// A timed shelf's end (`shelve`).
    public var until: Int64?
    /// How long it stood (`unshelve`).
    public var lasted: Int64?
    public var site: String?
    public var eventID: String?

    public init(kind: PlantNotice.Kind, shelf: String, line: String, at: Int64) {
        self.kind = kind
        self.shelf = shelf
        self.line = line
        self.at = at
    }

    /// The entry in a journal entry's fields; nil for any other entry.
    public init?(fields: [String: [String]]) {
        guard let kind = fields.first(.event).flatMap(PlantNotice.Kind.init(rawValue:)),
            kind == .shelve || kind == .unshelve, let shelf = fields.first(.shelf), let line = fields.first(.line),
            let at = fields.first(.at).flatMap({ Int64($0) })
        else { return nil }
        self.init(kind: kind, shelf: shelf, line: line, at: at)
        until = fields.first(.until).flatMap { Int64($0) }
        lasted = fields.first(.lasted).flatMap { Int64($0) }
        site = fields.first(.site)
        eventID = fields.first(.eventID)
    }
}

extension Report {
    /// Per line: the shelves made in the window, and the minutes some shelf of the line stood within it.
    public struct Shelving: Sendable, Hashable, Codable {
        public var line: String
        public var shelves: Int
        public var shelvedMinutes: Double
    }

    /// The shelving figures of `entries` in `since..<until` (a shelf still standing counts until its end, or the
    /// window's); nil when nothing was shelved.
    static func shelving(_ entries: [ShelfEntry], since: Int64, until: Int64) -> [Shelving]? {
        struct Span {
            var line: String
            var start: Int64?
            var end: Int64?
            var plannedEnd: Int64?
        }
        var spans: [String: Span] = [:]
        for entry in entries {
            let key = (entry.site ?? "") + "/" + entry.shelf
            var span = spans[key] ?? Span(line: entry.line)
            switch entry.kind {
            case .shelve:
                span.start = entry.at
                span.plannedEnd = entry.until
            default:
                span.end = entry.at
                if span.start == nil, let lasted = entry.lasted { span.start = entry.at - lasted }
            }
            spans[key] = span
        }
        var byLine: [String: Shelving] = [:]
        for span in spans.values {
            guard let start = span.start else { continue }
            var figures = byLine[span.line] ?? Shelving(line: span.line, shelves: 0, shelvedMinutes: 0)
            if since <= start && start < until { figures.shelves += 1 }
            let end = min(span.end ?? span.plannedEnd ?? until, until)
            let overlap = end - max(start, since)
            if overlap > 0 { figures.shelvedMinutes += Double(overlap) / 60_000 }
            if figures.shelves > 0 || figures.shelvedMinutes > 0 { byLine[span.line] = figures }
        }
        guard !byLine.isEmpty else { return nil }
        return byLine.values.sorted { $0.line < $1.line }.map {
            var rounded = $0
            rounded.shelvedMinutes = ($0.shelvedMinutes * 10).rounded() / 10
            return rounded
        }
    }
}
