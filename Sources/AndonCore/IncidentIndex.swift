import HashTreeCollections

/// The indexes over the open incidents that must stay in step with them: the open call of each category at each
/// station, each line's open stop, every stop of a line, and each line's `silent` incident.
///
/// Every entry follows from the incident itself (`insert`), so the index can be rebuilt from the incidents alone,
/// which is what a restored snapshot does.
struct IncidentIndex: Sendable {
    struct StationKey: Hashable, Sendable {
        var line: LineID
        var station: StationID
        var category: Category?
    }

    // Persistent maps where they can grow with the incidents (see `EscalationEngine.incidents`).
    private(set) var openAtStation: TreeDictionary<StationKey, IncidentID> = [:]
    private(set) var lineStops: [LineID: IncidentID] = [:]
    private(set) var stopsByLine: [LineID: TreeSet<IncidentID>] = [:]
    private(set) var silentLines: [LineID: IncidentID] = [:]

    init() {}

    init(rebuildingFrom incidents: some Sequence<Incident>) {
        for incident in incidents { insert(incident) }
    }

    /// The open call of `category` at a station (a promoted one is a line stop now).
    func atStation(_ line: LineID, _ station: StationID, _ category: Category) -> IncidentID? {
        openAtStation[StationKey(line: line, station: station, category: category)]
    }

    /// Every open call at a station, one per category at most (and one of no category, from older builds), oldest
    /// first.
    func calls(at line: LineID, _ station: StationID) -> [IncidentID] {
        var ids: [IncidentID] = []
        for category in [nil] + Category.allCases.map(Optional.some) {
            if let id = openAtStation[StationKey(line: line, station: station, category: category)] { ids.append(id) }
        }
        return ids.sorted()
    }

    /// The line's open stop (the oldest, should state from older builds hold several).
    func lineStop(of line: LineID) -> IncidentID? { lineStops[line] }
    func stops(of line: LineID) -> TreeSet<IncidentID> { stopsByLine[line] ?? [] }
    func silent(of line: LineID) -> IncidentID? { silentLines[line] }

    /// Files an incident under every index its kind, line and station put it in (again after a promotion).
    mutating func insert(_ incident: Incident) {
        switch incident.kind {
        case .andon:
            if let station = incident.station {
                openAtStation[StationKey(line: incident.line, station: station, category: incident.category)] =
                    incident.id
            }
        case .stop:
            // A promoted andon still takes its category's andons at its station (they repeat it).
            if let station = incident.station, incident.category != nil {
                openAtStation[StationKey(line: incident.line, station: station, category: incident.category)] =
                    incident.id
            }
            if lineStops[incident.line].map({ incident.id < $0 }) ?? true { lineStops[incident.line] = incident.id }
            stopsByLine[incident.line, default: []].insert(incident.id)
        case .silent:
            silentLines[incident.line] = incident.id
        }
    }

    /// Removes a closed incident from every index that names it.
    mutating func remove(_ incident: Incident) {
        let id = incident.id
        if let station = incident.station {
            let key = StationKey(line: incident.line, station: station, category: incident.category)
            if openAtStation[key] == id { openAtStation[key] = nil }
        }
        stopsByLine[incident.line]?.remove(id)
        if stopsByLine[incident.line]?.isEmpty == true { stopsByLine[incident.line] = nil }
        if lineStops[incident.line] == id { lineStops[incident.line] = stopsByLine[incident.line]?.min() }
        if silentLines[incident.line] == id { silentLines[incident.line] = nil }
    }
}
