import AndonConfig
import AndonCore
import AndonProtocol
import AndonStore
import AndonTestSupport
import Testing

/// Every input andond takes is stored and read back as the same input: a restore and `andonctl replay` apply what
/// the live daemon applied. Generated inputs, seeded: a failure names its seed and the input.
@Suite struct EngineInputTests {
    typealias Generator = SeededGenerator  // shared: AndonTestSupport

    static let configurationText = """
        site: { name: Input plant, time_zone: Europe/Berlin }
        shifts: { a: { start: "06:00", end: "18:00" }, b: { start: "18:00", end: "06:00" } }
        responders: { tl: { user: tl }, k: { user: k } }
        rotas:
          team-leader: { by_shift: { a: [tl], b: [tl] } }
          kpo: { by_shift: { a: [k], b: [k] } }
        policies:
          andon: [ { tier: team-leader, ack_within: 5m }, { tier: kpo, ack_within: 10m } ]
          stop: [ { tier: team-leader, ack_within: 2m }, { tier: kpo, ack_within: 5m } ]
        lines: { L1: { description: one }, L-2.b: { description: two } }
        """

    static func name<N: AndonName>(_ random: inout Generator) -> N {
        let alphabet = Array("abcXYZ019._-")
        let first = Array("aZ7")[Int.random(in: 0..<3, using: &random)]
        let rest = (0..<Int.random(in: 0...6, using: &random)).map { _ in alphabet.randomElement(using: &random)! }
        return N(rawValue: String([first] + rest))
    }

    /// Free text as a sender may give it: spaces, quotes, backslashes, `=`, non-ASCII, bidi and line separators.
    static func text(_ random: inout Generator) -> String? {
        guard Bool.random(using: &random) else { return nil }
        let pieces = ["jam", " ", "\"", "\\", "=", "é", "工場", "\u{202E}", "\u{2028}", "x=y", "'", "🙂", "  "]
        return (0..<Int.random(in: 1...6, using: &random)).map { _ in pieces.randomElement(using: &random)! }
            .joined()
    }

    static func signal(_ random: inout Generator) -> Signal {
        let line: LineID = name(&random)
        let station: StationID = name(&random)
        let category = Category.allCases.randomElement(using: &random)!
        switch Int.random(in: 0..<7, using: &random) {
        case 0, 1: return .andon(line: line, station: station, category: category, text: text(&random))
        case 2: return .stop(line: line, station: Bool.random(using: &random) ? station : nil, reason: text(&random))
        case 3: return .clear(line: line, station: station, category: Bool.random(using: &random) ? category : nil)
        case 4:
            return .arrived(line: line, station: station, responder: Bool.random(using: &random) ? name(&random) : nil)
        case 5: return .resume(line: line)
        default: return .heartbeat(line: line)
        }
    }

    static func actor(_ random: inout Generator) -> Actor {
        switch Int.random(in: 0..<3, using: &random) {
        case 0: .responder(name(&random))
        case 1: .administrator(user: Bool.random(using: &random) ? "root" : "andond")
        default: .station(name(&random), name(&random))
        }
    }

    /// An input as the live path builds it: its message is the request's canonical form (a signed one with its
    /// `ts=` and `sig=`).
    static func input(_ random: inout Generator) throws -> EngineInput {
        switch Int.random(in: 0..<10, using: &random) {
        case 0:
            return .tick
        case 1:
            let configuration = try ConfigurationLoader.parse(
                configurationText,
                file: "/etc/andond/andond.yaml",
                now: Instant(millisecondsSinceEpoch: 1_796_032_800_000)
            )
            return .configuration(configuration)
        case 2...5:
            let signal = signal(&random)
            let sequence = Bool.random(using: &random) ? UInt64.random(in: 0...UInt64.max, using: &random) : nil
            let drill: Bool
            switch signal {
            case .andon, .stop: drill = Int.random(in: 0..<4, using: &random) == 0
            default: drill = false
            }
            var message = Request.signal(signal, sequence: sequence, drill: drill).message.rendered
            if Bool.random(using: &random) {
                message += " ts=1796032800 sig=" + String(repeating: "0a", count: 32)
            }
            let source =
                Bool.random(using: &random) ? "127.0.0.1:\(Int.random(in: 1...65535, using: &random))" : "uid=0"
            return .signal(signal, sequence: sequence, drill: drill, source: source, message: message)
        default:
            let id = IncidentID(UInt64.random(in: 1...1_000_000, using: &random))
            let action: EngineInput.Action
            let request: Request
            switch Int.random(in: 0..<4, using: &random) {
            case 0:
                let note = text(&random)
                (action, request) = (.acknowledge(id, note: note), .acknowledge(id, note: note))
            case 1:
                let note = text(&random) ?? "fixed"
                (action, request) = (.resolve(id, note: note), .resolve(id, note: note))
            case 2:
                let reason = text(&random)
                (action, request) = (.escalate(id, reason: reason), .escalate(id, reason: reason))
            default:
                let note = text(&random)
                (action, request) = (.arrive(id, note: note), .arrive(id, note: note))
            }
            return .action(action, actor: actor(&random), message: request.message.rendered)
        }
    }

    /// What identifies an input, for comparison (a configuration by its file, text and plant).
    static func identity(_ input: EngineInput) -> String {
        switch input {
        case .tick: "tick"
        case .configuration(let configuration):
            "configuration \(configuration.file) \(configuration.text) \(configuration.plant.lines.keys.sorted())"
        case .signal(let signal, let sequence, let drill, let source, let message):
            "signal \(signal) \(String(describing: sequence)) \(drill) \(source) \(message)"
        case .action(let action, let actor, let message):
            "action \(action) \(actor) \(message)"
        }
    }

    @Test(arguments: 0..<8)
    func everyInputRoundTripsThroughItsStoredForm(seed: UInt64) throws {
        var random = Generator(seed: seed)
        for step in 0..<250 {
            let input = try Self.input(&random)
            let stored = input.stored(sequence: Int64(step + 1), at: Instant(millisecondsSinceEpoch: 1_796_032_800_000))
            switch EngineInput.decode(stored) {
            case .success(let decoded):
                #expect(
                    Self.identity(decoded) == Self.identity(input),
                    "seed \(seed), step \(step): \(stored.kind) \(stored.source) \(stored.body)"
                )
                #expect(
                    decoded.stored(sequence: stored.sequence, at: Instant(millisecondsSinceEpoch: stored.at)) == stored
                )
            case .failure(let error):
                Issue.record("seed \(seed), step \(step): \(error) (\(stored.kind) \(stored.source) \(stored.body))")
            }
        }
    }

    @Test func everyActorRoundTripsAndAnythingElseIsRefused() {
        let actors: [Actor] = [
            .responder("tl"), .administrator(user: "root"), .station("L1", "S3"), .station("L-2.b", "st_9"),
        ]
        for actor in actors {
            #expect(EngineInput.decodeActor(EngineInput.encode(actor)) == actor)
        }
        for text in ["", "responder:", "station:L1", "station:L1/", "station:/S3", "station:L1/S3/x", "kpo:k", "tl"] {
            #expect(EngineInput.decodeActor(text) == nil, "\(text)")
        }
    }
}
