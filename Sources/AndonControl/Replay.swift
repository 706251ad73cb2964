import AndonCore

/// `andonctl replay`: the recorded inputs of a window run again through the escalation engine under another plant
/// (a new rota, new timeouts) on a virtual clock, and what would have differed.
///
/// The inputs are rebuilt from the journal: each call's signals (`raised`, `promoted`, `joined`, `repeated`,
/// `cleared`, `resumed`) and each responder's action (`acknowledged`, `arrived`, `resolved`, an `escalated` with
/// `ANDON_BY`), at the instant andond handled it. People are assumed to answer when they did: an action by someone the
/// new plant would not let act (not on duty for that call) is taken by whoever held the call then, and counted. A
/// quiet controller (`silent`) is not replayed: its heartbeats are not in the journal.
public struct Replay: Sendable {
    public var plant: Plant
    public var since: Int64
    public var until: Int64
    public var includeDrills: Bool

    public init(plant: Plant, since: Int64, until: Int64, includeDrills: Bool = false) {
        self.plant = plant
        self.since = since
        self.until = until
        self.includeDrills = includeDrills
    }

    /// What replaying gave: the same figures for the recorded history and for the new plant, and the calls that
    /// differ.
    public struct Result: Sendable, Hashable, Codable {
        public var since: Int64
        public var until: Int64
        public var calls: Int
        public var recorded: Figures
        public var replayed: Figures
        /// Actions the new plant would not let their author take, taken by whoever held the call then.
        public var actionsTakenByOthers: Int
        /// Inputs the new plant refuses (a line or station it does not know, a category a line does not take).
        public var refusedSignals: Int
        public var differences: [Difference]
    }

    public struct Figures: Sendable, Hashable, Codable {
        public var reachedKPO = 0
        public var escalations = 0
        public var unansweredAtKPO = 0
        /// Calls that notified each Unix user.
        public var callsByResponder: [String: Int] = [:]
        /// KPO's load: calls that reached KPO, and the most in one hour.
        public var kpoCalls = 0
        public var kpoPeakHour = 0

        public init() {}
    }

    /// One call whose path differs: the tiers it reached and who was called, recorded and replayed.
    public struct Difference: Sendable, Hashable, Codable {
        public var incident: String
        public var line: String
        public var station: String?
        public var category: String?
        public var raisedAt: Int64
        public var recordedTiers: [String]
        public var replayedTiers: [String]
        public var recordedResponders: [String]
        public var replayedResponders: [String]
    }

    /// The path of one call: tiers in the order reached, people notified.
    struct Path: Sendable, Hashable {
        var tiers: [String] = []
        var responders: [String] = []
        var reachedKPO = false
        var escalations = 0
        var unanswered = 0
        var kpoAt: Int64?

        mutating func reach(_ tier: String?, kpo: Bool, at: Int64) {
            if let tier, tiers.last != tier { tiers.append(tier) }
            if kpo, !reachedKPO {
                reachedKPO = true
                kpoAt = at
            }
        }

        mutating func notify(_ users: [String]) {
            for user in users where !responders.contains(user) { responders.append(user) }
        }
    }

    private static let notifying: Set<String> = [
        "raised", "escalated", "overdue", "handed-over", "promoted", "unanswered", "reminder", "joined",
    ]

