import AndonCore
import AndonProtocol
import AndonSystemd
import Foundation
import Synchronization

extension Dispatcher {
    /// Open incidents (of `line`, at most `limit`, oldest first) and counters. The engine is copied under the lock
    /// (a value: O(1)) and rendered outside it, so a large answer never stalls ingest.
    public func status(line: LineID? = nil, limit: Int? = nil) -> StatusReport {
        let (engine, counters) = state.withLock { state in
            var counters = state.rejections.totals.reduce(into: [String: Int]()) { $0["rejected-\($1.key)"] = $1.value }
            counters["messages"] = state.handled
            counters["retransmits"] = state.retransmits
            counters["restored"] = state.restoredCount
            return (state.engine, counters)
        }
        let now = clock.now
        let plant = engine.plant
        var all = counters
        let journal = journal.statistics
        all["journal-written"] = journal.written
        all["journal-dropped"] = journal.dropped
        all["journal-failed"] = journal.failed
        all["journal-waiting"] = journal.waiting
        all["peer-errors"] = peerErrors.withLock { $0.totals.values.reduce(0, +) }
        let matching = engine.openIncidents.filter { line == nil || $0.line == line }
        let shown = limit.map { Array(matching.prefix($0)) } ?? matching
        let incidents = shown.map { incident in
            IncidentReport(incident: incident, plant: plant, now: now, tiers: plant.policy(incident.policy).tiers.count)
        }
        return StatusReport(
            site: plant.name,
            now: now.millisecondsSinceEpoch,
            incidents: incidents,
            counters: all,
            total: engine.openIncidentCount,
            omitted: matching.count - shown.count
        )
    }

    /// How long `statusLine()` stays true if no event happens: while a line stop is open its age ticks (2 s);
    /// otherwise until the KPO duty may change next, looked up to an hour ahead.
    public func statusValidity() -> Duration {
        state.withLock { state in
            if state.engine.openSummary.oldestStop != nil { return .seconds(2) }
            let now = clock.now
            let plant = state.engine.plant
            let next = plant.rotas[.kpo]?.changePoints(from: now, to: now + .seconds(3600), calendar: plant.calendar)
                .first { $0 > now }
            return next.map { $0.duration(since: now) } ?? .seconds(3600)
        }
    }

    /// Makes the status refresher look again (its timer, and the first line at start).
    func pokeStatus() { statusChanged.yield() }

    /// The status line for `STATUS=`, and whether it differs from the one last published (which it now becomes).
    public func publishStatus() -> (line: String, changed: Bool) {
        state.withLock { state in
            let line = statusLine(state)
            defer { state.publishedStatus = line }
            return (line, line != state.publishedStatus)
        }
    }

    public func statusLine() -> String {
        state.withLock { statusLine($0) }
    }

    /// One line for `systemctl status`: open calls (and how many were restored at start), line stops and their age,
    /// who is KPO now, and a state that cannot be written.
    func statusLine(_ state: State) -> String {
        let now = clock.now
        let summary = state.engine.openSummary
        var parts = ["\(summary.open) open call\(summary.open == 1 ? "" : "s")"]
        if state.restoredCount > 0 { parts[0] += " (\(state.restoredCount) restored at start)" }
        if let oldest = summary.oldestStop {
            let lines = summary.stoppedLines.map(\.rawValue).sorted().joined(separator: ",")
            parts.append("LINE STOP \(lines) for \(now.duration(since: oldest).roundedDescription)")
        }
        if summary.atKPO > 0 { parts.append("\(summary.atKPO) at KPO") }
        let plant = state.engine.plant
        let kpo = plant.duty(of: .kpo, at: now, shift: plant.calendar.occurrence(at: now)?.shift).responders
        parts.append(
            "KPO on duty: "
                + (kpo.isEmpty ? "NOBODY" : kpo.map { plant.displayName(of: $0) }.joined(separator: ", "))
        )
        if committer.failure != nil { parts.append("STATE NOT WRITABLE") }
        if let note = state.stateNote { parts.append(note) }
        return parts.joined(separator: "; ")
    }
}
