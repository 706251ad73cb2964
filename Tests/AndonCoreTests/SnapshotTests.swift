import AndonTestSupport
import Foundation
import Testing

@testable import AndonCore

/// A restored snapshot behaves exactly like the engine it was taken from: the same events, at the same instants, in
/// the same order, for every later input (deadlines that fall due together included).
@Suite struct SnapshotTests {
    /// Through the byte form andond stores (and, every other time, through the JSON form of the first 0.3 builds).
    static func roundTrip(_ engine: EscalationEngine, json: Bool = false) throws -> EscalationEngine {
        if json {
            let data = try JSONEncoder().encode(engine.snapshot)
            let decoded = try JSONDecoder().decode(EngineSnapshot.self, from: data)
            return EscalationEngine(plant: engine.plant, restoring: decoded)
        }
        var writer = BinaryWriter()
        engine.encodeState(into: &writer)
        return try writer.bytes.withUnsafeBytes { buffer in
            try BinaryReader.read(buffer) { (reader) throws(BinaryFormatError) in
                let restored = try EscalationEngine(plant: engine.plant, decoding: &reader)
                guard reader.remaining == 0 else { throw reader.failure("bytes left over") }
                return restored
            }
        }
    }

    @Test(arguments: 0..<16)
    func aRestoredEngineGivesTheSameEventsAsTheOriginal(seed: UInt64) throws {
        var random = SeededGenerator(seed: seed &+ 1000)
        let plant = TestPlant.make(heartbeat: .seconds(45))
        let start = TestPlant.local("2026-03-01 00:00") + .seconds(Int64.random(in: 0..<(300 * 86_400), using: &random))
        var original = EscalationEngine(plant: plant, startingAt: start)
        var restored = try Self.roundTrip(original)
        var now = start
        var compared = 0
        let lines: [LineID] = ["L1", "L2", "L3"]
        for step in 0..<300 {
            // Often the same instant, so that deadlines fall due together.
            now += .milliseconds(
                Int64.random(in: 0...3, using: &random) == 0 ? 0 : Int64.random(in: 0...200_000, using: &random)
            )
            let line = lines.randomElement(using: &random)!  // non-empty
            let station = StationID(rawValue: "S\(Int.random(in: 1...3, using: &random))")
            let open = original.openIncidents.map(\.id)
            let root = Actor.administrator(user: "root")
            func apply(_ engine: inout EscalationEngine, _ choice: Int) -> [Event] {
                switch choice {
                case 0..<35:
                    let category = Category.allCases[choice % Category.allCases.count]
                    return engine.receive(.andon(line: line, station: station, category: category, text: nil), at: now)
                        .events
                case 35..<42: return engine.receive(.stop(line: line, station: nil, reason: "r"), at: now).events
                case 42..<47: return engine.receive(.resume(line: line), at: now).events
                case 47..<55 where !open.isEmpty:
                    return engine.acknowledge(open[choice % open.count], by: root, at: now).events
                case 55..<58 where !open.isEmpty:
                    return engine.resolve(open[choice % open.count], by: root, note: "n", at: now).events
                case 58..<65: return engine.receive(.heartbeat(line: "L2"), at: now).events
                default: return engine.advance(to: now)
                }
            }
            let choice = Int.random(in: 0..<100, using: &random)
            let expected = apply(&original, choice)
            let actual = apply(&restored, choice)
            #expect(actual == expected, "seed \(seed) step \(step): the restored engine differs")
            compared += expected.count
            if Int.random(in: 0..<10, using: &random) == 0 {
                restored = try Self.roundTrip(restored, json: Bool.random(using: &random))
            }
        }
        now += .seconds(86_400)
        #expect(restored.advance(to: now) == original.advance(to: now), "seed \(seed): a day later")
        #expect(restored.snapshot == original.snapshot)
        #expect(restored.nextIncidentNumber == original.nextIncidentNumber)
        #expect(compared > 50, "seed \(seed): too few events to compare")
    }

