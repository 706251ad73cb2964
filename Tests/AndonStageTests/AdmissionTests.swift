import AndonConfig
import AndonCore
import AndonProtocol
import AndonSimulation
import AndonStore
import AndonSystemd
import AndonTestSupport
import Foundation
import Testing

@testable import AndonDaemon

/// The admission stage, in-process: what a message may become before the engine sees it. The pure step on its own,
/// then with the escalation stage on a manual clock (the retransmit window, key rotation by reload, a restart), with
/// no sockets and no sleeps.
@Suite struct AdmissionTests {
    static let key = String(repeating: "0123456789abcdef", count: 4)
    static let otherKey = String(repeating: "fedcba9876543210", count: 4)
    static let two = Peer.udp("127.0.0.2:40000")

    static func yaml(keyFile: String) -> String { PlantFixture.signed(socket: "/tmp/unused.sock", keyFile: keyFile) }

    static func keyed() throws -> (StageHarness, keyFile: String) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("andond-keys-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let keyFile = directory + "/L1.key"
        try (key + "\n").write(toFile: keyFile, atomically: false, encoding: .utf8)
        chmod(keyFile, 0o400)
        return (try StageHarness(yaml: yaml(keyFile: keyFile)), keyFile)
    }

    static func sign(_ message: String, key: String = AdmissionTests.key, at: Instant) -> String {
        MessageSigning.sign(message, key: Hex.decode(Array(key.utf8))!, at: at.millisecondsSinceEpoch / 1000)
    }

