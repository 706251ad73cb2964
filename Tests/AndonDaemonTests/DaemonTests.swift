import AndonProtocol
import AndonTestSupport
import Foundation
import Glibc
import Testing

/// andond for real: the built binary, real sockets, the real journal (read back by the daemon's `_PID` since it started).
@Suite(.serialized) struct DaemonTests {
    static let usersReady: Bool = {
        guard getuid() == 0 else { return false }
        return (try? DaemonHarness.ensureUsers()) != nil
    }()

    static let raisedFields = [
        "MESSAGE", "PRIORITY", "MESSAGE_ID", "SYSLOG_IDENTIFIER", "ANDON_EVENT", "ANDON_INCIDENT", "ANDON_KIND",
        "ANDON_LINE",
        "ANDON_STATION", "ANDON_CATEGORY", "ANDON_TIER", "ANDON_RESPONDER", "ANDON_ELAPSED_MS", "ANDON_SOURCE",
        "ANDON_SEQ",
    ]

    @Test func aUDPAndonIsRaisedAndJournaledWithEveryField() throws {
        #expect(Self.usersReady, "the tests run as root and create their users")
        let daemon = try DaemonHarness()
        let client = try UDPSocket()
        let reply = try daemon.udp("andon line=L1 station=S3 category=quality seq=1", from: client)
        #expect(reply == "ok incident=1 event=raised tier=team-leader responders=\(DaemonHarness.teamLeader) seq=1")
        let raised = try #require(try daemon.events(of: "1", count: 1).first)
        for field in Self.raisedFields { #expect(raised[field] != nil, "raised entry lacks \(field)") }
        #expect(raised["ANDON_EVENT"] == "raised")
        #expect(raised["MESSAGE_ID"] == "58476d10d29440bcaeb1cf5033ff779f")
        #expect(raised["SYSLOG_IDENTIFIER"] == "andond")
        #expect(raised["PRIORITY"] == "4")
        #expect(raised["ANDON_KIND"] == "andon")
        #expect(raised["ANDON_LINE"] == "L1")
        #expect(raised["ANDON_STATION"] == "S3")
        #expect(raised["ANDON_CATEGORY"] == "quality")
        #expect(raised["ANDON_TIER"] == "team-leader")
        #expect(raised["ANDON_RESPONDER"] == DaemonHarness.teamLeader)
        #expect(raised["ANDON_ELAPSED_MS"] == "0")
        #expect(raised["ANDON_SOURCE"] == "127.0.0.1:\(client.localPort)")
        #expect(raised["ANDON_SEQ"] == "1")
        #expect(raised["MESSAGE"] == "Quality andon on L1/S3: calling team-leader tl (\(DaemonHarness.teamLeader))")
        #expect(daemon.stop() == 0)
    }

    @Test func theUnixSocketTakesTheSameSignalsAndRecordsTheSendersUID() throws {
        let daemon = try DaemonHarness()
        let replies = try daemon.stream([
            Array("andon line=L2 station=S1 category=help text=\"bolt missing\"\n".utf8),
            Array("andon line=L2 station=S1 category=help\n".utf8),
            Array("stop line=L2 station=S1 reason=jam seq=5\n".utf8),
            Array("clear line=L2 station=S1\n".utf8),
            Array("resume line=L2\n".utf8),
            Array("heartbeat line=L2\n".utf8),
        ])
        #expect(
            replies == [
                "ok incident=1 event=raised tier=team-leader responders=\(DaemonHarness.teamLeader)",
                "ok incident=1 event=repeated count=2",
                "ok incident=1 event=promoted tier=team-leader responders=\(DaemonHarness.teamLeader) seq=5",
                "ok note=\"incident 1 is a line stop; it ends when the line resumes\"",
                "ok incident=1 event=resumed",
                "ok",
            ]
        )
        let events = try daemon.events(of: "1", count: 4)
        #expect(events.map { $0["ANDON_EVENT"] } == ["raised", "repeated", "promoted", "resumed"])
        #expect(events[0]["ANDON_SOURCE"] == "uid=0(root)")
        #expect(events[0]["ANDON_REASON"] == "bolt missing")
        #expect(events[2]["ANDON_KIND"] == "stop")
        #expect(events[2]["PRIORITY"] == "3")
        #expect(events[2]["ANDON_SEQ"] == "5")
        #expect(events[3]["ANDON_WAITED_MS"].flatMap(Int.init).map { $0 >= 0 } == true)
    }

