import AndonConfig
import AndonCore
import AndonDaemon
import AndonProtocol
import AndonSimulation
import AndonSystemd
import AndonTestSupport
import Foundation
import Synchronization
import Testing

/// The line's side under the manual clock: every change of a call reaches its controller once on disk, the lights
/// repeat every `feedback_every` to exactly the instant, a rebooted controller relearns them, `state?` answers,
/// `feedback:` addresses and signed messages.
@Suite struct FeedbackTests {
    /// What andond would have sent, and to where.
    final class Recorder: FeedbackTransport, Sendable {
        let sent = Mutex<[(to: String, message: String)]>([])
        /// The changes a commit hands over are sent on the feedback queue: waited for before each look.
        let feedback = Mutex<FeedbackService?>(nil)
        func send(_ message: String, to address: String) -> String? {
            sent.withLock { $0.append((address, message)) }
            return nil
        }
        func take() -> [(to: String, message: WireMessage)] {
            feedback.withLock { $0 }?.drain()
            return sent.withLock { sent in
                defer { sent = [] }
                return sent.map { ($0.to, try! WireMessage.parse($0.message).get()) }
            }
        }
    }

    func harness(
        lineOne: String = "{ description: line one }",
        settings: [String] = []
    ) throws -> (
        StageHarness, Recorder
    ) {
        let yaml = PlantFixture.yaml(socket: "/tmp/unused.sock", within: "1m", resolveWithin: nil, settings: settings)
            .replacingOccurrences(of: "L1: { description: line one }", with: "L1: \(lineOne)")
        let harness = try StageHarness(yaml: yaml)
        let recorder = Recorder()
        harness.stages.signals.feedback.attach(recorder)
        recorder.feedback.withLock { $0 = harness.stages.signals.feedback }
        return (harness, recorder)
    }

    @Test func everyChangeOfACallReachesItsControllerOnceOnDisk() throws {
        let (harness, recorder) = try harness()
        defer { harness.remove() }
        #expect(harness.send("andon line=L1 station=S3 category=help seq=1")?.isOK == true)
        var sent = recorder.take()
        #expect(sent.count == 1)
        #expect(sent.first?.to == "127.0.0.1:40000")
        let raised = try #require(sent.first?.message)
        #expect(raised.verb == "state")
        #expect(raised["line"] == "L1" && raised["station"] == "S3" && raised["incident"] == "1")
        #expect(raised["state"] == "open" && raised["event"] == "raised" && raised["tier"] == "team-leader")
        #expect(raised["tier_number"] == "1/4" && raised["kind"] == "andon" && raised["category"] == "help")
        #expect(raised["ts"] == String(harness.clock.now.millisecondsSinceEpoch / 1000))

        // A repeat of the same cord changes no light.
        harness.send("andon line=L1 station=S3 category=help seq=2")
        #expect(recorder.take().isEmpty)

        // Not acknowledged within 1m: escalated (quality has nobody: skipped, to the group leader).
        harness.advance(by: .seconds(60))
        sent = recorder.take()
        #expect(sent.map { $0.message["event"] } == ["escalated"])
        #expect(sent.first?.message["tier"] == "group-leader" && sent.first?.message["state"] == "open")

        harness.send("ack id=1", from: StageHarness.root)
        #expect(
            recorder.take().map { [$0.message["event"], $0.message["state"], $0.message["by"]] } == [
                ["acknowledged", "acknowledged", "root"]
            ]
        )
        harness.send("arrived line=L1 station=S3")
        #expect(recorder.take().map { [$0.message["event"], $0.message["state"]] } == [["arrived", "arrived"]])
        harness.send("resolve id=1 note=fixed", from: StageHarness.root)
        #expect(recorder.take().map { [$0.message["event"], $0.message["state"]] } == [["resolved", "over"]])

