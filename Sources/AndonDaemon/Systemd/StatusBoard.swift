import AndonCore
import Synchronization

/// The one line andond shows in `systemctl status` (`STATUS=`), from a copy of the engine and the notes the other
/// stages leave: a state moved aside at start, a KPO gap ahead, a state that cannot be written.
package final class StatusBoard: Sendable {
    private struct Notes: Sendable {
        var published: String?
        /// What the status line says about the state directory (a database moved aside at start).
        var state: String?
        /// What the last coverage check found: a KPO gap ahead, or nil.
        var coverage: String?
    }

    private let notes = Mutex(Notes())
    let escalation: EscalationService
    let committer: Committer
    let clock: any AndonClock
    /// Calls open when andond started, carried over from the state directory.
    let restored: Int
    /// Yields when what `line()` shows may have changed; pokes collapse into one while nobody reads them.
    let changes: AsyncStream<Void>
    private let changed: AsyncStream<Void>.Continuation

    init(escalation: EscalationService, committer: Committer, clock: any AndonClock, restored: Int, stateNote: String?)
    {
        self.escalation = escalation
        self.committer = committer
        self.clock = clock
        self.restored = restored
        notes.withLock { $0.state = stateNote }
        (changes, changed) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Makes the status refresher look again.
    func poke() { changed.yield() }

    /// Records what the coverage check found; true when that changed what the line says.
    func setCoverage(_ note: String?) -> Bool {
        notes.withLock { notes in
            defer { notes.coverage = note }
            return notes.coverage != note
        }
    }

    /// The line, and whether it differs from the one last published (which it now becomes).
    func publish() -> (line: String, changed: Bool) {
        let line = line()
        return notes.withLock { notes in
            defer { notes.published = line }
            return (line, line != notes.published)
        }
    }

    /// Open calls (and how many were restored at start), line stops and their age, who is KPO now, and a state that
    /// cannot be written. Counted on a copy of the engine, outside its lock.
    package func line() -> String {
        let engine = escalation.engine
        let (stateNote, coverageNote) = notes.withLock { ($0.state, $0.coverage) }
        let now = clock.now
        let summary = engine.openSummary
        var parts = ["\(summary.open) open call\(summary.open == 1 ? "" : "s")"]
        if restored > 0 { parts[0] += " (\(restored) restored at start)" }
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

    /// How long `line()` stays true if no event happens: while a line stop is open its age ticks (2 s); otherwise
    /// until the KPO duty or the shift may change next (the KPO rota's change points include every shift boundary),
    /// looked up to an hour ahead.
    func validity() -> Duration {
        let engine = escalation.engine
        if engine.openSummary.oldestStop != nil { return .seconds(2) }
        let now = clock.now
        let plant = engine.plant
        let next = plant.rotas[.kpo]?.changePoints(from: now, to: now + .seconds(3600), calendar: plant.calendar)
            .first { $0 > now }
        return next.map { $0.duration(since: now) } ?? .seconds(3600)
    }
}
