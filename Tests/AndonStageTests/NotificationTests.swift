import AndonCore
import AndonProtocol
import AndonSimulation
import AndonStore
import AndonSystemd
import AndonTestSupport
import Foundation
import Testing

@testable import AndonDaemon

/// The notification stage in-process on a manual clock, against the real store: deliveries are written in the
/// input's transaction and claimable only then, survive a crash with their progress, and an outcome is on disk
/// before it is answered.
@Suite struct NotificationTests {
    static let yaml = PlantFixture.notifying(socket: "/tmp/unused.sock", url: "http://127.0.0.1:9")
    static let notifier = StageHarness.user("andon-notify", uid: 990)

    func claim(_ harness: StageHarness, limit: Int = 10) throws -> [DeliveryPayload] {
        let reply = try #require(harness.send("claim limit=\(limit) lease=30000", from: Self.notifier))
        return try JSONDecoder().decode([DeliveryPayload].self, from: Data(try #require(reply["json"]).utf8))
    }

    @Test func aDeliveryIsCommittedWithItsInputAndClaimableOnlyThen() throws {
        let harness = try StageHarness(yaml: Self.yaml)
        defer { harness.remove() }
        // Applied, not yet on disk: nothing to claim, and a crash loses both the input and its deliveries.
        let box = ReplyBox()
        harness.stages.signals.handle(
            Array("andon line=L2 station=S1 category=help seq=1".utf8),
            from: StageHarness.controller,
            reply: box.deliver
        )
        #expect(box.all.isEmpty)
        #expect(harness.stages.notifications.pendingCount == 0)
        try harness.crash()
        #expect(harness.stages.notifications.pendingCount == 0)
        #expect(try claim(harness).isEmpty)

        #expect(harness.send("andon line=L1 station=S3 category=help text=\"the \\\"press\\\"\" seq=2")?.isOK == true)
        let claimed = try claim(harness)
        #expect(claimed.map(\.recipient) == ["tl", "line:L1"])
        #expect(claimed.map(\.channel) == ["pager", "tower"])
        #expect(claimed.map(\.attempt) == [1, 1])
        #expect(claimed[0].parameters == ["topic": "tl"])
        #expect(claimed[0].content.purpose == .call)
        #expect(claimed[0].content.text == "the \"press\"")
        let raised = try #require(harness.journal.written.first { $0.entry[JournalField.event] == "raised" })
        let eventID = try #require(raised.entry[JournalField.eventID])
        #expect(claimed[0].key == "\(eventID):tl")
        #expect(claimed[1].key == "\(eventID):line:L1")

        // A crash of andond returns the claims: the same attempt, the same key.
        try harness.crash()
        let again = try claim(harness)
        #expect(again.map(\.key) == claimed.map(\.key))
        #expect(again.map(\.attempt) == [1, 1])
    }

    @Test func anOutcomeIsOnDiskBeforeItIsAnsweredAndJournaled() throws {
        let harness = try StageHarness(yaml: Self.yaml)
        defer { harness.remove() }
        #expect(harness.send("andon line=L1 station=S3 category=help seq=1")?.isOK == true)
        let claimed = try claim(harness)
        let box = ReplyBox()
        harness.stages.signals.handle(
            Array("report id=\(claimed[0].id) attempt=1 outcome=delivered status=200 ms=12".utf8),
            from: Self.notifier,
            reply: box.deliver
        )
        #expect(box.all.isEmpty, "answered only once on disk")
        harness.clock.advance(by: .milliseconds(40))
        harness.stages.committer.step()
        #expect(box.last?.isOK == true)
        let notified = try #require(
            harness.journal.written.first { $0.entry[JournalField.messageID] == MessageID.notified }
        )
        #expect(notified.entry[JournalField.recipient] == "tl")
        #expect(notified.entry[JournalField.channel] == "pager")
        #expect(notified.entry[JournalField.httpStatus] == "200")
        #expect(notified.entry[JournalField.attempt] == "1")
        #expect(notified.entry[JournalField.incident] == "1")
        // A second report of the same attempt is refused; after a crash the delivery stays delivered.
        #expect(
            harness.send("report id=\(claimed[0].id) attempt=1 outcome=delivered status=200", from: Self.notifier)?
                .errorCode == "bad-value"
        )
        try harness.crash()
        #expect(try claim(harness).map(\.recipient) == ["line:L1"])
    }

