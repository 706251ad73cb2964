import AndonCore

/// `andonctl replay`: the recorded inputs of a window run again through the escalation engine under another plant
/// (a new rota, new timeouts) on a virtual clock, and what would have differed.
///
/// The inputs come as a `ReplayHistory`, from andond's durable input log (`ReplayHistory(log:)`: exact, the inputs
/// andond took) or from the journal (`ReplayHistory(journal:)`: rebuilt from each call's steps). Either way people
/// are assumed to answer when they did: an answer by someone the new plant would not let act (not on duty for that
/// call) is given by whoever held the call then, and counted.
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
        /// Where the inputs came from: `log` (andond's input log) or `journal`.
        public var source: String
        /// The input log's path, when it was read.
        public var log: String?
        /// With the input log: from when it knows every input (later than `since` when it was pruned past it); nil
        /// when it still holds andond's first input, and so all there is.
        public var knownFrom: Int64?
        /// The replay ran to here: `until`, or the end of what the history knows if that is earlier.
        public var end: Int64
        /// Recorded inputs that could not be read back (their configuration no longer loads, say).
        public var skippedInputs: Int
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
        /// The incident's number, as andond gave it (a number in JSON, as in every other output).
        public var incident: UInt64
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

        /// An engine event of this call, with `user` naming a responder as the plant of the moment knows them.
        mutating func record(_ event: Event, user: (ResponderID) -> String) {
            if event.kind.notifies, event.lineStop == nil || event.kind != .promoted {
                reach(event.tier?.name, kpo: event.tier?.rota == .kpo, at: event.at.millisecondsSinceEpoch)
                notify(event.responders.map(user))
            }
            if event.kind == .escalated || event.kind == .overdue { escalations += 1 }
            if event.kind == .unanswered { unanswered += 1 }
        }
    }

    /// Replays a history rebuilt from journal entries (see `ReplayHistory(journal:since:until:)`).
    public func run(_ entries: [ReportEntry]) -> Result {
        run(ReplayHistory(journal: entries, since: since, until: until))
    }

    public func run(_ history: ReplayHistory) -> Result {
        let raised = history.calls.filter { includeDrills || !$0.value.drill }
        // The same inputs through the engine under the new plant, deadlines firing on the virtual clock.
        var engine = EscalationEngine(plant: plant, startingAt: Instant(millisecondsSinceEpoch: since))
        var mapped: [String: IncidentID] = [:]
        var replayedPaths: [String: Path] = [:]
        var byNewID: [IncidentID: String] = [:]
        var takenByOthers = 0
        var refused = 0
        func absorb(_ events: [Event]) {
            for event in events {
                guard let key = byNewID[event.incident] else { continue }
                replayedPaths[key, default: Path()].record(event) { plant.user(of: $0) }
            }
        }
        for step in history.steps where raised[step.call] != nil {
            let at = Instant(millisecondsSinceEpoch: step.at)
            absorb(engine.advance(to: at))
            switch step.input {
            case .signal(let signal, let drill):
                // The new incident for a call: the one its raising signal opened (or promoted).
                let origin = SignalOrigin(source: "replay", sequence: nil, drill: drill)
                let outcome = engine.receive(signal, at: at, origin: origin)
                switch outcome.result {
                case .success(let disposition):
                    if mapped[step.call] == nil, let id = disposition.incidents.first {
                        mapped[step.call] = id
                        byNewID[id] = step.call
                    }
                case .failure:
                    refused += 1
                }
                absorb(outcome.events)
            case .answer(let answer, let by, let note):
                guard let id = mapped[step.call] else { continue }
                // The author as the new plant knows them: a responder by Unix user, else an administrator (root).
                let author: Actor =
                    by.flatMap { plant.responder(forUser: $0) }.map { .responder($0.id) }
                    ?? .administrator(user: by ?? "replay")
                var outcome = perform(answer, on: id, by: author, in: &engine, at: at, note: note)
                if case .failure(let error) = outcome.result, error.code == .notAuthorized {
                    // Whoever held the call answers at the same instant.
                    takenByOthers += 1
                    outcome = perform(
                        answer,
                        on: id,
                        by: .administrator(user: "replay"),
                        in: &engine,
                        at: at,
                        note: note
                    )
                }
                absorb(outcome.events)
            }
        }
        // Up to the end of the window, or of what the history knows if that is earlier: after it nothing is known of
        // the calls (andond may have been stopped), and a replay that ran on would escalate what nobody could answer.
        absorb(engine.advance(to: Instant(millisecondsSinceEpoch: history.end)))

        var result = Result(
            since: since,
            until: until,
            source: history.source.name,
            log: history.source.log,
            knownFrom: history.source.knownFrom,
            end: history.end,
            skippedInputs: history.skippedInputs,
            calls: raised.count,
            recorded: Self.figures(raised.values.map(\.path)),
            replayed: Self.figures(raised.keys.map { replayedPaths[$0] ?? Path() }),
            actionsTakenByOthers: takenByOthers,
            refusedSignals: refused,
            differences: []
        )
        result.differences = raised.compactMap { key, call -> Difference? in
            let old = call.path
            let new = replayedPaths[key] ?? Path()
            guard old.tiers != new.tiers || Set(old.responders) != Set(new.responders) else { return nil }
            return Difference(
                incident: UInt64(call.incident) ?? 0,
                line: call.line,
                station: call.station,
                category: call.category,
                raisedAt: call.raisedAt,
                recordedTiers: old.tiers,
                replayedTiers: new.tiers,
                recordedResponders: old.responders,
                replayedResponders: new.responders
            )
        }
        .sorted { $0.raisedAt != $1.raisedAt ? $0.raisedAt < $1.raisedAt : $0.incident < $1.incident }
        return result
    }

    private func perform(
        _ action: ReplayHistory.Answer,
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
