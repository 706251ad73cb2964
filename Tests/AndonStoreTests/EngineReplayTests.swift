import AndonConfig
import AndonCore
import AndonProtocol
import AndonStore
import AndonTestSupport
import Foundation
import Testing

/// The one loop that rebuilds the engine from disk (andond's restore and `andonctl replay`): from nothing or from a
/// snapshot, the stored inputs give exactly the engine and window the live path had.
@Suite struct EngineReplayTests {
    /// Generated inputs applied as the live daemon applies them; returns the stored inputs, the snapshot after
    /// `snapshotAfter` of them, and the final state's bytes.
    static func live(
        seed: UInt64,
        count: Int,
        snapshotAfter: Int
    ) throws -> (
        inputs: [StoredInput], snapshot: StoredSnapshot, state: [UInt8]
    ) {
        var random = SeededGenerator(seed: seed)
        var engine: EscalationEngine?
        var window = SequenceWindow()
        var inputs: [StoredInput] = []
        var snapshot: StoredSnapshot?
        var at = Instant(millisecondsSinceEpoch: 1_796_032_800_000)
        let configuration = try ConfigurationLoader.parse(
            EngineInputTests.configurationText,
            file: "/etc/andond/andond.yaml",
            now: at
        )
        var sequence: Int64 = 0
        func take(_ input: EngineInput) {
            sequence += 1
            let outcome = input.apply(to: &engine, at: at, firstIncidentNumber: 1)
            if case .signal(_, let seq, _, _, _) = input, case .signal(let result) = outcome, let plant = engine?.plant
            {
                window.remember(Reply.signal(result, sequence: seq, plant: plant), to: input, at: at)
            }
            inputs.append(input.stored(sequence: sequence, at: at))
            if inputs.count == snapshotAfter, let engine {
                snapshot = StoredSnapshot(
                    inputSequence: sequence,
                    at: at.millisecondsSinceEpoch,
                    configuration: configuration.text,
                    configurationFile: configuration.file,
                    state: Data(DurableState.encode(engine: engine, window: window))
                )
            }
        }
        take(.configuration(configuration))
        while inputs.count < count {
            at += .milliseconds(Int64.random(in: 0...90_000, using: &random))
            let input = try EngineInputTests.input(&random)
            // Signals on the plant's own lines, so that calls open and escalate; configurations stay the one.
            switch input {
            case .configuration: take(.tick)
            case .signal(let signal, let seq, let drill, let source, _):
                let line: LineID = Bool.random(using: &random) ? "L1" : "L-2.b"
                let retargeted: Signal =
                    switch signal {
                    case .andon(_, let station, let category, let text):
                        .andon(line: line, station: station, category: category, text: text)
                    case .stop(_, let station, let reason): .stop(line: line, station: station, reason: reason)
                    case .clear(_, let station, let category): .clear(line: line, station: station, category: category)
                    case .arrived(_, let station, _): .arrived(line: line, station: station, responder: nil)
                    case .resume: .resume(line: line)
                    case .heartbeat: .heartbeat(line: line)
                    case .lost(_, let reason): .lost(line: line, reason: reason)
                    }
                let message = Request.signal(retargeted, sequence: seq, drill: drill).message.rendered
                take(.signal(retargeted, sequence: seq, drill: drill, source: source, message: message))
            default: take(input)
            }
        }
        let final = try #require(engine)
        return (inputs, try #require(snapshot), DurableState.encode(engine: final, window: window))
    }

    @Test(arguments: 0..<4)
    func fromNothingOrFromASnapshotTheReplayIsTheLiveState(seed: UInt64) throws {
        let (inputs, snapshot, state) = try Self.live(seed: seed, count: 400, snapshotAfter: 150)
        var fromNothing = try EngineReplay(snapshot: nil, firstIncidentNumber: 1)
        for stored in inputs { #expect(fromNothing.apply(stored) != nil) }
        let all = try #require(fromNothing.engine)
        #expect(DurableState.encode(engine: all, window: fromNothing.window) == state)
        #expect(fromNothing.replayed == 400)
        #expect(fromNothing.skipped.isEmpty)

        var fromSnapshot = try EngineReplay(snapshot: snapshot, firstIncidentNumber: 1)
        for stored in inputs where stored.sequence > snapshot.inputSequence { fromSnapshot.apply(stored) }
        let rest = try #require(fromSnapshot.engine)
        #expect(DurableState.encode(engine: rest, window: fromSnapshot.window) == state)
        #expect(fromSnapshot.replayed == 250)
        #expect(fromSnapshot.lastConfiguration?.file == "/etc/andond/andond.yaml")
    }

    @Test func aSnapshotThatDoesNotReadThrowsAndAConfigurationThatNoLongerLoadsFallsBack() throws {
        let (_, snapshot, _) = try Self.live(seed: 9, count: 20, snapshotAfter: 10)
        var damaged = snapshot
        damaged.state = Data("ANDS garbage".utf8)
        #expect(throws: InputLogError.self) { try EngineReplay(snapshot: damaged, firstIncidentNumber: 1) }
        var outdated = snapshot
        outdated.configuration = "site: { name: X }\nlines: nope"
        #expect(throws: InputLogError.self) { try EngineReplay(snapshot: outdated, firstIncidentNumber: 1) }
        let fallback = try ConfigurationLoader.parse(
            EngineInputTests.configurationText,
            file: "/etc/andond/andond.yaml",
            now: Instant(millisecondsSinceEpoch: snapshot.at)
        ).plant
        let replay = try EngineReplay(snapshot: outdated, firstIncidentNumber: 1, fallback: fallback)
        #expect(replay.engine != nil)
        #expect(replay.skipped.count == 1)
    }

    @Test func anInputThatNoLongerReadsIsSkippedAndSaidSo() throws {
        var replay = try EngineReplay(snapshot: nil, firstIncidentNumber: 1)
        let bad = StoredInput(sequence: 3, at: 1, kind: .action, source: "kpo:k", body: "ack id=1")
        #expect(replay.apply(bad) == nil)
        #expect(replay.skipped == ["input 3: unknown actor kpo:k"])
        #expect(replay.replayed == 0)
    }
}