    @Test func escalationSkipsTheEmptyTierAndEndsRepeatingAtKPOToTheMillisecond() throws {
        let daemon = try DaemonHarness()
        #expect(try daemon.udp("andon line=L1 station=S9 category=help").hasPrefix("ok incident=1 "))
        // raised; +1s quality skipped at once, escalated to group-leader; +2s escalated to kpo; +3s, +4s unanswered.
        let events = try daemon.events(of: "1", count: 6, timeout: 15)
        #expect(
            events.prefix(6).map { $0["ANDON_EVENT"] } == [
                "raised", "skipped", "escalated", "escalated", "unanswered", "unanswered",
            ]
        )
        #expect(
            events.prefix(6).map { $0["ANDON_TIER"] } == [
                "team-leader", "quality", "group-leader", "kpo", "kpo", "kpo",
            ]
        )
        #expect(events.prefix(6).map { $0["ANDON_ELAPSED_MS"] } == ["0", "1000", "1000", "2000", "3000", "4000"])
        #expect(events.prefix(6).map { $0["PRIORITY"] } == ["4", "5", "4", "1", "2", "1"])
        #expect(events[2]["ANDON_RESPONDER"] == DaemonHarness.groupLeader)
        // Shift a runs 00-12, b 12-24 (Berlin): whichever is on now.
        let emptyRota = ["a", "b"].map { "rota quality has nobody on duty on shift \($0)" }
        #expect(emptyRota.contains(events[1]["ANDON_REASON"] ?? ""))
        #expect(events[3]["ANDON_RESPONDER"] == DaemonHarness.kpoMember)
        #expect(events[4]["ANDON_COUNT"] == "1")
        #expect(events[4]["MESSAGE"]?.hasPrefix("UNANSWERED Help andon on L1/S9") == true)
    }

    @Test func acknowledgingIsForNotifiedRespondersKPOAndRootOnly() throws {
        try #require(Self.usersReady, "needs root to create test users")
        let daemon = try DaemonHarness()
        #expect(try daemon.udp("andon line=L3 station=S1 category=material").hasPrefix("ok incident=1 "))
        // On no rota at all.
        let outsider = try daemon.andonctl(["ack", "1"], as: DaemonHarness.outsider)
        #expect(outsider.status == 77)
        #expect(outsider.stderr.contains("user \(DaemonHarness.outsider)"))
        #expect(outsider.stderr.contains("is not a responder in the configuration"))
        // On a rota, but not notified for this call (yet).
        let groupLeader = try daemon.andonctl(["ack", "1"], as: DaemonHarness.groupLeader)
        #expect(groupLeader.status == 77)
        #expect(
            groupLeader.stderr.contains("gl (andontest-gl) was not notified for incident 1 and is not on the KPO rota")
        )
        // The team leader, notified, may.
        let teamLeader = try daemon.andonctl(["ack", "1", "--note", "on my way"], as: DaemonHarness.teamLeader)
        #expect(teamLeader.status == 0, "\(teamLeader.stderr)")
        #expect(teamLeader.stdout == "acknowledged incident 1\n")
        let events = try daemon.events(of: "1", count: 2)
        #expect(events.map { $0["ANDON_EVENT"] } == ["raised", "acknowledged"])
        #expect(events[1]["ANDON_BY"] == DaemonHarness.teamLeader)
        #expect(events[1]["ANDON_NOTE"] == "on my way")
        #expect(events[1]["MESSAGE_ID"] == "46a2b6f0b3584c2b900bada52bfaaeac")
        // A KPO member may act on any call; here: resolve it with the countermeasure.
        let resolve = try daemon.andonctl(
            ["resolve", "1", "--note", "new feeder spring fitted"],
            as: DaemonHarness.kpoMember
        )
        #expect(resolve.status == 0, "\(resolve.stderr)")
        let resolved = try daemon.events(of: "1", count: 3)[2]
        #expect(resolved["ANDON_EVENT"] == "resolved")
        #expect(resolved["ANDON_NOTE"] == "new feeder spring fitted")
        #expect(resolved["ANDON_BY"] == DaemonHarness.kpoMember)
        // Nothing escalates any more.
        usleep(1_500_000)
        #expect(try daemon.events(of: "1", count: 3).count == 3)
    }

    @Test func statusAckResolveAndEscalateThroughAndonctl() throws {
        let daemon = try DaemonHarness()
        #expect(
            try daemon.andonctl(["raise", "--line", "L1", "--station", "S4", "--category", "maintenance"]).status == 0
        )
        let status = try daemon.andonctl(["status"])
        #expect(status.status == 0)
        #expect(status.stdout.hasPrefix("1 open call at Test plant\n"))
        #expect(status.stdout.contains("1   L1    S4       andon  maintenance  1/4 team-leader"))
        let json = try daemon.andonctl(["status", "--json"])
        let report = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        let incidents = report?["incidents"] as? [[String: Any]]
        #expect(incidents?.first?["line"] as? String == "L1")
        #expect(incidents?.first?["responders"] as? [String] == [DaemonHarness.teamLeader])
        #expect(
            try daemon.andonctl(["escalate", "1", "--reason", "needs a crane"]).stdout
                == "escalated incident 1 to group-leader\n"
        )
        #expect(try daemon.andonctl(["ack", "1"]).status == 0)
        // Acknowledged at group-leader, which has resolve_within 2s: overdue, on to KPO.
        let events = try daemon.events(of: "1", count: 5, timeout: 10)
        #expect(
            events.prefix(5).map { $0["ANDON_EVENT"] } == ["raised", "skipped", "escalated", "acknowledged", "overdue"]
        )
        #expect(events[2]["ANDON_BY"] == "root")
        #expect(events[2]["ANDON_NOTE"] == "needs a crane")
        #expect(events[4]["ANDON_TIER"] == "kpo")
        let missing = try daemon.andonctl(["resolve", "42", "--note", "x"])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("no open incident 42"))
        let who = try daemon.andonctl(["who", "--line", "L1", "--station", "S4", "--category", "quality"])
        #expect(who.stdout.contains("skipped at once: rota quality has nobody on duty"))
    }

    @Test func everyProtocolVectorGetsItsReplyOverUDPAndTheSocket() throws {
        let daemon = try DaemonHarness(configuration: { socket in
            // The shared vectors are written for the example configuration's lines L1-L3.
            DaemonHarness.configuration(socket: socket)
        })
        let vectors = ProtocolVector.all
        #expect(vectors.count == 28 + 10 + 13)  // the shared ones and andond's own
        let client = try UDPSocket()
        for vector in vectors {
            let reply = try daemon.udp(vector.bytes, from: client)
            #expect(vector.matches(reply), "UDP \(vector.source): \(reply)")
        }
        let streamable = vectors.filter { !$0.udpOnly }
        let replies = try daemon.stream(streamable.map { $0.bytes + [UInt8(ascii: "\n")] })
        #expect(replies.count == streamable.count)
        for (vector, reply) in zip(streamable, replies) {
            #expect(vector.matches(reply), "UNIX \(vector.source): \(reply)")
        }
    }

    @Test func malformedInputIsAnsweredCountedAndWarnedAboutOnceWhileGoodSignalsGoOn() throws {
        let daemon = try DaemonHarness()
        let client = try UDPSocket()
        var bad: [[UInt8]] = [
            [], Array("   ".utf8), Array("andon".utf8), Array("andon line=L1".utf8),
            Array("andon line=L1 station=S1".utf8),
            Array("hello world".utf8), Array("andon line=L1 station=S1 category=fun".utf8),
            Array("andon line=L1 station=S1 category=help speed=9".utf8),
            Array("andon line=L1 station=S1 category=help seq=-1".utf8),
            Array("andon line=L1 station=S/1 category=help".utf8),
            Array("andon line=\"L1\" station=S1 category=help text=\"a".utf8),
            Array("andon line=L1 station=S1 category=help text=\"\u{1B}]0;pwned\u{07}\"".utf8),
            Array("andon line=L1 station=S1 category=help MESSAGE=forged".utf8),
            Array("andon line=L1 station=S1 category=help text=\"x\"\nPRIORITY=0".utf8),
            [0xFF, 0xFE, 0x00], Array("andon line=L1 station=S1 category=help\0".utf8),
            Array("andon line=L9 station=S1 category=help".utf8),
            Array("stop line=".utf8), Array("resume".utf8), Array("status".utf8), Array("ack id=1".utf8),
            Array(repeating: UInt8(ascii: "a"), count: 1500), Array(repeating: UInt8(ascii: "x"), count: 2049),
        ]
        bad.append(Array(("andon line=L1 station=S1 category=help text=" + String(repeating: "y", count: 1000)).utf8))
        #expect(bad.count >= 20)
        for message in bad {
            let reply = try daemon.udp(message, from: client)
            #expect(reply.hasPrefix("err code="), "\(String(decoding: message.prefix(60), as: UTF8.self)): \(reply)")
        }
        // The same host from other source ports (nc -u, socat: a new port per message) is the same sender.
        for _ in 1...3 { #expect(try daemon.udp("explode line=L1").hasPrefix("err code=unknown-verb")) }
        // Still serving, and nothing was opened by the bad input.
        #expect(
            try daemon.udp("andon line=L1 station=S1 category=help", from: client)
                == "ok incident=1 event=raised tier=team-leader responders=\(DaemonHarness.teamLeader)"
        )
        let warnings = try daemon.journal { entries in entries.contains { $0["ANDON_EVENT"] == "raised" } }
            .filter { $0["MESSAGE_ID"] == "f63ee7b1f2f14ddfb0b473b3b6130fa0" }
        #expect(warnings.count == 1, "one warning per source per interval")
        #expect(warnings.first?["ANDON_SOURCE"] == "127.0.0.1:\(client.localPort)")
        #expect(warnings.first?["PRIORITY"] == "4")
        let status = try daemon.andonctl(["status", "--json"])
        let counters =
            (try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any])?["counters"]
            as? [String: Int]
        let rejected = counters?.filter { $0.key.hasPrefix("rejected-") }.values.reduce(0, +)
        #expect(rejected == bad.count + 3)
    }

    @Test func aLineOverTheLimitOnTheSocketIsRefusedAndTheConnectionGoesOn() throws {
        let daemon = try DaemonHarness()
        let long = Array(
            ("andon line=L1 station=S1 category=help text=" + String(repeating: "z", count: 5000) + "\n").utf8
        )
        let replies = try daemon.stream([long, Array("andon line=L1 station=S2 category=help\n".utf8)])
        #expect(replies.count == 2)
        #expect(replies.first?.hasPrefix("err code=too-long") == true)
        #expect(replies.last?.hasPrefix("ok incident=1 ") == true)
    }

    @Test func aSenderThatShutsDownItsSideAtOnceStillGetsEveryReply() throws {
        // `echo ... | socat - UNIX-CONNECT:/run/andond.sock` and `nc -N -U` send, then shut down their side.
        let daemon = try DaemonHarness()
        let replies = try daemon.streamThenShutdown(
            "andon line=L1 station=S1 category=help seq=1\nping\nandon line=L9 station=S1 category=help\n"
                + "andon line=L1 station=S2 category=help seq=3"  // the last line without its newline
        )
        let lines = replies.split(separator: "\n").map(String.init)
        #expect(lines.count == 4)
        #expect(
            lines.first == "ok incident=1 event=raised tier=team-leader responders=\(DaemonHarness.teamLeader) seq=1"
        )
        #expect(lines.dropFirst().first?.hasPrefix("ok version=") == true)
        #expect(lines.dropFirst(2).first?.hasPrefix("err code=unknown-line ") == true)
        #expect(
            lines.last == "ok incident=2 event=raised tier=team-leader responders=\(DaemonHarness.teamLeader) seq=3"
        )
    }

    @Test func aLargeStatusReachesWholeAClientThatShutsDownItsSide() throws {
        // More than a socket buffer holds: closing after the reply was queued, not written, used to cut it short.
        let daemon = try DaemonHarness()
        let raised = try daemon.streamThenShutdown(
            (1...1_500).map { "andon line=L1 station=S\($0) category=help\n" }.joined()
        )
        #expect(raised.split(separator: "\n").filter { $0.hasPrefix("ok incident=") }.count == 1_500)
        let reply = try daemon.streamThenShutdown("status limit=0\n")
        #expect(reply.utf8.count > 400_000)
        #expect(reply.hasSuffix("\n"))
        guard case .ok(let fields) = try Reply.parse(String(reply.dropLast())).get(),
            let json = fields.first(where: { $0.key == "json" })?.value
        else {
            Issue.record("not an ok reply with json: \(reply.prefix(200))")
            return
        }
        let status = try JSONDecoder().decode(StatusReport.self, from: Data(json.utf8))
        #expect(status.incidents.count == 1_500)
        #expect(status.incidents.map(\.id) == Array(1...1_500))
    }

    @Test func sigtermStopsCleanlyAndFlushesTheJournal() throws {
        let daemon = try DaemonHarness()
        for station in 1...50 { _ = try daemon.udp("andon line=L1 station=S\(station) category=help") }
        #expect(daemon.stop() == 0)
        let entries = try daemon.journal { entries in
            entries.contains { $0["MESSAGE_ID"] == "3e8684b2af1e48c9ac1af65708518105" }
        }
        #expect(entries.filter { $0["ANDON_EVENT"] == "raised" }.count == 50)
        #expect(entries.contains { $0["MESSAGE_ID"] == "b10e75c33f344915952a3729bd4288b7" })
        #expect(entries.contains { $0["MESSAGE_ID"] == "3e8684b2af1e48c9ac1af65708518105" })
    }

    /// After a reload andond looks 14 days ahead: the test plant's `quality` rota never has anyone, so its tier is
    /// skipped, and the check says so with its own MESSAGE_ID (a KPO gap would be `crit`; see RotaTests).
    @Test func aReloadChecksTheComingDaysCoverage() throws {
        let daemon = try DaemonHarness()
        #expect(try daemon.andonctl(["reload"]).status == 0)
        let entries = try daemon.journal { $0.contains { $0["MESSAGE_ID"] == "d9719c8f76aa47f485a2500e41bc1e79" } }
        let gap = entries.first { $0["MESSAGE_ID"] == "d9719c8f76aa47f485a2500e41bc1e79" }
        #expect(gap?["ANDON_ROTA"] == "quality")
        #expect(gap?["PRIORITY"] == "4")
        #expect(gap?["MESSAGE"]?.hasPrefix("rota quality will have nobody on duty from ") == true)
        #expect(!entries.contains { $0["MESSAGE_ID"] == "dab6251384e645e2a2cc598d4a56b16d" }, "KPO is covered")
    }

    @Test func reloadSwapsInAValidConfigurationAndRefusesABrokenOneWithEveryError() throws {
        let daemon = try DaemonHarness()
        let first = try daemon.udp("andon line=L1 station=S1 category=help")
        #expect(first.hasPrefix("ok incident=1 event=raised tier=team-leader responders=\(DaemonHarness.teamLeader)"))
        let good = try String(contentsOfFile: daemon.configPath, encoding: .utf8)

        // Two errors at once: both come back to andonctl, positioned, and andond keeps what it runs.
        try good.replacingOccurrences(of: "coalesce_within: 1m\n", with: "coalesce_within: 1m\nbogus_key: 1\n")
            .replacingOccurrences(
                of: "team-leader: { by_shift: { a: [tl]",
                with: "team-leader: { by_shift: { a: [nobody]"
            )
            .write(toFile: daemon.configPath, atomically: true, encoding: .utf8)
        let refused = try daemon.andonctl(["reload"])
        #expect(refused.status == 1)
        let errors = refused.stderr.split(separator: "\n").filter { $0.contains(": error: ") }
        #expect(errors.count == 2)
        #expect(refused.stderr.hasPrefix("andonctl: reload refused: 2 errors in \(daemon.configPath);"))
        #expect(refused.stderr.contains("\(daemon.configPath):4:1: error: unknown key 'bogus_key'"))
        #expect(refused.stderr.contains("\(daemon.configPath):13:34: error: unknown responder 'nobody'"))
        #expect(refused.stderr.contains("    hint: responders: gl, k, tl"))
        let stillTeamLeader = try daemon.udp("andon line=L1 station=S2 category=help")
        #expect(stillTeamLeader.hasSuffix("responders=\(DaemonHarness.teamLeader)"))
        let rejected = try daemon.journal { $0.contains { $0["MESSAGE_ID"] == "f53e0ea12fa5428da9f266dd3f68fcf1" } }
            .first { $0["MESSAGE_ID"] == "f53e0ea12fa5428da9f266dd3f68fcf1" }
        #expect(rejected?["PRIORITY"] == "3")
        #expect(rejected?["ANDON_CONFIG_ERROR"]?.contains("unknown key 'bogus_key'") == true)

        // A changed rota: swapped in, reported, and followed by the next call.
        try good.replacingOccurrences(
            of: "team-leader: { by_shift: { a: [tl], b: [tl] } }",
            with: "team-leader: { by_shift: { a: [gl], b: [gl] } }"
        )
        .write(toFile: daemon.configPath, atomically: true, encoding: .utf8)
        let outsider = try daemon.andonctl(["reload"], as: DaemonHarness.outsider)
        #expect(outsider.status == 77)
        #expect(outsider.stderr.contains("only root and andond's own user may reload the configuration"))
        let reloaded = try daemon.andonctl(["reload"])
        #expect(reloaded.status == 0)
        #expect(
            reloaded.stdout.contains("configuration reloaded: 1 change\n  rota team-leader changed: joined gl; left tl")
        )
        let next = try daemon.udp("andon line=L1 station=S3 category=help")
        #expect(next.hasSuffix("responders=\(DaemonHarness.groupLeader)"))
    }

    @Test func anInvalidConfigurationStopsTheStartWithItsErrors() throws {
        #expect(throws: HarnessError.self) {
            _ = try DaemonHarness(configuration: { socket in
                DaemonHarness.configuration(socket: socket).replacingOccurrences(
                    of: "    - { tier: kpo, ack_within: 1s, repeat_every: 1s }\n",
                    with: ""
                )
            })
        }
    }
}
