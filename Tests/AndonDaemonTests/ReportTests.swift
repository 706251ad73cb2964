import AndonTestSupport
import Foundation
import Glibc
import Testing

/// `andonctl report` on a journal that andond writes while its clock is set by the test: libfaketime reads the wall
/// time from a file on every call, so each step happens at an exact instant (the monotonic clock is left alone, so
/// timers and the event loop run as usual). Every figure below is worked out by hand from the timeline.
@Suite struct ReportTests {
    static let faketime = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"

    /// Long timeouts: nothing escalates by itself in the timeline; escalations are by hand.
    static func configuration(socket: String) -> String {
        PlantFixture.yaml(
            socket: socket,
            site: "Report plant",
            within: "2h",
            resolveWithin: nil,
            settings: ["remind_every: 12h"]
        )
    }

    @Test func theReportsFiguresAreTheTimelines() throws {
        try #require(DaemonTests.usersReady, "needs root to create test users")
        try #require(
            FileManager.default.fileExists(atPath: Self.faketime),
            "needs libfaketime (apt-get install faketime)"
        )
        let clock = FileManager.default.temporaryDirectory.appendingPathComponent("andond-clock-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: clock) }
        // UTC times; the plant is in Europe/Berlin (UTC+1 in November): shift a is 23:00-11:00 UTC, b 11:00-23:00.
        func at(_ time: String) throws {
            try "2026-11-30 \(time)\n".write(to: clock, atomically: true, encoding: .utf8)
        }
        try at("09:59:00")
        let daemon = try DaemonHarness(
            configuration: Self.configuration,
            environment: [
                "LD_PRELOAD": Self.faketime, "FAKETIME_TIMESTAMP_FILE": clock.path, "FAKETIME_NO_CACHE": "1",
                "DONT_FAKE_MONOTONIC": "1", "TZ": "UTC",
                // Without it, libfaketime's constructor calls setenv, and the Swift runtime, which finds argv by
                // walking back from environ, sees no arguments at all. A name that opens nothing stops the setenv.
                "FAKETIME_SHARED": "/andond-test-none /andond-test-none",
            ]
        )
        func ok(_ reply: String, _ comment: Comment) { #expect(reply.hasPrefix("ok"), comment) }
        func act(_ arguments: [String], as user: String? = nil) throws {
            let result = try daemon.andonctl(arguments, as: user)
            #expect(result.status == 0, "andonctl \(arguments): \(result.stderr)")
        }
        let tl = DaemonHarness.teamLeader
        let gl = DaemonHarness.groupLeader
        let kpo = DaemonHarness.kpoMember

        try at("10:00:00")
        ok(try daemon.udp("andon line=L1 station=S1 category=quality"), "#1")
        try at("10:02:00")
        try act(["ack", "1"], as: tl)
        try at("10:05:00")
        ok(try daemon.udp("andon line=L1 station=S2 category=maintenance"), "#2")
        try at("10:05:30")
        try act(["escalate", "2", "--reason", "team leader busy"])
        try at("10:06:00")
        try act(["ack", "2"], as: gl)
        try at("10:10:00")
        try act(["resolve", "1", "--note", "gauge recalibrated"], as: tl)
        try at("10:20:00")
        try act(["resolve", "2", "--note", "belt replaced"], as: gl)
        try at("10:30:00")
        ok(try daemon.udp("andon line=L2 station=S1 category=material"), "#3")
        try at("10:33:00")
        try act(["ack", "3"], as: tl)
        try at("10:40:00")
        try act(["arrive", "3"], as: tl)
        try at("10:45:00")
        ok(try daemon.udp("stop line=L2 station=S1 reason=conveyor"), "#3 becomes L2's stop")
        try at("10:50:00")
        ok(try daemon.udp("andon line=L3 station=S1 category=safety"), "#4")
        try at("10:51:00")
        try act(["escalate", "4"])
        try at("10:52:00")
        try act(["escalate", "4"])
        try at("10:55:00")
        try act(["ack", "4"], as: kpo)
        try at("10:56:00")
        ok(try daemon.udp("andon line=L1 station=S9 category=help drill=1"), "#5, a drill")
        try at("10:57:00")
        ok(try daemon.udp("clear line=L1 station=S9"), "the drill is over")
        try at("10:59:00")
        try act(["resolve", "4", "--note", "guard refitted"], as: kpo)
        try at("11:15:00")
        ok(try daemon.udp("resume line=L2"), "L2 runs again")
        // A flood on L1: 11 calls in 5 minutes (12:00:00 to 12:05:00), all reset at 12:20.
        for station in 1...11 {
            let seconds = (station - 1) * 30
            try at(String(format: "12:%02d:%02d", seconds / 60, seconds % 60))
            ok(try daemon.udp("andon line=L1 station=S\(station) category=help"), "flood call \(station)")
        }
        try at("12:20:00")
        for station in 1...11 { ok(try daemon.udp("clear line=L1 station=S\(station)"), "flood reset \(station)") }
        // A chattering station: three categories within 40 s.
        try at("13:00:00")
        ok(try daemon.udp("andon line=L2 station=S5 category=help"), "chatter 1")
        try at("13:00:20")
        ok(try daemon.udp("andon line=L2 station=S5 category=quality"), "chatter 2")
        try at("13:00:40")
        ok(try daemon.udp("andon line=L2 station=S5 category=material"), "chatter 3")
        try at("13:05:00")
        ok(try daemon.udp("clear line=L2 station=S5"), "chatter reset")
        // A stop across midnight in Berlin (23:00 UTC), which is also the change from shift b to shift a.
        try at("22:50:00")
        ok(try daemon.udp("stop line=L3 reason=power"), "L3 stops")
        try at("23:10:00")
        ok(try daemon.udp("resume line=L3"), "L3 runs again")
        // 19 calls and a drill: wait until the last step is in the journal.
        _ = try daemon.journal { $0.contains { $0["ANDON_EVENT"] == "resumed" && $0["ANDON_LINE"] == "L3" } }

        let window = [
            "--match", "_PID=\(daemon.pid)", "--since", "2026-11-30T00:00:00Z", "--until", "2026-12-01T12:00:00Z",
        ]
        let report = try Self.report(window)
        let total = try #require(report["total"] as? [String: Any])
        #expect(total["calls"] as? Int == 19)
        #expect(total["acknowledged"] as? Int == 4)
        #expect(total["arrived"] as? Int == 1)
        #expect(total["closed"] as? Int == 19)
        // Acknowledged after 120, 60, 180 and 300 s: median 150 s, p90 180 + 0.7 * 120 = 264 s.
        #expect(Self.spread(total["acknowledge"]) == [150_000, 264_000])
        #expect(Self.spread(total["arrive"]) == [600_000, 600_000])
        // Closed after 600, 900, 2700, 540 s, the flood's 1200 down to 900 s, the chatter's 300, 280, 260 s and
        // L3's 1200 s: the 10th of 19 is 990 s; p90 at rank 16.2 is 1200 s.
        #expect(Self.spread(total["resolve"]) == [990_000, 1_200_000])
        #expect(total["escalations"] as? Int == 3)
        #expect(total["reachedKPO"] as? Int == 1)
        #expect(report["drillCalls"] as? Int == 1)

        let lines = try #require(report["byLine"] as? [[String: Any]])
        let l1 = try #require(lines.first { $0["line"] as? String == "L1" }?["response"] as? [String: Any])
        #expect(l1["calls"] as? Int == 13)
        #expect(Self.spread(l1["acknowledge"]) == [90_000, 114_000])
        let shifts = try #require(report["byShift"] as? [[String: Any]])
        #expect(
            shifts.map { "\($0["shift"] ?? "")=\(($0["response"] as? [String: Any])?["calls"] ?? "")" } == [
                "a=4", "b=15",
            ]
        )

        // Stop minutes: L2 10:45-11:15 UTC across the shift change; L3 across midnight and the shift change.
        let stops = try #require(report["stops"] as? [String: Any])
        #expect(stops["minutes"] as? Double == 50)
        let pieces = (stops["pieces"] as? [[String: Any]] ?? []).map {
            "\($0["line"]!) \($0["date"]!) \($0["shift"]!) \($0["reason"]!) \($0["minutes"]!)"
        }
        #expect(
            pieces == [
                "L2 2026-11-30 a conveyor 15", "L2 2026-11-30 b conveyor 15", "L3 2026-11-30 b power 10",
                "L3 2026-12-01 a power 10",
            ]
        )

