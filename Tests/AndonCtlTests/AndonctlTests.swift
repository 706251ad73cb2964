import Foundation
import Testing

/// Runs the built `andonctl` binary on the example configuration, as a plant admin would.
@Suite struct AndonctlTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let example = root.appendingPathComponent("etc/andond/andond.yaml").path

    /// The andonctl built beside this test bundle.
    static var binary: URL {
        let bundle = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
        return bundle.appendingPathComponent("andonctl")
    }

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static func run(_ arguments: [String]) throws -> Result {
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(
            status: process.terminationStatus,
            stdout: String(decoding: stdout, as: UTF8.self),
            stderr: String(decoding: stderr, as: UTF8.self)
        )
    }

    /// The 1-based line of the example (or a variant) that is exactly `text`.
    static func line(of text: String, in path: String = example) throws -> Int {
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(
            separator: "\n",
            omittingEmptySubsequences: false
        )
        return try #require(lines.firstIndex { $0 == text }) + 1
    }

    /// The example, changed, in a temporary file.
    static func variant(_ replacements: [(String, String)]) throws -> String {
        var text = try String(contentsOfFile: example, encoding: .utf8)
        for (old, new) in replacements {
            #expect(text.contains(old), "the example must contain \(old)")
            text = text.replacingOccurrences(of: old, with: new)
        }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("andond-\(UUID().uuidString).yaml")
            .path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func checkConfigAcceptsTheExample() throws {
        let result = try Self.run(["check-config", Self.example])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("valid: 3 lines"))
        // Its socket group, andon, exists once andond is installed; before that check-config says so, and only that.
        let warnings = result.stderr.split(separator: "\n").filter { $0.contains(": warning: ") }
        #expect(warnings.allSatisfy { $0.contains("group 'andon' does not exist") }, "\(result.stderr)")
        #expect(warnings.count == (getgrnam("andon") == nil ? 1 : 0), "\(result.stderr)")
    }

    @Test func checkConfigSaysWhyAFileCannotBeRead() throws {
        let path = "/nonexistent/andond-\(getpid()).yaml"
        let result = try Self.run(["check-config", path])
        #expect(result.status == 1)
        #expect(
            result.stderr.contains("\(path):1:1: error: cannot read the configuration: No such file or directory"),
            "\(result.stderr)"
        )
    }

    @Test func checkConfigRejectsAChainWithoutKPOWithItsPosition() throws {
        let path = try Self.variant([("    - { tier: kpo, ack_within: 3m, repeat_every: 2m }\n", "")])
        defer { try? FileManager.default.removeItem(atPath: path) }
        let result = try Self.run(["check-config", path])
        #expect(result.status == 1)
        let line = try Self.line(of: "  stop:", in: path)
        #expect(
            result.stderr.contains("\(path):\(line):3: error: chain 'stop' does not end at the KPO tier"),
            "\(result.stderr)"
        )
        #expect(result.stderr.contains("hint: every chain ends with"))
        #expect(result.stderr.contains("invalid: 1 error"))
    }

    @Test func checkConfigRejectsAKPOGapWithItsPosition() throws {
        // KPO off at night: the first gap from Sunday 03:00 runs to the end of that night shift.
        let path = try Self.variant([
            (
                #"    rotation: { members: [kira, lars, mia], every: 7d, from: "2026-01-05 06:00" }"#,
                #"    rotation: { members: [kira, lars, mia], every: 7d, from: "2026-01-05 06:00", during: [early, late] }"#
            )
        ])
        defer { try? FileManager.default.removeItem(atPath: path) }
        let result = try Self.run(["check-config", path, "--at", "2026-11-29 03:00"])
        #expect(result.status == 1)
        let line = try Self.line(of: "  kpo:", in: path)
        #expect(
            result.stderr.contains(
                "\(path):\(line):3: error: KPO has nobody on duty from 2026-11-29 03:00 +01:00 to 2026-11-29 06:00 +01:00 and in 14 more gaps"
            ),
            "\(result.stderr)"
        )
    }

    @Test func whoPrintsTheNightShiftChainEndingAtTheKPOOfTheWeek() throws {
        // Sunday 2026-11-29 03:00: night shift of Saturday; KPO week 47 of the rotation from 2026-01-05: lars.
        let result = try Self.run([
            "who", "--config", Self.example, "--line", "L2", "--station", "S3", "--category", "quality", "--at",
            "2026-11-29 03:00",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(
            lines.first == "Quality andon on line L2, station S3, at 2026-11-29 03:00 +01:00 (Sunday, Europe/Berlin)"
        )
        #expect(lines.contains { $0.hasPrefix("Shift: night (22:00-06:00), started 2026-11-28 22:00 +01:00") })
        let tiers = lines.filter { $0.hasPrefix("  ") }
        #expect(tiers.count == 4)
        #expect(tiers[0].contains("team-leader") && tiers[0].contains("Felix Maier (felix)"))
        #expect(tiers[1].contains("quality") && tiers[1].contains("Nora Weber (nora)"))
        #expect(tiers[2].contains("group-leader") && tiers[2].contains("Lukas Wagner (lukas)"))
        #expect(tiers[3].contains("kpo") && tiers[3].contains("Lars Dietrich (ldietrich)"))
        #expect(tiers[3].contains("repeats every 5m"))
        // Why each is on duty: the night shift's assignment, the weekly rotations' turns.
        #expect(tiers[0].hasSuffix("why: felix by shift night"))
        #expect(tiers[1].hasSuffix("why: nora by rotation, member 2 of 3 since 2026-11-23 06:00 +01:00"))
        #expect(tiers[3].hasSuffix("why: ldietrich by rotation, member 2 of 3 since 2026-11-23 06:00 +01:00"))
    }

    @Test func whoNamesTheOverrideThatPutSomeoneOnDuty() throws {
        // The example's Christmas Eve swap: felix covers eva's late shift on L2.
        let text = try Self.run([
            "who", "-c", Self.example, "--line", "L2", "--station", "S3", "--category", "quality", "--at",
            "2026-12-24 15:00",
        ])
        #expect(text.status == 0, "\(text.stderr)")
        let first = text.stdout.split(separator: "\n").first { $0.hasPrefix("  1.") }.map(String.init) ?? ""
        #expect(first.contains("Felix Maier (felix)"))
        #expect(
            first.hasSuffix(
                "why: felix by override from 2026-12-24 14:00 +01:00 to 2026-12-24 22:00 +01:00, replacing eva (shift swap)"
            )
        )
        let json = try Self.run([
            "who", "-c", Self.example, "--line", "L2", "--station", "S3", "--category", "quality", "--at",
            "2026-12-24 15:00", "--json",
        ])
        let report = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        let why = ((report?["tiers"] as? [[String: Any]])?.first?["why"] as? [[String: Any]])?.first
        #expect(why?["responder"] as? String == "felix")
        #expect(why?["by"] as? String == "override")
        #expect(why?["replaces"] as? String == "eva")
        #expect(why?["note"] as? String == "shift swap")
        #expect((why?["until"] as? Int).map { $0 > (why?["from"] as? Int ?? .max) } == true)
    }

    @Test func whoAtAShiftBoundaryPicksTheIncomingShift() throws {
        let result = try Self.run([
            "who", "-c", Self.example, "--line", "L2", "--station", "S3", "--category", "quality", "--at",
            "2026-11-29 06:00",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("Shift: early (06:00-14:00), started 2026-11-29 06:00 +01:00"))
        let tiers = result.stdout.split(separator: "\n").filter { $0.hasPrefix("  ") }
        #expect(tiers.first?.contains("Dirk Koch (dirk)") == true)
        #expect(tiers.dropFirst(2).first?.contains("Jonas Richter (jonas)") == true)
        // A minute earlier it is still the night shift.
        let before = try Self.run([
            "who", "-c", Self.example, "--line", "L2", "--station", "S3", "--category", "quality", "--at",
            "2026-11-29 05:59",
        ])
        #expect(
            before.stdout.split(separator: "\n").filter { $0.hasPrefix("  ") }.first?.contains("Felix Maier") == true
        )
    }

    @Test func whoExplainsASkippedTier() throws {
        // Without its night on-call rotation, the quality rota has nobody at night.
        let path = try Self.variant([
            (
                #"    rotation: { members: [paula, nora, otto], every: 7d, from: "2026-01-05 06:00", during: [night] }"#,
                ""
            )
        ])
        defer { try? FileManager.default.removeItem(atPath: path) }
        let result = try Self.run([
            "who", "-c", path, "--line", "L2", "--station", "S3", "--category", "quality", "--at", "2026-11-29 03:00",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        let tiers = result.stdout.split(separator: "\n").filter { $0.hasPrefix("  ") }
        #expect(
            tiers[1].contains("skipped at once: rota quality has nobody on duty on shift night"),
            "\(result.stdout)"
        )
        // A skipped tier takes no time: group-leader is reached at 03:03, right after team-leader's 3 minutes.
        #expect(tiers[2].contains("at 03:03"))
    }

    @Test func whoRefusesAnUnknownLineAndACategoryTheLineDoesNotTake() throws {
        let unknown = try Self.run(["who", "-c", Self.example, "--line", "L9", "--category", "help"])
        #expect(unknown.status == 1)
        #expect(unknown.stderr.contains("line L9 is not configured (lines: L1, L2, L3)"))
        let cost = try Self.run(["who", "-c", Self.example, "--line", "L3", "--category", "cost"])
        #expect(cost.status == 1)
        #expect(cost.stderr.contains("line L3 does not take cost calls"))
        let usage = try Self.run(["who", "-c", Self.example, "--line", "L1"])
        #expect(usage.status == 64)
        #expect(usage.stderr.contains("give either --category (an andon) or --stop (a line stop)"))
    }
}
