import AndonCore

extension ReplayHistory {
    /// The history rebuilt from andond's journal entries: each call's signals (`raised`, `promoted`, `joined`,
    /// `repeated`, `cleared`, `resumed`, a station's `arrived`) and each responder's answer (`acknowledged`,
    /// `arrived`, `resolved`, an `escalated` with `ANDON_BY`), at the instant andond handled it. A quiet controller
    /// (`silent`) is left out: its heartbeats are not in the journal.
    ///
    /// The calls are those raised from `since` up to `until`; their whole story counts, also after `until`. The
    /// history ends at `until` or at the last entry read, if that is earlier.
    public init(journal entries: [ReportEntry], since: Int64, until: Int64) {
        let last = entries.map(\.at).max() ?? since
        self.init(end: min(until, max(last, since)), source: Source(name: "journal"))
        var order = Array(entries.indices)
        order.sort { entries[$0].at != entries[$1].at ? entries[$0].at < entries[$1].at : $0 < $1 }
        // A call is a site's incident number; a number raised again (andond started afresh) is a new call.
        var generations: [String: Int] = [:]
        var opened: Set<String> = []
        for index in order {
            let entry = entries[index]
            let base = "\(entry.site ?? "")|\(entry.incident)"
            if entry.event == .raised { generations[base, default: 0] += 1 }
            let key = "\(base)#\(generations[base] ?? 0)"
            if entry.event == .raised, calls[key] == nil {
                guard since <= entry.at, entry.at < until, entry.kind != .silent else { continue }
                calls[key] = Call(
                    incident: entry.incident,
                    line: entry.line,
                    station: entry.station,
                    category: entry.kind == .stop ? "line-stop" : entry.category,
                    raisedAt: entry.at,
                    drill: entry.drill
                )
            }
            guard calls[key] != nil else { continue }
            if entry.event.notifies, entry.lineStop == nil || entry.event != .promoted {
                calls[key]?.path.reach(entry.tier, kpo: entry.atKPO, at: entry.at)
                calls[key]?.path.notify(entry.responders)
            }
            if entry.event == .escalated || entry.event == .overdue { calls[key]?.path.escalations += 1 }
            if entry.event == .unanswered { calls[key]?.path.unanswered += 1 }
            if let signal = Self.signal(for: entry, first: !opened.contains(key)) {
                opened.insert(key)
                steps.append(Step(at: entry.at, call: key, input: .signal(signal, drill: entry.drill)))
            } else if let answer = Self.answer(for: entry) {
                steps.append(Step(at: entry.at, call: key, input: .answer(answer, by: entry.by, note: entry.note)))
            }
        }
    }

    private static func answer(for entry: ReportEntry) -> Answer? {
        switch entry.event {
        case .acknowledged: .acknowledge
        case .arrived where entry.by?.hasPrefix("station ") == false: .arrive
        case .resolved: .resolve
        case .escalated where entry.by != nil: .escalate
        default: nil
        }
    }

    /// The controller signal behind a step, if it was one.
    private static func signal(for entry: ReportEntry, first: Bool) -> Signal? {
        let line = LineID(rawValue: entry.line)
        let station = entry.station.map(StationID.init(rawValue:))
        switch entry.event {
        case .raised, .repeated:
            if entry.kind == .stop {
                return first || entry.event == .repeated
                    ? .stop(line: line, station: station, reason: entry.reason) : nil
            }
            guard let station, let category = entry.category.flatMap(Category.init(rawValue:)) else { return nil }
            return .andon(line: line, station: station, category: category, text: entry.reason)
        case .promoted where entry.kind == .stop && entry.lineStop == nil:
            return .stop(line: line, station: station, reason: entry.reason)
        case .joined:
            return .stop(line: line, station: entry.stations.last.map(StationID.init(rawValue:)), reason: entry.reason)
        case .cleared:
            guard let station else { return nil }
            return .clear(line: line, station: station, category: entry.category.flatMap(Category.init(rawValue:)))
        case .resumed:
            return .resume(line: line)
        case .arrived where entry.by?.hasPrefix("station ") == true:
            guard let station else { return nil }
            return .arrived(line: line, station: station, responder: nil)
        default:
            return nil
        }
    }
}
