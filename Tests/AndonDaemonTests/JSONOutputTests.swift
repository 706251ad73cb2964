import Foundation
import Testing

/// Every andonctl command's `--json`: it parses, numbers are numbers and lists are lists.
@Suite struct JSONOutputTests {
    static func object(_ text: String, _ command: String) throws -> [String: Any] {
        let line = text.split(separator: "\n").first.map(String.init) ?? ""
        let parsed = try JSONSerialization.jsonObject(with: Data(line.utf8))
        return try #require(parsed as? [String: Any], "andonctl \(command) --json: \(text)")
    }

    @Test func everyCommandsJSONParsesAndKeepsItsTypes() throws {
        try #require(DaemonTests.usersReady, "needs root to create test users")
        // Long timeouts: no call moves on by itself while the commands run (escalate must find a next tier).
        let daemon = try DaemonHarness(configuration: ReportTests.configuration)
        func json(_ arguments: [String], as user: String? = nil, status: Int32 = 0) throws -> [String: Any] {
            let result = try daemon.andonctl(arguments + ["--json"], as: user)
            #expect(result.status == status, "andonctl \(arguments): \(result.stderr)")
            return try Self.object(result.stdout, arguments.joined(separator: " "))
        }
        /// Commands that do not talk to andond take no --socket.
        func offline(_ arguments: [String], status: Int32 = 0) throws -> String {
            let result = try DaemonHarness.runAndonctl(arguments)
            #expect(result.status == status, "andonctl \(arguments)")
            return result.stdout
        }

        let raised = try json(["raise", "--line", "L1", "--station", "S1", "--category", "help"])
        #expect(raised["incident"] as? Int == 1)
        #expect(raised["event"] as? String == "raised")
        #expect(raised["responders"] as? [String] == [DaemonHarness.teamLeader])
        let stopped = try json(["stop", "--line", "L2", "--station", "S4", "--drill"])
        #expect(stopped["incident"] as? Int == 2)

        let status = try json(["status"])
        #expect(status["total"] as? Int == 2)
        #expect((status["counters"] as? [String: Any])?["messages"] is Int)
        let incidents = try #require(status["incidents"] as? [[String: Any]])
        #expect(incidents.map { $0["id"] as? Int } == [1, 2])
        #expect(incidents.last?["drill"] as? Bool == true)
        #expect(incidents.first?["responders"] is [String])
        let plant = try #require(status["plant"] as? [String: Any])
        #expect((plant["lines"] as? [[String: Any]])?.count == 3)

        #expect(try json(["ack", "1"], as: DaemonHarness.teamLeader)["incident"] as? Int == 1)
        #expect(try json(["arrive", "1"], as: DaemonHarness.teamLeader)["incident"] as? Int == 1)
        #expect(try json(["escalate", "2"])["incident"] as? Int == 2)
        #expect(try json(["resolve", "1", "--note", "fixed"], as: DaemonHarness.teamLeader)["incident"] as? Int == 1)
        _ = try json(["clear", "--line", "L1", "--station", "S1"])
        _ = try json(["resume", "--line", "L2"])

        let who = try json(["who", "--line", "L1", "--category", "help"])
        #expect(who["tiers"] is [Any])
        let fromFile = try json(["who", "--line", "L1", "--category", "help", "--config", daemon.configPath])
        #expect(fromFile["tiers"] is [Any])
        let valid = try Self.object(try offline(["check-config", daemon.configPath, "--json"]), "check-config")
        #expect(valid["valid"] as? Bool == true)
        #expect(valid["lines"] as? Int == 3)
        #expect(valid["diagnostics"] is [Any])
        let reloaded = try json(["reload"])
        #expect(reloaded["changes"] as? Int == 0)
        #expect(reloaded["details"] is [Any])

        // Refusals are JSON too, with the exit code of the refusal.
        let unknown = try json(["ack", "99"], status: 1)
        #expect((unknown["error"] as? [String: Any])?["code"] as? String == "unknown-incident")
        let broken = daemon.directory.appendingPathComponent("broken.yaml").path
        try "lines: [".write(toFile: broken, atomically: true, encoding: .utf8)
        let invalid = try Self.object(try offline(["check-config", broken, "--json"], status: 1), "check-config")
        #expect(invalid["valid"] as? Bool == false)
        let diagnostic = try #require((invalid["diagnostics"] as? [[String: Any]])?.first)
        #expect(
            diagnostic["line"] is Int && diagnostic["column"] is Int && diagnostic["severity"] as? String == "error"
        )

        // The journal's readers.
        let tail = try offline(["tail", "--no-follow", "--json", "--match", "_PID=\(daemon.pid)", "-n", "3"])
        let lines = tail.split(separator: "\n")
        #expect(lines.count == 3)
        for line in lines { #expect(try Self.object(String(line), "tail")["MESSAGE"] is String) }
        let report = try Self.object(
            try offline(["report", "--json", "--match", "_PID=\(daemon.pid)", "--since", "1h"]),
            "report"
        )
        #expect(report["total"] is [String: Any])
        let board = try json(["board", "--once", "--match", "_PID=\(daemon.pid)"])
        #expect(board["incidents"] is [Any])
    }
}
