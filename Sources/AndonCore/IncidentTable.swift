import HashTreeCollections

/// The open incidents by ID: a persistent map whose nodes hold a reference to each incident, not the incident.
///
/// A copy (a status request, a snapshot) costs O(1), and the next change copies only the path to what it changes.
/// An `Incident` is about 450 bytes: held in the tree's nodes, each node's spare slots and each path copy moved and
/// kept several of them, and 100,000 open calls took about 1.4 KB each (bench `incidents`). A node holds 8 bytes per
/// incident here; the incident itself lives once, in an immutable box that a change replaces.
struct IncidentTable: Sendable, ExpressibleByDictionaryLiteral {
    /// One incident, never changed in place: copies of the table share it.
    private final class Box: Sendable {
        let incident: Incident
        init(_ incident: Incident) { self.incident = incident }
    }

    private var boxes: TreeDictionary<IncidentID, Box>

    init() { boxes = [:] }

    init(dictionaryLiteral elements: (IncidentID, Incident)...) {
        boxes = TreeDictionary(uniqueKeysWithValues: elements.map { ($0.0, Box($0.1)) })
    }

    init(uniqueKeysWithValues elements: some Sequence<(IncidentID, Incident)>) {
        boxes = TreeDictionary(uniqueKeysWithValues: elements.lazy.map { ($0.0, Box($0.1)) })
    }

    subscript(id: IncidentID) -> Incident? {
        get { boxes[id]?.incident }
        set { boxes[id] = newValue.map(Box.init) }
    }

    var count: Int { boxes.count }
    var isEmpty: Bool { boxes.isEmpty }
    var keys: some Collection<IncidentID> { boxes.keys }
    /// The incidents, in no particular order.
    var values: some Collection<Incident> { boxes.values.lazy.map(\.incident) }

    /// The metrics' gauges in one pass. Each field is read through its box (`box.incident.line`), never by binding
    /// the incident: a binding copies all 450 bytes with their references, which took most of a scrape's time at
    /// 100,000 open calls.
    func openMetrics() -> OpenMetrics {
        var metrics = OpenMetrics()
        for box in boxes.values {
            let category: String =
                switch box.incident.kind {
                case .andon: box.incident.category?.rawValue ?? IncidentKind.andon.rawValue
                case .stop, .silent: box.incident.kind.rawValue
                }
            let key = OpenMetrics.Key(line: box.incident.line.rawValue, category: category, tier: box.incident.tierName)
            metrics.open[key, default: 0] += 1
            if box.incident.rota == .kpo { metrics.atKPO += 1 }
            if box.incident.kind == .stop { metrics.stoppedLines.insert(box.incident.line) }
            if box.incident.acknowledgedBy == nil {
                let raised = box.incident.raisedAt
                metrics.oldestUnacknowledged = min(metrics.oldestUnacknowledged ?? raised, raised)
            }
        }
        return metrics
    }

    /// Sets the incident for `id`; returns the one it replaced.
    @discardableResult
    mutating func updateValue(_ incident: Incident, forKey id: IncidentID) -> Incident? {
        boxes.updateValue(Box(incident), forKey: id)?.incident
    }

    @discardableResult
    mutating func removeValue(forKey id: IncidentID) -> Incident? {
        boxes.removeValue(forKey: id)?.incident
    }
}