        // Cleared by the station: over too.
        harness.send("andon line=L1 station=S4 category=quality seq=3")
        _ = recorder.take()
        harness.send("clear line=L1 station=S4 seq=4")
        #expect(recorder.take().map { [$0.message["event"], $0.message["state"]] } == [["cleared", "over"]])
    }

    @Test func lightsRepeatEveryPeriodToTheInstantAndFollowARebootedController() throws {
        let (harness, recorder) = try harness(settings: ["feedback_every: 10s"])
        defer { harness.remove() }
        let start = harness.clock.now
        harness.send("andon line=L1 station=S3 category=help seq=1")
        harness.send("andon line=L1 station=S5 category=help seq=2")
        _ = recorder.take()
        let feedback = harness.stages.signals.feedback
        harness.clock.advance(to: start + .milliseconds(9_999))
        feedback.repeatDue(harness.stages.escalation.engine)
        #expect(recorder.take().isEmpty)
        harness.clock.advance(to: start + .seconds(10))
        feedback.repeatDue(harness.stages.escalation.engine)
        var sent = recorder.take()
        #expect(sent.map(\.to) == Array(repeating: "127.0.0.1:40000", count: 3))
        #expect(sent.map { $0.message["incident"] } == ["1", "2", nil])
        #expect(sent.allSatisfy { $0.message["event"] == nil })
        #expect(sent.last?.message["calls"] == "2" && sent.last?.message["incidents"] == "1,2")

        // The controller reboots and sends from another port: its next repeat goes there, whole.
        harness.send("heartbeat line=L1", from: .udp("127.0.0.1:40001"))
        harness.clock.advance(to: start + .seconds(20))
        feedback.repeatDue(harness.stages.escalation.engine)
        sent = recorder.take()
        #expect(sent.map(\.to) == Array(repeating: "127.0.0.1:40001", count: 3))

        // A line whose calls all ended hears so: a summary with none, so a light that missed its call's end goes dark.
        harness.send("clear line=L1 station=S3")
        harness.send("clear line=L1 station=S5")
        _ = recorder.take()
        harness.clock.advance(to: start + .seconds(30))
        feedback.repeatDue(harness.stages.escalation.engine)
        sent = recorder.take()
        #expect(sent.map { [$0.message["calls"], $0.message["incidents"]] } == [["0", "-"]])
        // Lines nobody listens for get nothing.
        #expect(sent.allSatisfy { $0.message["line"] == "L1" })
    }

    @Test func stateQueryAnswersWithEachCallThenTheReply() throws {
        let (harness, recorder) = try harness()
        defer { harness.remove() }
        harness.send("andon line=L1 station=S3 category=help seq=1")
        harness.send("andon line=L1 station=S4 category=quality seq=2")
        harness.send("ack id=2", from: StageHarness.root)
        _ = recorder.take()
        let rebooted = Peer.udp("127.0.0.1:40002")
        let reply = try #require(harness.send("state? line=L1 seq=9", from: rebooted))
        #expect(reply.rendered == "ok line=L1 calls=2 incidents=1,2 seq=9")
        let sent = recorder.take()
        #expect(sent.map(\.to) == ["127.0.0.1:40002", "127.0.0.1:40002"])
        #expect(sent.map { $0.message["state"] } == ["open", "acknowledged"])
        #expect(
            harness.send("state? line=L1 station=S4", from: rebooted)?.rendered
                == "ok line=L1 station=S4 calls=1 incidents=2"
        )
        #expect(recorder.take().map { $0.message["incident"] } == ["2"])
        #expect(harness.send("state? line=L9 seq=3", from: rebooted)?.errorCode == "unknown-line")
        // Changes now go to where the question came from.
        harness.send("resolve id=2 note=done", from: StageHarness.root)
        #expect(recorder.take().map(\.to) == ["127.0.0.1:40002"])
    }

    @Test func configuredAddressesTakeEverythingAndAKeyedLineSignsIt() throws {
        let key = String(repeating: "5a", count: 32)
        let probe = try StageHarness()
        let path = try probe.writeKey(key, as: "L1.key")
        defer { probe.remove() }
        let (harness, recorder) = try harness(
            lineOne: "{ feedback: [\"127.0.0.1:4951\", \"[::1]:4952\"], feedback_every: 5s, key_file: \(path), "
                + "senders: [127.0.0.0/8] }"
        )
        defer { harness.remove() }
        let ts = harness.clock.now.millisecondsSinceEpoch / 1000
        let message = MessageSigning.sign(
            "andon line=L1 station=S1 category=help",
            key: Hex.decode(Array(key.utf8))!,
            at: ts
        )
        #expect(harness.send(message)?.isOK == true)
        let sent = recorder.take()
        #expect(sent.map(\.to) == ["127.0.0.1:4951", "[::1]:4952"])
        for datagram in sent {
            let signed = try #require(MessageSigning.split(Array(datagram.message.rendered.utf8)))
            #expect(MessageSigning.isValid(signed, key: Hex.decode(Array(key.utf8))!))
        }
        // Unsigned, or from an address not in senders:, a question is refused like a signal.
        #expect(harness.send("state? line=L1")?.errorCode == "unsigned")
        #expect(harness.send("state? line=L1", from: .udp("10.9.9.9:1"))?.errorCode == "not-authorized")
        // The line's own period.
        harness.clock.advance(by: .seconds(5))
        harness.stages.signals.feedback.repeatDue(harness.stages.escalation.engine)
        #expect(recorder.take().map(\.to) == ["127.0.0.1:4951", "[::1]:4952", "127.0.0.1:4951", "[::1]:4952"])
    }

    @Test func aSubscriberOnTheSocketGetsItsLinesLightsAndChanges() throws {
        let (harness, _) = try harness()
        defer { harness.remove() }
        harness.send("andon line=L1 station=S3 category=help seq=1")
        harness.send("andon line=L2 station=S1 category=help seq=1")
        let lines = Mutex<[String]>([])
        let connection = PushConnection { line in lines.withLock { $0.append(line) } }
        let box = ReplyBox()
        harness.stages.signals.handle(
            Array("subscribe line=L1".utf8),
            from: StageHarness.user("plc"),
            connection: connection,
            reply: box.deliver
        )
        #expect(box.last?.rendered == "ok subscribed=L1")
        #expect(
            lines.withLock { $0.map { $0.split(separator: " ").prefix(4).joined(separator: " ") } } == [
                "state line=L1 station=S3 incident=1", "state line=L1 calls=1 incidents=1",
            ]
        )
        lines.withLock { $0 = [] }
        harness.send("clear line=L1 station=S3")
        harness.send("clear line=L2 station=S1")
        harness.stages.signals.feedback.drain()
        #expect(lines.withLock { $0.count } == 1)
        #expect(lines.withLock { $0.first?.contains("event=cleared") } == true)
        for id in connection.close() { harness.stages.signals.feedback.unsubscribe(id) }
        #expect(harness.stages.signals.feedback.subscriberCount == 0)
    }
}