    @Test func retriesWaitTheirBackoffAndSurviveACrash() throws {
        let harness = try StageHarness(yaml: Self.yaml)
        defer { harness.remove() }
        #expect(harness.send("andon line=L2 station=S3 category=help seq=1")?.isOK == true)
        let first = try #require(try claim(harness).first)
        #expect(
            harness.send(
                "report id=\(first.id) attempt=1 outcome=retry status=429 retry_after=20000",
                from: Self.notifier
            )?
            .isOK == true
        )
        #expect(try claim(harness).isEmpty)
        try harness.crash()
        harness.clock.advance(by: .milliseconds(19_999))
        #expect(try claim(harness).isEmpty)
        harness.clock.advance(by: .milliseconds(1))
        let second = try claim(harness)
        #expect(second.map(\.attempt) == [2])
        #expect(second.first?.key == first.key)
        #expect(second.first?.lastStatus == 429)
    }

    @Test func aCallNobodyWasReachedForEscalatesAtOnce() throws {
        let harness = try StageHarness(yaml: Self.yaml)
        defer { harness.remove() }
        #expect(harness.send("andon line=L2 station=S3 category=help seq=1")?.isOK == true)
        let claimed = try claim(harness)
        #expect(claimed.map(\.recipient) == ["tl"])
        #expect(
            harness.send(
                "report id=\(claimed[0].id) attempt=1 outcome=failed status=404 error=\"HTTP 404 Not Found\"",
                from: Self.notifier
            )?.isOK == true
        )
        harness.stages.committer.step()
        let crit = harness.journal.written.filter { $0.entry[JournalField.priority] == "2" }
        #expect(crit.map { $0.entry[JournalField.messageID] } == [MessageID.notifyFailed, MessageID.nobodyReached])
        // Escalated as if unanswered: quality has nobody, so group-leader is called, and notified.
        #expect(harness.events.suffix(2) == ["skipped", "escalated"])
        let escalated = try #require(harness.journal.written.last { $0.entry[JournalField.event] == "escalated" })
        #expect(escalated.entry[JournalField.by] == "andond")
        #expect(try claim(harness).map(\.recipient) == ["gl"])
    }

    /// While the state cannot be written and as many inputs wait as may, a report is refused before it changes
    /// anything, as a signal is; once the disk is back the same attempt is taken.
    @Test func aReportWaitsNoMoreThanASignalWhileStorageFails() throws {
        let failing = FailingStore.Switch()
        let harness = try StageHarness(
            yaml: Self.yaml,
            options: { $0.commitStore = { FailingStore(store: $0, failing: failing) } }
        )
        defer { harness.remove() }
        harness.stages.committer.waitingLimit = 1
        #expect(harness.send("andon line=L2 station=S1 category=help seq=1")?.isOK == true)
        let claimed = try #require(try claim(harness).first)
        failing.fail(true)
        let box = ReplyBox()
        for seq in 2...3 {
            harness.stages.signals.handle(
                Array("andon line=L2 station=S\(seq) category=help seq=\(seq)".utf8),
                from: StageHarness.controller,
                reply: box.deliver
            )
            harness.stages.committer.step()
        }
        let report = "report id=\(claimed.id) attempt=1 outcome=delivered status=200"
        #expect(harness.send(report, from: Self.notifier)?.errorCode == "storage-failing")
        failing.fail(false)
        harness.stages.committer.step()
        #expect(harness.send(report, from: Self.notifier)?.isOK == true, "the attempt is still in flight")
    }

    @Test func onlyRootAndondAndTheNotifierMayClaim() throws {
        let harness = try StageHarness(yaml: Self.yaml)
        defer { harness.remove() }
        #expect(harness.send("claim", from: StageHarness.user(PlantFixture.teamLeader))?.errorCode == "not-authorized")
        #expect(
            harness.send("report id=1 attempt=1 outcome=delivered", from: StageHarness.user("mallory"))?
                .errorCode == "not-authorized"
        )
        #expect(harness.send("claim", from: StageHarness.root)?.isOK == true)
        #expect(harness.send("deliveries", from: StageHarness.user("anyone"))?.isOK == true)
    }
}

