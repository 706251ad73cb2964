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
    private(set) var stopsByLine: [LineID: TreeSet<IncidentID>] = [:]
    private(set) var silentLines: [LineID: IncidentID] = [:]
    /// Every open incident's ID in ascending order, and closed ones not yet dropped (`staleInOrder` of them): what a
    /// handover walks through in chunks without sorting all IDs each time.
    private(set) var order: [IncidentID] = []
    private var staleInOrder = 0

    init() {}

    init(rebuildingFrom incidents: some Sequence<Incident>) {
        for incident in incidents { insert(incident) }
        rebuildOrder(incidents.map(\.id))
    }

    /// Sets the order from the open IDs in any order (after a restore).
    mutating func rebuildOrder(_ ids: [IncidentID]) {
        order = ids.sorted()
        staleInOrder = 0
    }

    /// Notes that an incident closed; drops closed IDs from the order once they are half of it.
    mutating func closed(isOpen: (IncidentID) -> Bool) {
        staleInOrder += 1
        guard staleInOrder > order.count / 2 + 64 else { return }
        order.removeAll { !isOpen($0) }
        staleInOrder = 0
    }

    /// Up to `count` open IDs above `after` (from the lowest when nil), in ascending order.
    func ids(after: IncidentID?, count: Int, isOpen: (IncidentID) -> Bool) -> [IncidentID] {
        var low = 0
        if let after {
            var high = order.count
            while low < high {
                let middle = (low + high) / 2
                if order[middle] <= after { low = middle + 1 } else { high = middle }
            }
        }
        var found: [IncidentID] = []
        found.reserveCapacity(min(count, order.count - low))
        for id in order[low...] where isOpen(id) {
            found.append(id)
            if found.count == count { break }
        }
        return found
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
    func lineStop(of line: LineID) -> IncidentID? { stopsByLine[line]?.min() }
    func stops(of line: LineID) -> TreeSet<IncidentID> { stopsByLine[line] ?? [] }
    func silent(of line: LineID) -> IncidentID? { silentLines[line] }

    /// Files an incident under every index its kind, line and station put it in (again after a promotion).
    mutating func insert(_ incident: Incident) {
        // New incidents have ever higher IDs; a promoted one is filed again and is in the order already.
        if order.last.map({ incident.id > $0 }) ?? true { order.append(incident.id) }
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
        if silentLines[incident.line] == id { silentLines[incident.line] = nil }
    }
}