    /// A damaged byte form throws where it stops making sense; it never traps and never loads as something else.
    @Test func aTruncatedOrDamagedByteFormThrows() throws {
        var engine = EscalationEngine(
            plant: TestPlant.make(heartbeat: .seconds(45)),
            startingAt: TestPlant.local("2026-03-01 08:00")
        )
        let now = TestPlant.local("2026-03-01 08:01")
        _ = engine.receive(.andon(line: "L1", station: "S1", category: .quality, text: "burr"), at: now)
        _ = engine.receive(.stop(line: "L2", station: nil, reason: "jam"), at: now)
        _ = engine.acknowledge(IncidentID(1), by: .administrator(user: "root"), at: now + .seconds(5))
        var writer = BinaryWriter()
        engine.encodeState(into: &writer)
        let bytes = writer.bytes
        func decode(_ bytes: [UInt8]) -> Result<EscalationEngine, BinaryFormatError> {
            bytes.withUnsafeBytes { buffer in
                Result { () throws(BinaryFormatError) in
                    try BinaryReader.read(buffer) { (reader) throws(BinaryFormatError) in
                        let engine = try EscalationEngine(plant: TestPlant.make(), decoding: &reader)
                        guard reader.remaining == 0 else { throw reader.failure("bytes left over") }
                        return engine
                    }
                }
            }
        }
        #expect(try decode(bytes).get().openIncidentCount == 2)
        for length in 0..<bytes.count {
            #expect(throws: BinaryFormatError.self, "cut at \(length)") { try decode(Array(bytes[..<length])).get() }
        }
        var random = SeededGenerator(seed: 7)
        for _ in 0..<2_000 {
            var damaged = bytes
            damaged[Int.random(in: 0..<damaged.count, using: &random)] = UInt8.random(in: 0...255, using: &random)
            _ = decode(damaged)  // either an error or some engine: never a trap
        }
    }

