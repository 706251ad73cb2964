import AndonCore
import Foundation
import Testing

/// Defects a plant found (issue 20) at the layer that owns them: the daemon's start and reload.
@Suite struct PlantFoundDaemonTests {
    /// The test plant with KPO away for an hour tomorrow (Berlin time): a KPO gap within 14 days.
    static func kpoGapTomorrow(socket: String) -> String {
        let berlin = SiteTimeZone(identifier: "Europe/Berlin")!  // always in the time zone database
        let now = Instant(millisecondsSinceEpoch: Int64(Date().timeIntervalSince1970 * 1000))
        let from = berlin.local(now + .seconds(86_400))
        let until = berlin.local(now + .seconds(86_400 + 3600))
        return DaemonHarness.configuration(socket: socket).replacingOccurrences(
            of: "kpo: { by_shift: { a: [k], b: [k] } }",
            with: #"kpo: { by_shift: { a: [k], b: [k] }, overrides: [{ from: "\#(from)", "#
                + #"until: "\#(until)", replaces: k }] }"#
        )
    }

    /// D2: a KPO gap ahead never stops andond from starting (the next restart would leave the open calls on disk
    /// unfollowed): it starts, and says so in a `crit` entry with its MESSAGE_ID and in `STATUS=`.
    @Test func andondStartsWithAKPOGapAheadAndReportsIt() throws {
        let notify = try NotifySocket()
        let daemon = try DaemonHarness(
            configuration: Self.kpoGapTomorrow,
            environment: ["NOTIFY_SOCKET": notify.path]
        )
        #expect(try daemon.udp("andon line=L1 station=S1 category=help").hasPrefix("ok incident=1"))
        let entries = try daemon.journal { $0.contains { $0["MESSAGE_ID"] == "dab6251384e645e2a2cc598d4a56b16d" } }
        let gap = try #require(entries.first { $0["MESSAGE_ID"] == "dab6251384e645e2a2cc598d4a56b16d" })
        #expect(gap["PRIORITY"] == "2")
        #expect(gap["MESSAGE"]?.hasPrefix("KPO will have nobody on duty from ") == true)
        _ = try notify.receive { $0.contains("KPO GAP from ") }
        // check-config, which a person runs to mend it, still refuses it.
        let check = try DaemonHarness.runAndonctl(["check-config", daemon.configPath])
        #expect(check.status == 1)
        // So does a reload, and andond goes on with what it runs.
        #expect(try daemon.andonctl(["reload"]).status == 1)
        #expect(try daemon.andonctl(["status"]).status == 0)
    }

    /// D8: a reload that removes a line with open calls is refused with the count; once they are closed it goes.
    @Test func aReloadThatRemovesALineWithOpenCallsIsRefused() throws {
        let daemon = try DaemonHarness()
        #expect(try daemon.udp("andon line=L3 station=S1 category=help").hasPrefix("ok incident=1"))
        #expect(try daemon.udp("stop line=L3 station=S2").hasPrefix("ok incident=2"))
        let good = try String(contentsOfFile: daemon.configPath, encoding: .utf8)
        try good.replacingOccurrences(of: "  L3: { description: line three }\n", with: "")
            .replacingOccurrences(of: "  L3: { description: line three }", with: "")
            .write(toFile: daemon.configPath, atomically: true, encoding: .utf8)
        let refused = try daemon.andonctl(["reload"])
        #expect(refused.status == 1)
        #expect(
            refused.stderr.contains(
                "the new configuration removes a line that has open calls: line L3 has 2 open calls (incidents 1, 2)"
            ),
            "\(refused.stderr)"
        )
        // The line still takes its controller's signals.
        #expect(try daemon.udp("resume line=L3").hasPrefix("ok incident=2 event=resumed"))
        #expect(try daemon.udp("clear line=L3 station=S1").hasPrefix("ok"))
        let entries = try daemon.journal { $0.contains { $0["MESSAGE_ID"] == "f53e0ea12fa5428da9f266dd3f68fcf1" } }
        #expect(entries.contains { $0["MESSAGE"]?.contains("line L3 has 2 open calls") == true })
        // Nothing open on L3 any more: the same reload goes.
        let reloaded = try daemon.andonctl(["reload"])
        #expect(reloaded.status == 0, "\(reloaded.stderr)")
        #expect(try daemon.udp("andon line=L3 station=S1 category=help").contains("code=unknown-line"))
    }

    /// D5: a user who may not read the system journal gets exit 77 and the group to join from `tail` and
    /// `report`, not an empty week.
    @Test func tailAndReportWithoutJournalAccessSaySo() throws {
        try #require(DaemonTests.usersReady, "needs root to create test users")
        let daemon = try DaemonHarness()
        let replay = ["replay", "--source", "journal", "--config", daemon.configPath]
        for arguments in [["report"], ["tail", "--no-follow"], replay] {
            let (status, stdout, stderr) = try DaemonHarness.runAndonctl(arguments, as: DaemonHarness.outsider)
            #expect(status == 77, "andonctl \(arguments): \(stdout) \(stderr)")
            #expect(stdout.isEmpty, "andonctl \(arguments) printed \(stdout)")
            #expect(stderr.contains("cannot read the system journal"), "\(stderr)")
            #expect(stderr.contains("usermod -aG systemd-journal \(DaemonHarness.outsider)"), "\(stderr)")
        }
    }

    /// D16: a datagram longer than andond's buffer is refused with its real size, and the next one is taken.
    @Test func aLongDatagramIsRefusedWithItsRealSize() throws {
        let daemon = try DaemonHarness()
        let long = "andon line=L1 station=S1 category=help text=" + String(repeating: "z", count: 65_000 - 44)
        #expect(long.utf8.count == 65_000)
        let reply = try daemon.udp(long)
        #expect(reply == #"err code=too-long reason="message of 65000 bytes; at most 1024 are allowed""#, "\(reply)")
        let medium = "andon line=L1 station=S1 category=help text=" + String(repeating: "z", count: 1500)
        #expect(try daemon.udp(medium).contains("message of 1544 bytes"))
        #expect(try daemon.udp("andon line=L1 station=S2 category=help").hasPrefix("ok incident=1 "))
    }

    /// D16: a socket that cannot be bound is said as the shell says it, without NIO's internals.
    @Test func aBindErrorReadsAsTheSystemSaysIt() throws {
        let daemon = try DaemonHarness()
        let result = try DaemonHarness.runAndond([
            "--config", daemon.configPath, "--socket", "/nonexistent/andond-test/andond.sock", "--udp", "127.0.0.1:0",
            "--state-directory", daemon.stateDirectory + "-bind",
        ])
        #expect(result.status == 1)
        #expect(
            result.stderr.contains(
                "cannot listen on unix /nonexistent/andond-test/andond.sock: No such file or directory"
            )
        )
        #expect(!result.stderr.contains("descriptor:"), "\(result.stderr)")
        try? FileManager.default.removeItem(atPath: daemon.stateDirectory + "-bind")
    }
}