/// The acknowledge link: a call's notification carries a token that acknowledges as its recipient, once, until it
/// expires, and only while the call is open.
@Suite struct AcknowledgeLinkTests {
    static let key = String(repeating: "5a", count: 32)

    func harness() throws -> StageHarness {
        let probe = try StageHarness(yaml: NotificationTests.yaml)
        let keyFile = try probe.writeKey(Self.key, as: "ack.key")
        try probe.write(
            PlantFixture.notifying(
                socket: "/tmp/unused.sock",
                url: "http://127.0.0.1:9",
                extra:
                    "notify: { ack_url: \"https://andon.example/ack/\", ack_key_file: \(keyFile), ack_valid_for: 1h }"
            )
        )
        try probe.crash()
        return probe
    }

    func claim(_ harness: StageHarness) throws -> [DeliveryPayload] {
        try NotificationTests().claim(harness)
    }

    /// Claims and reports delivered until nothing is due; returns every delivery sent.
    func drain(_ harness: StageHarness) throws -> [DeliveryPayload] {
        var sent: [DeliveryPayload] = []
        while true {
            let claimed = try claim(harness)
            if claimed.isEmpty { return sent }
            for delivery in claimed {
                let report = "report id=\(delivery.id) attempt=\(delivery.attempt) outcome=delivered status=200"
                #expect(harness.send(report, from: NotificationTests.notifier)?.isOK == true)
            }
            sent += claimed
        }
    }

    @Test func aTokenAcknowledgesAsItsRecipientOnceEvenAfterACrash() throws {
        let harness = try harness()
        defer { harness.remove() }
        #expect(harness.send("andon line=L1 station=S3 category=help seq=1")?.isOK == true)
        let claimed = try claim(harness)
        let call = try #require(claimed.first { $0.recipient == "tl" })
        let token = try #require(call.ackToken)
        #expect(claimed.first { $0.recipient == "line:L1" }?.ackToken == nil, "a line's update carries no link")
        let decoded = try AckToken.decode(token, key: Array(repeating: 0x5a, count: 32), now: 1_796_000_000).get()
        #expect(decoded.recipient == "tl")
        #expect(decoded.incident == IncidentID(1))
        #expect(decoded.expires == 1_796_000_000 + 3600)

        // Anyone holding the link acknowledges, as the one it was sent to.
        let reply = harness.send("ack token=\(token)", from: StageHarness.user("www-data", uid: 33))
        #expect(reply?.isOK == true)
        #expect(reply?["by"] == PlantFixture.teamLeader)
        let acknowledged = try #require(harness.journal.written.last { $0.entry[JournalField.event] == "acknowledged" })
        #expect(acknowledged.entry[JournalField.note] == "via link")
        #expect(harness.send("ack token=\(token)", from: StageHarness.root)?.errorCode == "bad-value")
        try harness.crash()
        #expect(harness.send("ack token=\(token)", from: StageHarness.root)?.errorCode == "bad-value")
    }

    @Test func aForgedAnExpiredOrALateTokenIsRefused() throws {
        let harness = try harness()
        defer { harness.remove() }
        #expect(harness.send("andon line=L2 station=S3 category=help seq=1")?.isOK == true)
        let token = try #require(try drain(harness).first?.ackToken)
        let forged = token.replacingOccurrences(of: ".tl~", with: ".gl~")
        #expect(harness.send("ack token=\(forged)", from: StageHarness.root)?.errorCode == "bad-value")
        // The call ends: its link acknowledges nothing, and stays usable for nothing else.
        #expect(harness.send("clear line=L2 station=S3 seq=2")?.isOK == true)
        #expect(harness.send("ack token=\(token)", from: StageHarness.root)?.isOK == false)
        #expect(harness.send("andon line=L2 station=S4 category=help seq=3")?.isOK == true)
        let second = try #require(
            try drain(harness).first { $0.content.incident == IncidentID(2) && $0.content.purpose == .call }?.ackToken
        )
        harness.clock.advance(by: .seconds(3600))
        let expired = harness.send("ack token=\(second)", from: StageHarness.root)
        #expect(expired?.errorCode == "bad-value")
        #expect(harness.send("ack token=\(second) id=2", from: StageHarness.root)?.errorCode == "bad-value")
    }
}
