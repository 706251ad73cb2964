import AndonCore
import AndonProtocol

/// What a `status` answer shows: a copy of the engine (O(1): its incident maps are persistent) and the counters,
/// taken at one instant, rendered outside every lock incident by incident.
package struct StatusView: Sendable {
    var engine: EscalationEngine
    var counters: [String: Int]
    var now: Instant
    var ids: ArraySlice<IncidentID>
    var matching: Int
    /// Calls with a notification that failed for good.
    var notifyFailed: Set<IncidentID>

    /// The open incidents of `line` (all without one), at most `limit`, oldest first.
    init(
        engine: EscalationEngine,
        counters: [String: Int],
        now: Instant,
        line: LineID?,
        limit: Int?,
        notifyFailed: Set<IncidentID> = []
    ) {
        self.engine = engine
        self.notifyFailed = notifyFailed
        self.counters = counters
        self.now = now
        (ids, matching) = engine.openIncidentIDs(of: line, limit: limit)
    }

    func report(_ id: IncidentID) -> IncidentReport? {
        engine.incident(id).map { incident in
            var report = IncidentReport(
                incident: incident,
                plant: engine.plant,
                now: now,
                tiers: engine.plant.policy(incident.policy).tiers.count
            )
            if notifyFailed.contains(id) { report.notifyFailed = true }
            return report
        }
    }

    /// The whole answer's JSON in one string (the UNIX socket writes it in pieces instead, `StatusStream`).
    package var json: String {
        StatusReport.json(
            site: engine.plant.name,
            now: now.millisecondsSinceEpoch,
            counters: counters,
            total: engine.openIncidentCount,
            omitted: matching - ids.count,
            incidents: ids.lazy.compactMap { report($0) },
            expectedCount: ids.count,
            plant: Self.plantView(engine, at: now)
        )
    }

    /// Lines and stations, the running shift and KPO on duty, for a board.
    static func plantView(_ engine: EscalationEngine, at now: Instant) -> PlantView {
        let plant = engine.plant
        let shift = plant.calendar.occurrence(at: now)
        let kpo = plant.duty(of: .kpo, at: now, shift: shift?.shift).responders
        return PlantView(
            lines: plant.lines.values.sorted { $0.id.rawValue < $1.id.rawValue }.map { line in
                PlantView.Line(
                    id: line.id.rawValue,
                    description: line.description,
                    stations: (line.stations ?? []).map(\.rawValue).sorted()
                )
            },
            kpo: kpo.map { plant.displayName(of: $0) },
            shift: shift?.shift.rawValue,
            shiftStart: shift?.start.millisecondsSinceEpoch,
            timeZone: plant.timeZone.identifier,
            pageEveryone: plant.pageEveryone.map(\.rawValue).sorted(),
            shelves: engine.standingShelves.isEmpty
                ? nil : engine.standingShelves.map { PlantView.ShelfView(shelf: $0, plant: plant) },
            outOfService: engine.stationsOutOfService.isEmpty
                ? nil : engine.stationsOutOfService.map { PlantView.StationOutView($0, plant: plant) }
        )
    }
}
