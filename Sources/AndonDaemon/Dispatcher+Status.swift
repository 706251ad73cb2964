import AndonCore
import AndonProtocol
import AndonSystemd
import Foundation
import Synchronization

extension Dispatcher {
    /// The status reply's JSON: open incidents (of `line`, at most `limit`, oldest first) and counters. The engine
    /// is copied under the lock (O(1): its incident maps are persistent) and read outside it, incident by incident
    /// into one buffer, so a large answer never stalls ingest and builds no tree of values or array of reports.
    func statusJSON(line: LineID?, limit: Int?) -> String {
        let stream = statusStream(line: line, limit: limit)
        return StatusReport.json(
            site: stream.view.engine.plant.name,
            now: stream.view.now.millisecondsSinceEpoch,
            counters: stream.view.counters,
            total: stream.view.engine.openIncidentCount,
            omitted: stream.view.matching - stream.view.ids.count,
            incidents: stream.view.ids.lazy.compactMap { stream.view.report($0) },
            expectedCount: stream.view.ids.count,
            plant: Self.plantView(stream.view.engine.plant, at: stream.view.now)
        )
    }

    /// The status reply, to be written in pieces: a copy of the engine taken now (O(1) under the lock), rendered
    /// outside it incident by incident, so that neither the engine nor the memory holds a whole answer at once.
    func statusStream(line: LineID?, limit: Int?) -> StatusStream {
        StatusStream(view: statusView(line: line, limit: limit))
    }

    /// Lines and stations, the running shift and KPO on duty, for a board.
    static func plantView(_ plant: Plant, at now: Instant) -> PlantView {
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
            timeZone: plant.timeZone.identifier
        )
    }

    struct StatusView {
        var engine: EscalationEngine
        var counters: [String: Int]
        var now: Instant
        var ids: ArraySlice<IncidentID>
        var matching: Int

        func report(_ id: IncidentID) -> IncidentReport? {
            engine.incident(id).map { incident in
                IncidentReport(
                    incident: incident,
                    plant: engine.plant,
                    now: now,
                    tiers: engine.plant.policy(incident.policy).tiers.count
                )
            }
        }
    }

    func statusView(line: LineID?, limit: Int?) -> StatusView {
        let (engine, counters) = state.withLock { state in
            var counters = state.rejections.totals.reduce(into: [String: Int]()) { $0["rejected-\($1.key)"] = $1.value }
            counters["messages"] = state.handled
            counters["retransmits"] = state.retransmits
            counters["restored"] = state.restoredCount
            counters["dropped-over-budget"] = state.droppedOverBudget
            return (state.engine, counters)
        }
        var all = counters
        let journal = journal.statistics
        all["journal-written"] = journal.written
        all["journal-dropped"] = journal.dropped
        all["journal-failed"] = journal.failed
        all["journal-waiting"] = journal.waiting
        all["journal-unkept"] = committer.unkeptEntries
        all["peer-errors"] = peerErrors.withLock { $0.totals.values.reduce(0, +) }
        let (ids, matching) = engine.openIncidentIDs(of: line, limit: limit)
        return StatusView(engine: engine, counters: all, now: clock.now, ids: ids, matching: matching)
    }

    /// How long `statusLine()` stays true if no event happens: while a line stop is open its age ticks (2 s);
    /// otherwise until the KPO duty or the shift may change next (the KPO rota's change points include every shift
    /// boundary), looked up to an hour ahead.
    public func statusValidity() -> Duration {
        // A copy of the engine is O(1) (its incident maps are persistent): the scans run outside the lock.
        let engine = state.withLock { $0.engine }
        if engine.openSummary.oldestStop != nil { return .seconds(2) }
        let now = clock.now
        let plant = engine.plant
        let next = plant.rotas[.kpo]?.changePoints(from: now, to: now + .seconds(3600), calendar: plant.calendar)
            .first { $0 > now }
        return next.map { $0.duration(since: now) } ?? .seconds(3600)
    }

    /// Makes the status refresher look again (its timer, and the first line at start).
    func pokeStatus() { statusChanged.yield() }

    /// The status line for `STATUS=`, and whether it differs from the one last published (which it now becomes).
    public func publishStatus() -> (line: String, changed: Bool) {
        let line = statusLine()
        return state.withLock { state in
            defer { state.publishedStatus = line }
            return (line, line != state.publishedStatus)
        }
    }

    /// One line for `systemctl status`: open calls (and how many were restored at start), line stops and their age,
    /// who is KPO now, and a state that cannot be written. Counted on a copy of the engine, outside the lock.
    public func statusLine() -> String {
        let (engine, restoredCount, stateNote, coverageNote) = state.withLock {
            ($0.engine, $0.restoredCount, $0.stateNote, $0.coverageNote)
        }
        let now = clock.now
        let summary = engine.openSummary
        var parts = ["\(summary.open) open call\(summary.open == 1 ? "" : "s")"]
        if restoredCount > 0 { parts[0] += " (\(restoredCount) restored at start)" }
        if let oldest = summary.oldestStop {
            let lines = summary.stoppedLines.map(\.rawValue).sorted().joined(separator: ",")
            parts.append("LINE STOP \(lines) for \(now.duration(since: oldest).roundedDescription)")
        }
        if summary.atKPO > 0 { parts.append("\(summary.atKPO) at KPO") }
        let plant = engine.plant
        let kpo = plant.duty(of: .kpo, at: now, shift: plant.calendar.occurrence(at: now)?.shift).responders
        parts.append(
            "KPO on duty: "
                + (kpo.isEmpty ? "NOBODY" : kpo.map { plant.displayName(of: $0) }.joined(separator: ", "))
        )
        if let shift = plant.calendar.occurrence(at: now) {
            parts.append("shift \(shift.shift) since \(plant.timeZone.local(shift.start).time)")
        }
        if committer.failure != nil { parts.append("STATE NOT WRITABLE") }
        if let note = coverageNote { parts.append(note) }
        if let note = stateNote { parts.append(note) }
        return parts.joined(separator: "; ")
    }
}
