import AndonConfig
import AndonCore
import AndonProtocol
import AndonStore
import AndonTestSupport
import Foundation
import Testing

@testable import AndonControl

/// A replay from the input log starts at the daily snapshot before its window and runs the recorded inputs from
/// there: the calls, andond's incident numbers and the recorded paths are those of the engine that took them.
@Suite struct ReplayFromLogTests {
    static let minute: Int64 = 60_000
    /// 2026-11-30 10:00 UTC.
    static let ten: Int64 = 1_796_032_800_000

    static func plant(teamLeaderWithin: String) -> String {
        """
        site: { name: Log plant, time_zone: UTC }
        shifts:
          a: { start: "00:00", end: "12:00" }
          b: { start: "12:00", end: "00:00" }
        responders:
          tl: { user: tl }
          gl: { user: gl }
          k: { user: k }
        rotas:
          team-leader: { by_shift: { a: [tl], b: [tl] } }
          group-leader: { by_shift: { a: [gl], b: [gl] } }
          kpo: { by_shift: { a: [k], b: [k] } }
        policies:
          andon:
            - { tier: team-leader, ack_within: \(teamLeaderWithin) }
            - { tier: group-leader, ack_within: 30m }
            - { tier: kpo, ack_within: 30m }
          stop:
            - { tier: team-leader, ack_within: 30m }
            - { tier: kpo, ack_within: 30m }
        lines:
          L1: { description: line one }
        """
    }

    /// Writes what andond would: each input through the engine and into the log, a snapshot after `snapshotAfter`
    /// (pruning everything before it), then the rest.
    static func record(in directory: String) throws {
        let store = try StateStore(
            directory: directory,
            clock: ManualClock(Instant(millisecondsSinceEpoch: 1_796_000_000_000))
        )
        let text = plant(teamLeaderWithin: "5m")
        let configuration = try ConfigurationLoader.parse(
            text,
            file: "/etc/andond/andond.yaml",
            now: .init(millisecondsSinceEpoch: ten)
        )
        var engine: EscalationEngine?
        var sequence: Int64 = 0
        let tl = Actor.responder(ResponderID(rawValue: "tl"))
        func signal(_ message: String) -> EngineInput {
            guard case .success(.signal(let signal, let seq, let drill)) = Request.parse(Array(message.utf8)) else {
                fatalError("not a signal: \(message)")  // The test's own messages.
            }
            return .signal(signal, sequence: seq, drill: drill, source: "127.0.0.1:9", message: message)
        }
        func take(_ input: EngineInput, at minutes: Int64) throws {
            sequence += 1
            let at = Instant(millisecondsSinceEpoch: ten + minutes * minute)
            _ = input.apply(to: &engine, at: at, firstIncidentNumber: 1)
            var batch = CommitBatch()
            batch.inputs = [input.stored(sequence: sequence, at: at)]
            batch.aliveAt = at.millisecondsSinceEpoch
            try store.commit(batch)
        }
        try take(.configuration(configuration), at: 0)
        try take(signal("andon line=L1 station=S1 category=quality"), at: 1)  // #1
        // The day's first snapshot, at 10:02, covers #1; the inputs before it are pruned.
        var batch = CommitBatch()
        batch.snapshot = StoredSnapshot(
            inputSequence: sequence,
            at: ten + 2 * minute,
            configuration: text,
            configurationFile: "/etc/andond/andond.yaml",
            state: Data(DurableState.encode(engine: engine!, window: SequenceWindow()))  // Made by `take` above.
        )
        batch.pruneInputsBefore = ten + 2 * minute + 1
        try store.commit(batch)
        try take(signal("andon line=L1 station=S2 category=help"), at: 3)  // #2
        try take(.tick, at: 6)  // #1 goes to the group leader
        try take(.action(.acknowledge(IncidentID(2), note: nil), actor: tl, message: "ack id=2"), at: 7)
        try take(.action(.acknowledge(IncidentID(9), note: nil), actor: tl, message: "ack id=9"), at: 7)  // refused
        try take(signal("clear line=L1 station=S2"), at: 9)
        try take(signal("andon line=L1 station=S1 category=quality"), at: 10)  // a repeat of #1
    }

    @Test func theWindowsCallsAndPathsAreTheEnginesFromTheSnapshotOn() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "andond-replay-\(UUID().uuidString)"
        ).path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Self.record(in: directory)
        let log = try InputLog(directory: directory)
        let since = Self.ten + 2 * Self.minute + 30_000
        let until = Self.ten + 60 * Self.minute
        let history = try ReplayHistory(log: log, since: since, until: until)
        #expect(history.source.name == "log")
        #expect(history.skippedInputs == 0)
        #expect(history.source.knownFrom == Self.ten + 2 * Self.minute)
        #expect(history.end == Self.ten + 10 * Self.minute, "andond was last alive at 10:10")
        // #1 was raised before the window: not a call of it, although it escalated and repeated in it.
        #expect(Array(history.calls.keys) == ["2"])
        let call = try #require(history.calls["2"])
        #expect(call.line == "L1")
        #expect(call.station == "S2")
        #expect(call.category == "help")
        #expect(call.raisedAt == Self.ten + 3 * Self.minute)
        #expect(call.path.tiers == ["team-leader"])
        #expect(call.path.responders == ["tl"])
        #expect(history.steps.map(\.at) == [3, 7, 9].map { Self.ten + $0 * Self.minute }, "the refused ack is not one")

        // A 1-minute team leader: #2 reaches the group leader at 10:04, before tl acknowledges at 10:07.
        let faster = try ConfigurationLoader.parse(
            Self.plant(teamLeaderWithin: "1m"),
            file: "faster.yaml",
            now: .init(millisecondsSinceEpoch: since)
        )
        let result = Replay(plant: faster.plant, since: since, until: until).run(history)
        #expect(result.calls == 1)
        #expect(result.source == "log")
        #expect(result.differences.map(\.incident) == [2])
        #expect(result.differences.first?.replayedTiers == ["team-leader", "group-leader"])
        #expect(result.recorded.escalations == 0)
        #expect(result.replayed.escalations == 1)
        #expect(result.replayed.callsByResponder == ["tl": 1, "gl": 1])
    }
}