        // Pareto: L2/S5 3 calls, then L1/S1 and L1/S2 with 2 each, then the rest by name.
        let stations = try #require((report["paretoStations"] as? [String: Any])?["rows"] as? [[String: Any]])
        #expect(stations.prefix(4).map { $0["name"] as? String } == ["L2/S5", "L1/S1", "L1/S2", "L1/S3"])
        let categories = try #require((report["paretoCategories"] as? [String: Any])?["rows"] as? [[String: Any]])
        #expect(
            categories.map { "\($0["name"]!)=\($0["calls"]!)" } == [
                "help=12", "material=2", "quality=2", "line-stop=1", "maintenance=1", "safety=1",
            ]
        )

        let alarms = try #require(report["alarms"] as? [String: Any])
        let floods = try #require(alarms["floods"] as? [[String: Any]])
        let noon = Int64(1_796_040_000_000)  // 2026-11-30 12:00:00 UTC
        #expect(floods.count == 1)
        #expect(floods.first?["line"] as? String == "L1")
        #expect(floods.first?["start"] as? Int64 == noon + 300_000)
        #expect(floods.first?["end"] as? Int64 == noon + 600_000)
        #expect(floods.first?["calls"] as? Int == 11)
        let chattering = try #require(alarms["chattering"] as? [[String: Any]])
        #expect(chattering.map { $0["station"] as? String } == ["L2/S5"])
        let load = try #require(alarms["responders"] as? [[String: Any]])
        let leader = try #require(load.first { $0["user"] as? String == tl })
        #expect(leader["calls"] as? Int == 19)
        #expect(leader["peakHour"] as? Int == 11)
        #expect(leader["peakHourStart"] as? String == "2026-11-30 13:00")
        #expect(leader["hoursOver6"] as? Int == 1)
        #expect(load.first { $0["user"] as? String == gl }?["calls"] as? Int == 2)

        // With --drills the drill counts; the text, CSV and HTML forms say the same.
        let drills = try Self.report(window + ["--drills"])
        #expect((drills["total"] as? [String: Any])?["calls"] as? Int == 20)
        let text = try Self.run(window)
        #expect(text.contains("Time to acknowledge median 2m 30s, p90 4m 24s (4 calls)"))
        #expect(text.contains("1 drill call left out"))
        let csv = try Self.run(window + ["--format", "csv"])
        #expect(csv.contains("total,,,,,,,,acknowledge_median_s,150\r\n"))
        #expect(csv.contains("stop,L3,,,a,2026-12-01,power,,minutes,10\r\n"))
        let html = try Self.run(window + ["--format", "html"])
        #expect(html.hasPrefix("<!doctype html>"))
        #expect(html.contains("<svg"))
        // Self-contained: nothing to fetch (the SVG namespace is a name, not a download).
        #expect(!html.replacingOccurrences(of: "http://www.w3.org/2000/svg", with: "").contains("http"))
        #expect(!html.contains("<script"))

        // Replay: the same configuration gives the same paths; a 1-minute team leader sends calls on sooner.
        let same = try Self.replay(["--config", daemon.configPath] + window)
        #expect(same["calls"] as? Int == 19)
        #expect((same["differences"] as? [Any])?.count == 0, "\(same["differences"] ?? "")")
        #expect((same["recorded"] as? [String: Any])?["reachedKPO"] as? Int == 1)
        #expect((same["replayed"] as? [String: Any])?["reachedKPO"] as? Int == 1)
        #expect(same["actionsTakenByOthers"] as? Int == 0)
        let faster = daemon.directory.appendingPathComponent("faster.yaml").path
        try Self.configuration(socket: daemon.socketPath)
            .replacingOccurrences(
                of: "- { tier: team-leader, ack_within: 2h }",
                with: "- { tier: team-leader, ack_within: 1m }"
            )
            .write(toFile: faster, atomically: true, encoding: .utf8)
        let tried = try Self.replay(["--config", faster] + window)
        let differences = try #require(tried["differences"] as? [[String: Any]])
        // #1 was acknowledged after 2 minutes: with 1 minute it had gone on (past the empty quality tier) to the group
        // leader, who was called; the team leader, notified first, may still acknowledge it.
        let first = try #require(differences.first { $0["incident"] as? Int == 1 })
        #expect(first["recordedTiers"] as? [String] == ["team-leader"])
        #expect(first["replayedTiers"] as? [String] == ["team-leader", "group-leader"])
        #expect((first["replayedResponders"] as? [String])?.contains(gl) == true)
        #expect(tried["actionsTakenByOthers"] as? Int == 0)
        #expect(
            ((tried["replayed"] as? [String: Any])?["escalations"] as? Int ?? 0)
                > ((tried["recorded"] as? [String: Any])?["escalations"] as? Int ?? 0)
        )
        #expect(same["source"] as? String == "journal")

        // From andond's input log (read beside the running andond, and again once it stopped): the same calls,
        // paths and figures as from the journal, and nothing written to its state directory.
        let logWindow = [
            "--source", "log", "--state-directory", daemon.stateDirectory,
            "--since", "2026-11-30T00:00:00Z", "--until", "2026-12-01T12:00:00Z",
        ]
        let before = try FileManager.default.contentsOfDirectory(atPath: daemon.stateDirectory).sorted()
        func compare(_ fromLog: [String: Any], _ fromJournal: [String: Any], _ comment: Comment) {
            #expect(fromLog["source"] as? String == "log", comment)
            #expect(fromLog["knownFrom"] == nil, "the log holds all there is: \(comment)")
            for key in ["calls", "recorded", "replayed", "differences", "actionsTakenByOthers", "refusedSignals"] {
                #expect(
                    Self.canonical(fromLog[key]) == Self.canonical(fromJournal[key]),
                    "\(key): \(comment)"
                )
            }
        }
        compare(try Self.replay(["--config", daemon.configPath] + logWindow), same, "the same plant, andond running")
        compare(try Self.replay(["--config", faster] + logWindow), tried, "a faster team leader, andond running")
        #expect(try FileManager.default.contentsOfDirectory(atPath: daemon.stateDirectory).sorted() == before)
        daemon.stop()
        let stopped = try FileManager.default.contentsOfDirectory(atPath: daemon.stateDirectory).sorted()
        compare(try Self.replay(["--config", faster] + logWindow), tried, "a faster team leader, andond stopped")
        #expect(try FileManager.default.contentsOfDirectory(atPath: daemon.stateDirectory).sorted() == stopped)
        let replayText = try DaemonHarness.runAndonctl(["replay", "--config", faster, "--limit", "4"] + logWindow)
        #expect(
            replayText.stdout.contains("(a simulation from andond's input log \(daemon.stateDirectory)/andond.sqlite;")
        )
        #expect(replayText.stdout.contains("Calls whose path differs: 17"), "\(replayText.stdout)")
        if ProcessInfo.processInfo.environment["ANDON_SHOW_REPLAY"] != nil { print(replayText.stdout) }
        // auto takes the log when it reaches back to --since, the journal when told of journal files.
        let auto = try Self.replay(["--config", faster] + Array(logWindow.dropFirst(2)))
        #expect(auto["source"] as? String == "log")
    }

    /// A JSON value in a form that compares (dictionaries with sorted keys).
    static func canonical(_ value: Any?) -> String {
        guard let value else { return "nil" }
        guard JSONSerialization.isValidJSONObject([value]),
            let data = try? JSONSerialization.data(withJSONObject: [value], options: [.sortedKeys])
        else { return "\(value)" }
        return String(decoding: data, as: UTF8.self)
    }

    static func replay(_ arguments: [String]) throws -> [String: Any] {
        let result = try DaemonHarness.runAndonctl(["replay", "--json"] + arguments)
        #expect(result.status == 0, "andonctl replay \(arguments)")
        return try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
    }

    static func run(_ arguments: [String]) throws -> String {
        let result = try DaemonHarness.runAndonctl(["report"] + arguments)
        #expect(result.status == 0, "andonctl report \(arguments)")
        return result.stdout
    }

    static func report(_ arguments: [String]) throws -> [String: Any] {
        let text = try run(arguments + ["--format", "json"])
        return try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    /// A spread's median and p90, in milliseconds.
    static func spread(_ value: Any?) -> [Double] {
        guard let spread = value as? [String: Any] else { return [] }
        return [spread["median"] as? Double ?? -1, spread["p90"] as? Double ?? -1]
    }
}