    public func run(_ entries: [ReportEntry]) -> Result {
        var order = Array(entries.indices)
        order.sort { entries[$0].at != entries[$1].at ? entries[$0].at < entries[$1].at : $0 < $1 }
        // A call is a site's incident number; a number raised again (andond started afresh) is a new call.
        var keys = [String](repeating: "", count: entries.count)
        var generations: [String: Int] = [:]
        for index in order {
            let base = "\(entries[index].site ?? "")|\(entries[index].incident)"
            if entries[index].event == "raised" { generations[base, default: 0] += 1 }
            keys[index] = "\(base)#\(generations[base] ?? 0)"
        }
        // The calls raised in the window, and their recorded paths.
        var recorded: [String: Path] = [:]
        var raised: [String: ReportEntry] = [:]
        var drills: Set<String> = []
        for index in order {
            let entry = entries[index]
            let key = keys[index]
            if entry.event == "raised" {
                if entry.drill { drills.insert(key) }
                guard since <= entry.at, entry.at < until, entry.kind != "silent" else { continue }
                raised[key] = entry
            }
            guard raised[key] != nil else { continue }
            var path = recorded[key] ?? Path()
            if Self.notifying.contains(entry.event), entry.lineStop == nil || entry.event != "promoted" {
                path.reach(entry.tier, kpo: entry.atKPO, at: entry.at)
                path.notify(entry.responders)
            }
            if entry.event == "escalated" || entry.event == "overdue" { path.escalations += 1 }
            if entry.event == "unanswered" { path.unanswered += 1 }
            recorded[key] = path
        }
        if !includeDrills { for key in drills { raised[key] = nil } }

        // The same inputs through the engine under the new plant, deadlines firing on the virtual clock.
        let start = Instant(millisecondsSinceEpoch: since)
        var engine = EscalationEngine(plant: plant, startingAt: start)
        var mapped: [String: IncidentID] = [:]
        var replayedPaths: [String: Path] = [:]
        var byNewID: [IncidentID: String] = [:]
        var takenByOthers = 0
        var refused = 0
        func absorb(_ events: [Event]) {
            for event in events {
                guard let key = byNewID[event.incident] else { continue }
                var path = replayedPaths[key] ?? Path()
                let kind = event.kind.rawValue
                if Self.notifying.contains(kind), event.lineStop == nil || event.kind != .promoted {
                    path.reach(
                        event.tier?.name,
                        kpo: event.tier?.rota == .kpo,
                        at: event.at.millisecondsSinceEpoch
                    )
                    path.notify(event.responders.map { plant.responders[$0]?.user ?? $0.rawValue })
                }
                if event.kind == .escalated || event.kind == .overdue { path.escalations += 1 }
                if event.kind == .unanswered { path.unanswered += 1 }
                replayedPaths[key] = path
            }
        }
        for index in order {
            let entry = entries[index]
            let key = keys[index]
            guard raised[key] != nil else { continue }
            let at = Instant(millisecondsSinceEpoch: entry.at)
            absorb(engine.advance(to: at))
            let origin = SignalOrigin(source: "replay", sequence: nil, drill: entry.drill)
            if let signal = Self.signal(for: entry, first: mapped[key] == nil) {
                // The new incident for a call: the one its raising signal opened (or promoted).
                let outcome = engine.receive(signal, at: at, origin: origin)
                switch outcome.result {
                case .success(let disposition):
                    if mapped[key] == nil, let id = disposition.incidents.first {
                        mapped[key] = id
                        byNewID[id] = key
                    }
                case .failure:
                    refused += 1
                }
                absorb(outcome.events)
                continue
            }
            guard let id = mapped[key], let action = Self.action(for: entry) else { continue }
            // The author as the new plant knows them: a responder by Unix user, else an administrator (root).
            let author: Actor =
                entry.by.flatMap { plant.responder(forUser: $0) }.map { .responder($0.id) }
                ?? .administrator(user: entry.by ?? "replay")
            var outcome = perform(action, on: id, by: author, in: &engine, at: at, note: entry.note)
            if case .failure(let error) = outcome.result, error.code == .notAuthorized {
                // Whoever held the call answers at the same instant.
                takenByOthers += 1
                outcome = perform(
                    action,
                    on: id,
                    by: .administrator(user: "replay"),
                    in: &engine,
                    at: at,
                    note: entry.note
                )
            }
            absorb(outcome.events)
        }
        // Up to the end of the window, or of the journal read if that is earlier: after it nothing is known of the
        // calls (andond may have been stopped), and a replay that ran on would escalate what the journal cannot.
        let last = order.last.map { entries[$0].at } ?? since
        absorb(engine.advance(to: Instant(millisecondsSinceEpoch: min(until, max(last, since)))))

        var result = Result(
            since: since,
            until: until,
            calls: raised.count,
            recorded: Self.figures(raised.keys.map { recorded[$0] ?? Path() }),
            replayed: Self.figures(raised.keys.map { replayedPaths[$0] ?? Path() }),
            actionsTakenByOthers: takenByOthers,
            refusedSignals: refused,
            differences: []
        )
        result.differences = raised.keys.compactMap { key -> Difference? in
            let old = recorded[key] ?? Path()
            let new = replayedPaths[key] ?? Path()
            guard old.tiers != new.tiers || Set(old.responders) != Set(new.responders), let first = raised[key] else {
                return nil
            }
            return Difference(
                incident: first.incident,
                line: first.line,
                station: first.station,
                category: first.kind == "stop" ? "line-stop" : first.category,
                raisedAt: first.at,
                recordedTiers: old.tiers,
                replayedTiers: new.tiers,
                recordedResponders: old.responders,
                replayedResponders: new.responders
            )
        }
        .sorted { $0.raisedAt != $1.raisedAt ? $0.raisedAt < $1.raisedAt : $0.incident < $1.incident }
        return result
    }

