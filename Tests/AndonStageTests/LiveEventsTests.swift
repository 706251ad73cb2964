import AndonCore
import AndonDaemon
import AndonProtocol
import AndonSystemd
import AndonTestSupport
import Foundation
import NIOCore
import Synchronization
import Testing

/// The live events hub in-process, under the manual clock: frames as the commit stage hands entries over, what a
/// reconnecting board gets, the line filter, and a board that does not keep up.
@Suite struct LiveEventsTests {
    static let start = Instant(millisecondsSinceEpoch: 1_796_032_800_000)

    /// A recording client.
    final class Board: Sendable {
        let frames = Mutex<[String]>([])
        let writes = Atomic<Int>(0)
        let closed = Atomic<Bool>(false)
        let accepts: Bool

        init(accepts: Bool = true) { self.accepts = accepts }

        func subscriber(line: String? = nil) -> LiveEvents.Subscriber {
            LiveEvents.Subscriber(
                line: line,
                send: { [self] buffer in
                    guard accepts else { return false }
                    // A batch comes as one write: split it into its frames.
                    let text = String(buffer: buffer)
                    let parts = text.components(separatedBy: "\n\n").dropLast().map { $0 + "\n\n" }
                    frames.withLock { $0 += parts }
                    writes.add(1, ordering: .relaxed)
                    return true
                },
                close: { [self] in closed.store(true, ordering: .relaxed) }
            )
        }
    }

    static func entry(_ event: String, incident: Int, line: String) -> JournalEntry {
        var entry = JournalEntry()
        entry.add(.event, event)
        entry.add(.incident, incident)
        entry.add(.line, line)
        return entry
    }

    func hub(ringSize: Int = 100, open: Set<UInt64> = []) -> LiveEvents {
        LiveEvents(storeID: "s1", next: 10, ringSize: ringSize, clock: ManualClock(Self.start)) { id in
            open.contains(id.number) ? Self.report(id.number) : nil
        }
    }

    static func report(_ id: UInt64) -> IncidentReport {
        // The fields a board reads; the rest as the wire has them.
        let json = """
            {"id":\(id),"kind":"andon","line":"L1","station":"S\(id)","category":"help","tier":"team-leader",\
            "tierNumber":1,"tiers":3,"rota":"tl","responders":["ben"],"raisedAt":\(start.millisecondsSinceEpoch),\
            "ageMilliseconds":0,"signals":1,"text":"line\\nbreak <b>"}
            """
        // try!: a constant of this test, decoded in every run.
        return try! JSONDecoder().decode(IncidentReport.self, from: Data(json.utf8))
    }

    @Test func eachEntryIsOneFrameWithItsEventIDAndValidJSONOnOneLine() throws {
        let hub = hub(open: [7])
        let board = Board()
        let (_, replay) = hub.subscribe(board.subscriber(), lastEventID: nil)
        #expect(replay.map { String(buffer: $0) } == ["retry: 2000\n\n"])
        hub.publish([
            (10, Self.entry("raised", incident: 7, line: "L1")), (11, Self.entry("cleared", incident: 8, line: "L1")),
        ])
        let frames = board.frames.withLock { $0 }
        #expect(frames.count == 2)
        let writes = board.writes.load(ordering: .relaxed)
        #expect(writes == 1, "a batch is one write to a board")
        for frame in frames {
            let lines = frame.split(separator: "\n")
            #expect(lines.count == 3, "id, event, data; a sender's newline stays escaped: \(frame)")
            let data = try #require(lines.last?.dropFirst("data: ".count))
            #expect((try? JSONSerialization.jsonObject(with: Data(data.utf8))) != nil, "valid JSON: \(data)")
        }
        #expect(frames[0].hasPrefix("id: s1-10\nevent: call\n"))
        #expect(frames[0].contains(#""text":"line\nbreak <b>""#))
        #expect(frames[1].hasPrefix("id: s1-11\n") && !frames[1].contains(#""call""#), "an ended call has no call")
    }

    @Test func aReconnectGetsWhatItMissedOrAReset() {
        let hub = hub(ringSize: 3)
        hub.publish((10...14).map { (Int64($0), Self.entry("raised", incident: $0, line: "L1")) })
        func replay(after id: String?) -> [String] {
            hub.subscribe(Board().subscriber(), lastEventID: id).replay.map { String(buffer: $0) }
                .filter { !$0.hasPrefix("retry:") }
        }
        #expect(replay(after: "s1-12").map { $0.prefix(9) } == ["id: s1-13", "id: s1-14"])
        #expect(replay(after: "s1-14").isEmpty, "up to date")
        #expect(replay(after: "s1-11").map { $0.prefix(9) } == ["id: s1-12", "id: s1-13", "id: s1-14"], "the oldest")
        #expect(replay(after: "s1-10").first?.hasPrefix("event: reset") == true, "older than the ring holds")
        #expect(replay(after: "s2-13").first?.hasPrefix("event: reset") == true, "another state directory")
        #expect(replay(after: "s1-99").first?.hasPrefix("event: reset") == true, "ahead of andond (a restore lost it)")
        // Right after a start, the last id before it missed nothing.
        let fresh = self.hub()
        #expect(fresh.subscribe(Board().subscriber(), lastEventID: "s1-9").replay.count == 1, "retry only")
    }

    @Test func aLineFilterAndABoardThatDoesNotKeepUp() {
        let hub = hub()
        let l2 = Board()
        let slow = Board(accepts: false)
        _ = hub.subscribe(l2.subscriber(line: "L2"), lastEventID: nil)
        _ = hub.subscribe(slow.subscriber(), lastEventID: nil)
        hub.publish([
            (10, Self.entry("raised", incident: 1, line: "L1")), (11, Self.entry("raised", incident: 2, line: "L2")),
        ])
        #expect(l2.frames.withLock { $0 }.map { $0.prefix(9) } == ["id: s1-11"])
        let closed = slow.closed.load(ordering: .relaxed)
        #expect(closed, "dropped and closed: it reconnects and resumes")
        #expect(hub.subscriberCount == 1)
        hub.broadcast(LiveEvents.keepAlive)
        #expect(l2.frames.withLock { $0 }.last == ": keep-alive\n\n")
    }

    @Test func aFailedAttemptHasAReasonLabel() {
        func reason(_ outcome: DeliveryReport.Outcome, status: Int? = nil, error: String? = nil) -> String? {
            DaemonMetrics.failureReason(
                DeliveryReport(id: 1, attempt: 1, outcome: outcome, status: status, error: error)
            )
        }
        #expect(reason(.delivered, status: 200) == nil)
        #expect(reason(.retry, status: 503) == "server-error")
        #expect(reason(.retry, status: 429) == "rate-limited")
        #expect(reason(.failed, status: 400) == "client-error")
        #expect(reason(.retry, status: 408) == "timeout")
        #expect(reason(.retry, error: "Deadline exceeded") == "timeout")
        #expect(reason(.retry, error: "connection refused") == "network")
    }
}
