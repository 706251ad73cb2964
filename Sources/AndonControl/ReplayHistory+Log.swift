import AndonConfig
import AndonCore
import AndonStore
import Foundation

extension ReplayHistory {
    /// The history from andond's durable input log: the inputs andond took, exactly as it took them.
    ///
    /// The engine starts from the latest snapshot taken at or before `since` (andond keeps one a day for as long
    /// as it keeps inputs) and runs the recorded inputs through the configurations recorded with them, up to
    /// `since` without looking and then to `until`, so the recorded paths are the ones andond's engine took and the
    /// incident numbers are andond's. The calls are those it opened from `since` up to `until`; each signal and
    /// each answer that touched one is a step (a signal or answer the engine refused then had no effect, and is
    /// not one). The history ends at `until`, or when andond was last known alive if that is earlier.
    ///
    /// - Throws: `StoreError` when the log cannot be read, `InputLogError` when its starting snapshot cannot.
    public init(log: InputLog, since: Int64, until: Int64) throws {
        let start = try log.start(atOrBefore: since)
        let known = max(start.aliveAt ?? 0, start.lastInputAt ?? 0)
        self.init(
            end: min(until, max(since, known)),
            source: Source(name: "log", log: log.path, knownFrom: start.knownFrom)
        )
        var replay = try EngineReplay(snapshot: start.snapshot, firstIncidentNumber: log.firstIncidentNumber)
        try log.forEachInput(after: start.afterInput, before: until) { stored in
            // Who answered, as the plant of that moment names them.
            let before = replay.engine?.plant
            guard let (input, outcome) = replay.apply(stored) else {
                skippedInputs += 1
                return
            }
            guard stored.at >= since, let plant = replay.engine?.plant else { return }
            take(input, outcome, at: stored.at, plant: before ?? plant)
            for event in outcome.events {
                calls["\(event.incident)"]?.path.record(event) { plant.user(of: $0) }
            }
        }
    }

    /// Adds the calls `input` opened and the step it was, for the calls of the window.
    private mutating func take(_ input: EngineInput, _ outcome: EngineInput.Outcome, at: Int64, plant: Plant) {
        switch (input, outcome) {
        case (.signal(let signal, _, let drill, _, _), .signal(let result)):
            guard case .success(let disposition) = result.result else { return }
            if case .opened(let id) = disposition {
                calls["\(id)"] = Call(incident: "\(id)", signal: signal, raisedAt: at, drill: drill)
            }
            // A signal may touch several calls (a clear, a resume): one step, for the first of the window's.
            guard let call = disposition.incidents.map({ "\($0)" }).first(where: { calls[$0] != nil }) else { return }
            steps.append(Step(at: at, call: call, input: .signal(signal, drill: drill)))
        case (.action(let action, let actor, _), .action(let result)):
            guard case .success = result.result else { return }
            guard let (answer, id, note) = Self.answer(action), calls["\(id)"] != nil else { return }
            let by: String? =
                switch actor {
                case .responder(let responder): plant.user(of: responder)
                case .administrator(let user): user
                case .station: nil
                }
            steps.append(Step(at: at, call: "\(id)", input: .answer(answer, by: by, note: note)))
        default:
            return
        }
    }

    /// A responder's answer to one call; nil for an action on shelves or stations (not a step of a call).
    private static func answer(_ action: EngineInput.Action) -> (Answer, IncidentID, String?)? {
        switch action {
        case .acknowledge(let id, let note): (.acknowledge, id, note)
        case .arrive(let id, let note): (.arrive, id, note)
        case .resolve(let id, let note): (.resolve, id, note)
        case .escalate(let id, let reason): (.escalate, id, reason)
        case .shelve, .unshelve, .outOfService, .inService: nil
        }
    }
}

extension ReplayHistory.Call {
    init(incident: String, signal: Signal, raisedAt: Int64, drill: Bool) {
        var station: String?
        var category: String?
        switch signal {
        case .andon(_, let at, let kind, _):
            station = at.rawValue
            category = kind.rawValue
        case .stop(_, let at, _):
            station = at?.rawValue
            category = "line-stop"
        default:
            break
        }
        self.init(
            incident: incident,
            line: signal.line.rawValue,
            station: station,
            category: category,
            raisedAt: raisedAt,
            drill: drill
        )
    }
}