    /// The pure step: a verdict from bytes, a peer, a configuration and an instant.
    @Test func thePureStepParsesOnceAndSaysWhatAMessageMayBecome() throws {
        let now = StageHarness.start
        let configuration = try ConfigurationLoader.parse(
            PlantFixture.yaml(socket: "/tmp/unused.sock"),
            file: "t.yaml",
            now: now
        )
        var senders = SenderChecks()
        func admit(_ text: String, from peer: Peer) -> Admission.Verdict {
            Admission.admit(
                Array(text.utf8),
                from: peer,
                configuration: configuration,
                senders: &senders,
                ownUID: 4242,
                at: now
            )
        }
        guard case .refuse(let bad) = admit("andon line=L1", from: StageHarness.controller) else {
            Issue.record("a signal without its station is refused")
            return
        }
        #expect(bad.code == .missingField)
        guard case .refuse(let control) = admit("status", from: StageHarness.controller) else {
            Issue.record("control over UDP is refused")
            return
        }
        #expect(control.code == .notAuthorized)
        guard
            case .signal(_, let sequence, _, let source, let message, nil) = admit(
                "andon line=L1 station=S1 category=help seq=7",
                from: StageHarness.controller
            )
        else {
            Issue.record("a plain UDP andon goes to the engine")
            return
        }
        #expect(
            sequence == 7 && source == "127.0.0.1:40000" && message == "andon line=L1 station=S1 category=help seq=7"
        )
        guard case .deny = admit("ack id=1", from: StageHarness.user(PlantFixture.outsider)) else {
            Issue.record("a user who is no responder may not answer")
            return
        }
        guard
            case .action(_, _, .responder(let responder), _) = admit(
                "ack id=1",
                from: StageHarness.user(PlantFixture.teamLeader)
            )
        else {
            Issue.record("a responder answers as themselves")
            return
        }
        #expect(responder.rawValue == "tl")
        guard case .action(_, _, .administrator, _) = admit("resolve id=1 note=done", from: StageHarness.root) else {
            Issue.record("root answers as an administrator")
            return
        }
        guard case .deny = admit("reload", from: StageHarness.user(PlantFixture.teamLeader)),
            case .control(.reload) = admit("reload", from: StageHarness.user("andond", uid: 4242))
        else {
            Issue.record("only root and andond's own user reload")
            return
        }
    }

    /// Unlisted, unsigned, forged, altered, stale and replayed signals are refused with their codes and change
    /// nothing; a retransmit signed afresh gets the first reply; a restart does not make a captured message new.
    @Test func whoMaySendIsCheckedBeforeTheEngineAndAcrossARestart() throws {
        let (harness, _) = try Self.keyed()
        defer { harness.remove() }
        let now = harness.clock.now
        let good = Self.sign("stop line=L1 reason=jam seq=1", at: now)
        #expect(harness.send(good, from: Self.two)?.errorCode == "not-authorized", "a signed L1 stop from 127.0.0.2")
        #expect(harness.send("stop line=L2 reason=jam")?.errorCode == "not-authorized", "an L2 stop from 127.0.0.1")
        #expect(harness.send("stop line=L1 reason=jam")?.errorCode == "unsigned")
        #expect(
            harness.send(Self.sign("stop line=L1 reason=jam", key: Self.otherKey, at: now))?.errorCode
                == "bad-signature"
        )
        #expect(
            harness.send(good.replacingOccurrences(of: "reason=jam", with: "reason=fire"))?.errorCode == "bad-signature"
        )
        #expect(harness.send(Self.sign("stop line=L1", at: now - .seconds(120)))?.errorCode == "stale")
        #expect(harness.send(Self.sign("stop line=L1", at: now + .seconds(120)))?.errorCode == "stale")
        #expect(harness.stages.escalation.engine.openIncidentCount == 0, "nothing refused had an effect")

        #expect(harness.send(good)?.isOK == true)
        #expect(harness.send(good)?.errorCode == "replayed")
        let first = harness.send(Self.sign("andon line=L1 station=S2 category=help seq=9", at: now))
        harness.clock.advance(by: .seconds(1))
        let resent = harness.send(Self.sign("andon line=L1 station=S2 category=help seq=9", at: harness.clock.now))
        #expect(first?.isOK == true && resent?.rendered == first?.rendered, "a re-signed retransmit: the first reply")
        #expect(harness.stages.escalation.engine.openIncidents.first { $0.station?.rawValue == "S2" }?.signalCount == 1)
        #expect(harness.send("stop line=L2 reason=jam", from: Self.two)?.isOK == true, "L2 from its sender")
        #expect(harness.send("stop line=L3")?.isOK == true, "L3 names no senders and no key")
        #expect(harness.stages.escalation.engine.openIncidentCount == 4)
        let counted = harness.stages.signals.statusView(line: nil, limit: nil).counters
        #expect(
            counted["rejected-not-authorized"] == 2 && counted["rejected-stale"] == 2 && counted["retransmits"] == 1
        )

        try harness.crash()
        #expect(harness.send(good)?.errorCode == "replayed", "after a restart")
        #expect(harness.stages.escalation.engine.openIncidentCount == 4)
        // Refusals are journaled, at most one warning per source a minute.
        let warnings = harness.journal.written.filter { $0.entry[JournalField.messageID] == MessageID.rejectedInput }
        #expect(warnings.count == 3, "127.0.0.1 before and after the restart, 127.0.0.2 once")
    }

    /// A reload that replaces L1's key: both keys for the overlap (3 s), then only the new one; to the millisecond.
    @Test func aReloadRotatesTheKeyAndTheOldOneIsTakenForTheOverlapOnly() throws {
        let (harness, keyFile) = try Self.keyed()
        defer { harness.remove() }
        #expect(harness.send(Self.sign("heartbeat line=L1 seq=1", at: harness.clock.now))?.isOK == true)
        chmod(keyFile, 0o600)
        try (Self.otherKey + "\n").write(toFile: keyFile, atomically: false, encoding: .utf8)
        chmod(keyFile, 0o400)
        #expect(harness.send("reload", from: StageHarness.root)?.isOK == true)
        let reloaded = harness.clock.now
        #expect(harness.send(Self.sign("heartbeat line=L1 seq=2", key: Self.otherKey, at: reloaded))?.isOK == true)
        #expect(
            harness.send(Self.sign("heartbeat line=L1 seq=3", at: reloaded))?.isOK == true,
            "the old key, meanwhile"
        )
        harness.clock.advance(to: reloaded + .milliseconds(2_999))
        #expect(harness.send(Self.sign("heartbeat line=L1 seq=4", at: reloaded))?.isOK == true, "still, at 2.999 s")
        harness.clock.advance(to: reloaded + .seconds(3))
        #expect(harness.send(Self.sign("heartbeat line=L1 seq=5", at: reloaded))?.errorCode == "bad-signature")
        #expect(harness.send(Self.sign("heartbeat line=L1 seq=6", key: Self.otherKey, at: reloaded))?.isOK == true)

        // A key file that cannot be read refuses the reload, at its position; the key in use stays.
        try FileManager.default.removeItem(atPath: keyFile)
        let refused = harness.send("reload", from: StageHarness.root)
        #expect(refused?.errorCode == "invalid-configuration")
        if case .error(let error) = refused {
            #expect(error.details.contains { $0.contains("andond.yaml:") }, "\(error)")
        }
        #expect(harness.send(Self.sign("heartbeat line=L1 seq=7", key: Self.otherKey, at: reloaded))?.isOK == true)
        #expect(harness.send(Self.sign("heartbeat line=L1 seq=8", at: reloaded))?.errorCode == "bad-signature")
        let rejected = harness.journal.written.filter { $0.entry[JournalField.messageID] == MessageID.reloadRejected }
        #expect(rejected.count == 1)
    }
}
