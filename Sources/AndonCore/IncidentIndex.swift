import HashTreeCollections

/// The indexes over the open incidents that must stay in step with them: the open call at each station, each line's
/// line-wide stop, every stop of a line, and each line's `silent` incident.
///
/// Every entry follows from the incident itself (`insert`), so the index can be rebuilt from the incidents alone,
/// which is what a restored snapshot does.
struct IncidentIndex: Sendable {
    struct StationKey: Hashable, Sendable {
        var line: LineID
        var station: StationID
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

    func atStation(_ line: LineID, _ station: StationID) -> IncidentID? {
        openAtStation[StationKey(line: line, station: station)]
    }

    func lineStop(of line: LineID) -> IncidentID? { lineStops[line] }
    func stops(of line: LineID) -> TreeSet<IncidentID> { stopsByLine[line] ?? [] }
    func silent(of line: LineID) -> IncidentID? { silentLines[line] }

    /// Files an incident under every index its kind, line and station put it in (again after a promotion).
    mutating func insert(_ incident: Incident) {
        switch incident.kind {
        case .andon:
            if let station = incident.station {
                openAtStation[StationKey(line: incident.line, station: station)] = incident.id
            }
        case .stop:
            if let station = incident.station {
                openAtStation[StationKey(line: incident.line, station: station)] = incident.id
            } else {
                lineStops[incident.line] = incident.id
            }
            stopsByLine[incident.line, default: []].insert(incident.id)
        case .silent:
            silentLines[incident.line] = incident.id
        }
    }

    /// Removes a closed incident from every index that names it.
    mutating func remove(_ incident: Incident) {
        let id = incident.id
        if let station = incident.station {
            let key = StationKey(line: incident.line, station: station)
            if openAtStation[key] == id { openAtStation[key] = nil }
        }
        if lineStops[incident.line] == id { lineStops[incident.line] = nil }
        stopsByLine[incident.line]?.remove(id)
        if stopsByLine[incident.line]?.isEmpty == true { stopsByLine[incident.line] = nil }
        if silentLines[incident.line] == id { silentLines[incident.line] = nil }
    }
}