    private enum Action {
        case acknowledge, arrive, resolve, escalate
    }

    private func perform(
        _ action: Action,
        on id: IncidentID,
        by actor: Actor,
        in engine: inout EscalationEngine,
        at: Instant,
        note: String?
    ) -> ActionOutcome {
        switch action {
        case .acknowledge: engine.acknowledge(id, by: actor, note: note, at: at)
        case .arrive: engine.arrive(id, by: actor, note: note, at: at)
        case .resolve: engine.resolve(id, by: actor, note: note ?? "replayed", at: at)
        case .escalate: engine.escalate(id, by: actor, reason: note, at: at)
        }
    }

    private static func action(for entry: ReportEntry) -> Action? {
        switch entry.event {
        case "acknowledged": .acknowledge
        case "arrived" where entry.by?.hasPrefix("station ") == false: .arrive
        case "resolved": .resolve
        case "escalated" where entry.by != nil: .escalate
        default: nil
        }
    }

    /// The controller signal behind a step, if it was one.
    private static func signal(for entry: ReportEntry, first: Bool) -> Signal? {
        let line = LineID(rawValue: entry.line)
        let station = entry.station.map(StationID.init(rawValue:))
        switch entry.event {
        case "raised", "repeated":
            if entry.kind == "stop" {
                return first || entry.event == "repeated"
                    ? .stop(line: line, station: station, reason: entry.reason) : nil
            }
            guard let station, let category = entry.category.flatMap(Category.init(rawValue:)) else { return nil }
            return .andon(line: line, station: station, category: category, text: entry.reason)
        case "promoted" where entry.kind == "stop" && entry.lineStop == nil:
            return .stop(line: line, station: station, reason: entry.reason)
        case "joined":
            return .stop(line: line, station: entry.stations.last.map(StationID.init(rawValue:)), reason: entry.reason)
        case "cleared":
            guard let station else { return nil }
            return .clear(line: line, station: station, category: entry.category.flatMap(Category.init(rawValue:)))
        case "resumed":
            return .resume(line: line)
        case "arrived" where entry.by?.hasPrefix("station ") == true:
            guard let station else { return nil }
            return .arrived(line: line, station: station, responder: nil)
        default:
            return nil
        }
    }

    private static func figures(_ paths: [Path]) -> Figures {
        var figures = Figures()
        var kpoHours: [Int64: Int] = [:]
        for path in paths {
            if path.reachedKPO { figures.reachedKPO += 1 }
            figures.escalations += path.escalations
            figures.unansweredAtKPO += path.unanswered
            for user in path.responders { figures.callsByResponder[user, default: 0] += 1 }
            if let at = path.kpoAt { kpoHours[at / 3_600_000, default: 0] += 1 }
        }
        figures.kpoCalls = figures.reachedKPO
        figures.kpoPeakHour = kpoHours.values.max() ?? 0
        return figures
    }
}
