import AndonConfig
import AndonCore
import AndonProtocol
import Foundation

/// One input to the escalation engine, as the input log records it. The live daemon and a restore both go through
/// `apply`, so replaying the log gives exactly the state (and the events) the live daemon had.
public enum EngineInput: Sendable {
    /// A configuration swapped in: at the first start it creates the engine; later (a reload, a start with a changed
    /// file) it reconfigures it.
    case configuration(Configuration)
    /// A controller's signal; `message` is its canonical wire form (what a retransmit must match).
    case signal(Signal, sequence: UInt64?, drill: Bool, source: String, message: String)
    /// A responder's action.
    case action(Action, actor: Actor, message: String)
    /// The timer: fire the deadlines that are due.
    case tick

    public enum Action: Sendable {
        case acknowledge(IncidentID, note: String?)
        case resolve(IncidentID, note: String)
        case escalate(IncidentID, reason: String?)
        case arrive(IncidentID, note: String?)
        /// The plant's shelves and stations out of service (no one call: `performOnPlant`).
        case shelve(
            line: LineID,
            station: StationID?,
            category: AndonCore.Category?,
            duration: Duration?,
            reason: String
        )
        case unshelve(line: LineID, station: StationID?, category: AndonCore.Category?)
        case outOfService(line: LineID, station: StationID, reason: String)
        case inService(line: LineID, station: StationID)

        /// The action on a line's shelves or stations, rather than on one call.
        public var isPlantAction: Bool {
            switch self {
            case .acknowledge, .resolve, .escalate, .arrive: false
            case .shelve, .unshelve, .outOfService, .inService: true
            }
        }

        /// The action a request stands for; nil for any other request.
        public init?(_ request: Request) {
            switch request {
            case .acknowledge(let id, let note): self = .acknowledge(id, note: note)
            case .resolve(let id, let note): self = .resolve(id, note: note)
            case .escalate(let id, let reason): self = .escalate(id, reason: reason)
            case .arrive(let id, let note): self = .arrive(id, note: note)
            case .shelve(let line, let station, let category, let duration, let reason):
                self = .shelve(line: line, station: station, category: category, duration: duration, reason: reason)
            case .unshelve(let line, let station, let category):
                self = .unshelve(line: line, station: station, category: category)
            case .outOfService(let line, let station, let reason):
                self = .outOfService(line: line, station: station, reason: reason)
            case .inService(let line, let station): self = .inService(line: line, station: station)
            default: return nil
            }
        }
    }

    public enum Outcome {
        case signal(SignalOutcome)
        case action(ActionOutcome)
        case events([Event])

        public var events: [Event] {
            switch self {
            case .signal(let outcome): outcome.events
            case .action(let outcome): outcome.events
            case .events(let events): events
            }
        }
    }

    /// Applies the input at `instant`, mutating `engine` in place (never through a copy: that would copy every
    /// incident on every input).
    public func apply(to engine: inout EscalationEngine, at instant: Instant) -> Outcome {
        switch self {
        case .configuration(let configuration):
            return .events(engine.reconfigure(configuration.plant, at: instant))
        case .signal(let signal, let sequence, let drill, let source, _):
            return .signal(
                Self.receive(signal, sequence: sequence, drill: drill, source: source, in: &engine, at: instant)
            )
        case .action(let action, let actor, _) where action.isPlantAction:
            return .events(Self.performOnPlant(action, by: actor, in: &engine, at: instant).events)
        case .action(let action, let actor, _):
            return .action(Self.perform(action, by: actor, in: &engine, at: instant))
        case .tick:
            return .events(engine.advance(to: instant))
        }
    }

    /// A signal, as `apply` takes it: the live path calls this directly for the typed outcome.
    public static func receive(
        _ signal: Signal,
        sequence: UInt64?,
        drill: Bool,
        source: String,
        in engine: inout EscalationEngine,
        at instant: Instant
    ) -> SignalOutcome {
        engine.receive(signal, at: instant, origin: SignalOrigin(source: source, sequence: sequence, drill: drill))
    }

    /// A responder's action, as `apply` takes it.
    public static func perform(
        _ action: Action,
        by actor: Actor,
        in engine: inout EscalationEngine,
        at instant: Instant
    ) -> ActionOutcome {
        switch action {
        case .acknowledge(let id, let note): return engine.acknowledge(id, by: actor, note: note, at: instant)
        case .resolve(let id, let note): return engine.resolve(id, by: actor, note: note, at: instant)
        case .escalate(let id, let reason): return engine.escalate(id, by: actor, reason: reason, at: instant)
        case .arrive(let id, let note): return engine.arrive(id, by: actor, note: note, at: instant)
        case .shelve, .unshelve, .outOfService, .inService:
            let outcome = performOnPlant(action, by: actor, in: &engine, at: instant)
            return ActionOutcome(result: outcome.result.map { _ in nil }, events: outcome.events)
        }
    }

    /// An action on a line's shelves or stations, as `apply` takes it.
    public static func performOnPlant(
        _ action: Action,
        by actor: Actor,
        in engine: inout EscalationEngine,
        at instant: Instant
    ) -> (result: Result<EscalationEngine.ShelfOutcome, ActionError>, events: [Event]) {
        switch action {
        case .shelve(let line, let station, let category, let duration, let reason):
            return engine.shelve(
                line: line,
                station: station,
                category: category,
                for: duration,
                reason: reason,
                by: actor,
                at: instant
            )
        case .unshelve(let line, let station, let category):
            return engine.unshelve(line: line, station: station, category: category, by: actor, at: instant)
        case .outOfService(let line, let station, let reason):
            return engine.takeOutOfService(line: line, station: station, reason: reason, by: actor, at: instant)
        case .inService(let line, let station):
            return engine.putInService(line: line, station: station, by: actor, at: instant)
        case .acknowledge, .resolve, .escalate, .arrive:
            return (.success(EscalationEngine.ShelfOutcome()), [])
        }
    }