    /// The engine's state as andond 0.3 wrote it (format 2: before handovers), written by that build: three calls, one
    /// of them acknowledged by a, one a stop at L3/S9, at 13:50:40. It loads, takes defaults for what 0.4 added, and
    /// arms the duty-change timer, so the 14:00 shift change hands the calls over.
    @Test func aFormat2StateFromAndond03LoadsAndHandsOverAtTheNextShiftChange() throws {
        let base64 = """
            gOSQrMJoBAMDAQJMMwECUzkAAAEDamFtgOSQrMJoAAAEc3RvcAALdGVhbS1sZWFkZXICdGyA5JCswmiA5JCswmgBAWEBAWEAAAACAAGA5JCswmgBwI2YrMJo\
            AAECAAJMMQECUzIBBGhlbHAAAIDzi6zCaAAABWFuZG9uAAt0ZWFtLWxlYWRlcgJ0bIDzi6zCaIDzi6zCaAEBYQEBYQEAAWEB4MePrMJoAAIAAAACAQACTDEB\
            AlMxAQdxdWFsaXR5AQRidXJyAIDzi6zCaAAAB3F1YWxpdHkAC3RlYW0tbGVhZGVyAnRsgPOLrMJogPOLrMJoAQFhAQFhAAAAAgAAAcDvoazCaAABAQJMMloA\
            gPOLrMJoAZCykazCaAQDkLKRrMJoAQECTDLAjZiswmgEAAMBwO+hrMJoAgABAQ==
            """
        let bytes = [UInt8](try #require(Data(base64Encoded: base64)))
        let plant = TestPlant.make(heartbeat: .seconds(45))
        var engine = try bytes.withUnsafeBytes { buffer in
            try BinaryReader.read(buffer) { (reader) throws(BinaryFormatError) in
                let engine = try EscalationEngine(plant: plant, decoding: &reader, format: 2)
                guard reader.remaining == 0 else { throw reader.failure("bytes left over") }
                return engine
            }
        }
        #expect(engine.openIncidentCount == 3)
        let stop = try #require(engine.incident(IncidentID(3)))
        #expect(stop.kind == .stop)
        #expect(stop.stations == ["S9"])
        let acknowledged = try #require(engine.incident(IncidentID(2)))
        #expect(acknowledged.owners == ["a"])
        #expect(acknowledged.firstAcknowledgedAt == TestPlant.local("2026-11-25 13:50") + .seconds(30))
        #expect(engine.dutyChangeAt == TestPlant.local("2026-11-25 14:00"))
        let handovers = engine.advance(to: TestPlant.local("2026-11-25 14:00")).filter { $0.kind == .handedOver }
        #expect(handovers.allSatisfy { $0.at == TestPlant.local("2026-11-25 14:00") })
        #expect(handovers.contains { $0.incident == IncidentID(2) && $0.previous == ["a"] && $0.responders == ["b"] })
    }

    @Test func theSequenceWindowSurvivesItsByteForm() throws {
        var window = SequenceWindow(capacity: 4, lifetime: .seconds(60))
        let t0 = Instant(secondsSinceEpoch: 1_000)
        for seq in 1...9 {
            window.remember(
                line: seq % 2 == 0 ? "L1" : "L2",
                sequence: UInt64(seq),
                message: "m\(seq)",
                reply: "r\(seq)",
                at: t0
            )
        }
        var writer = BinaryWriter()
        window.encode(into: &writer)
        let restored = try writer.bytes.withUnsafeBytes { buffer in
            try BinaryReader.read(buffer) { (reader) throws(BinaryFormatError) in try SequenceWindow(decoding: &reader)
            }
        }
        #expect(restored == window)
        #expect(restored.reply(line: "L2", sequence: 9, message: "m9", at: t0) == "r9")
    }

    /// andond's first byte-form snapshots kept each message whole; they still load, as digests.
    @Test func aWindowOfTheFirstByteFormStillAnswersRetransmits() throws {
        let t0 = Instant(secondsSinceEpoch: 1_000)
        var writer = BinaryWriter()
        writer.write(1024)
        writer.write(Duration.seconds(3600))
        writer.write(UInt64(1))  // one line
        writer.write(LineID("L1"))
        writer.write(0)  // head
        writer.write(each: [UInt64(7)]) { $0.write($1) }
        writer.write(UInt64(1))  // one entry
        writer.write(UInt64(7))
        writer.write("andon line=L1 station=S1 category=help seq=7")
        writer.write("ok incident=1 seq=7")
        writer.write(t0)
        let window = try writer.bytes.withUnsafeBytes { buffer in
            try BinaryReader.read(buffer) { (reader) throws(BinaryFormatError) in
                try SequenceWindow(decoding: &reader, keepsMessages: true)
            }
        }
        #expect(
            window.reply(line: "L1", sequence: 7, message: "andon line=L1 station=S1 category=help seq=7", at: t0)
                == "ok incident=1 seq=7"
        )
        #expect(
            window.reply(line: "L1", sequence: 7, message: "andon line=L1 station=S2 category=help seq=7", at: t0)
                == nil
        )
    }

    @Test func theSequenceWindowAnswersRetransmitsAndForgetsBeyondItsBounds() {
        var window = SequenceWindow(capacity: 3, lifetime: .seconds(60))
        let t0 = Instant(secondsSinceEpoch: 1_000)
        window.remember(line: "L1", sequence: 7, message: "andon a", reply: "ok incident=1", at: t0)
        #expect(window.reply(line: "L1", sequence: 7, message: "andon a", at: t0 + .seconds(5)) == "ok incident=1")
        // Another line, another message with the same seq, or too late: not a retransmit.
        #expect(window.reply(line: "L2", sequence: 7, message: "andon a", at: t0) == nil)
        #expect(window.reply(line: "L1", sequence: 7, message: "andon b", at: t0) == nil)
        #expect(window.reply(line: "L1", sequence: 7, message: "andon a", at: t0 + .seconds(60)) == nil)
        for seq in 8...10 {
            window.remember(line: "L1", sequence: UInt64(seq), message: "m\(seq)", reply: "r\(seq)", at: t0)
        }
        #expect(window.count == 3)
        #expect(window.reply(line: "L1", sequence: 7, message: "andon a", at: t0) == nil, "the oldest is forgotten")
        #expect(window.reply(line: "L1", sequence: 10, message: "m10", at: t0) == "r10")
        window.remember(line: "L1", sequence: 11, message: "m11", reply: "r11", at: t0 + .seconds(61))
        #expect(window.count == 1, "expired entries are forgotten when the line remembers a new one")
    }
}