    public var isTick: Bool {
        if case .tick = self { return true }
        return false
    }

    /// Applies the input to an engine that may not exist yet: the log's first configuration creates it.
    public func apply(to engine: inout EscalationEngine?, at instant: Instant, firstIncidentNumber: UInt64) -> Outcome {
        if engine == nil {
            if case .configuration(let configuration) = self {
                engine = EscalationEngine(
                    plant: configuration.plant,
                    startingAt: instant,
                    firstIncidentNumber: firstIncidentNumber
                )
            }
            return .events([])
        }
        // In place through the optional (checked just above).
        return apply(to: &engine!, at: instant)
    }

    // MARK: The stored form

    /// The input as the log stores it.
    public func stored(sequence: Int64, at instant: Instant) -> StoredInput {
        let (kind, source, body): (StoredInput.Kind, String, String) =
            switch self {
            case .configuration(let configuration): (.configuration, configuration.file, configuration.text)
            case .signal(_, _, _, let source, let message): (.signal, source, message)
            case .action(_, let actor, let message): (.action, Self.encode(actor), message)
            case .tick: (.tick, "", "")
            }
        return StoredInput(
            sequence: sequence,
            at: instant.millisecondsSinceEpoch,
            kind: kind,
            source: source,
            body: body
        )
    }

    /// Reads a stored input back; nil (with the reason) when it cannot be understood.
    public static func decode(_ stored: StoredInput) -> Result<EngineInput, InputLogError> {
        let at = Instant(millisecondsSinceEpoch: stored.at)
        switch stored.kind {
        case .tick:
            return .success(.tick)
        case .configuration:
            do {
                return .success(
                    .configuration(
                        try ConfigurationLoader.parse(
                            stored.body,
                            file: stored.source,
                            now: at,
                            kpoGaps: .leaveToCaller
                        )
                    )
                )
            } catch {
                return .failure(
                    InputLogError(
                        sequence: stored.sequence,
                        reason: "the configuration recorded then no longer loads: "
                            + (error.errors.first?.description ?? "\(error)")
                    )
                )
            }
        case .signal:
            guard case .success(.signal(let signal, let sequence, let drill)) = Request.parse(Array(stored.body.utf8))
            else {
                return .failure(InputLogError(sequence: stored.sequence, reason: "not a signal: \(stored.body)"))
            }
            return .success(
                .signal(signal, sequence: sequence, drill: drill, source: stored.source, message: stored.body)
            )
        case .action:
            guard let actor = decodeActor(stored.source) else {
                return .failure(InputLogError(sequence: stored.sequence, reason: "unknown actor \(stored.source)"))
            }
            guard case .success(let request) = Request.parse(Array(stored.body.utf8)), let action = Action(request)
            else {
                return .failure(InputLogError(sequence: stored.sequence, reason: "not an action: \(stored.body)"))
            }
            return .success(.action(action, actor: actor, message: stored.body))
        }
    }

    public static func encode(_ actor: Actor) -> String {
        switch actor {
        case .responder(let id): "responder:\(id)"
        case .administrator(let user): "administrator:\(user)"
        case .station(let line, let station): "station:\(line)/\(station)"
        }
    }

    /// The actor `encode` wrote; nil for anything else. Line and station names never hold `/` (`SafeName`).
    public static func decodeActor(_ text: String) -> Actor? {
        guard let colon = text.firstIndex(of: ":") else { return nil }
        let value = text[text.index(after: colon)...]
        switch text[..<colon] {
        case "responder":
            guard !value.isEmpty else { return nil }
            return .responder(ResponderID(rawValue: String(value)))
        case "administrator":
            guard !value.isEmpty else { return nil }
            return .administrator(user: String(value))
        case "station":
            let parts = value.split(separator: "/", omittingEmptySubsequences: false)
            guard parts.count == 2, let line = LineID(validating: parts[0]),
                let station = StationID(validating: parts[1])
            else { return nil }
            return .station(line, station)
        default:
            return nil
        }
    }
}

/// An input log entry that cannot be replayed.
public struct InputLogError: Error, Sendable, CustomStringConvertible {
    public var sequence: Int64
    public var reason: String
    public var description: String { "input \(sequence): \(reason)" }

    public init(sequence: Int64, reason: String) {
        self.sequence = sequence
        self.reason = reason
    }
}

extension SequenceWindow {
    /// Remembers the reply to a signal with a `seq` that the engine took; a refusal had no effect and is not
    /// remembered. The live path and a restore both go through here, so they remember the same replies.
    public mutating func remember(_ reply: Reply, to input: EngineInput, at instant: Instant) {
        guard case .ok = reply, case .signal(let signal, let sequence?, _, _, let message) = input else { return }
        remember(
            line: signal.line,
            sequence: sequence,
            message: Self.retransmitted(message),
            reply: reply.rendered,
            at: instant
        )
    }

    /// What a retransmit repeats: the message as taken, less its signature (` ts=... sig=...`, which andond appends
    /// to the canonical message it logs). A controller that signs each send afresh resends the same message with a new
    /// `ts=`: once its signature checks, it is the same signal, and gets the first reply.
    public static func retransmitted(_ message: String) -> String {
        guard let range = message.range(of: " ts=", options: .backwards),
            message[range.upperBound...].contains(" sig=")
        else { return message }
        return String(message[..<range.lowerBound])
    }
}
