import Foundation
import Testing

/// `andonctl report` and `tail` over a central tree as andon-central@ writes it: one directory per plant, each file
/// written by the real systemd-journal-remote; an entry shipped twice; a plant added while tail follows.
@Suite(.serialized) struct CentralTreeTests {
    static let journalRemote = "/lib/systemd/systemd-journal-remote"

    /// One andond entry in the journal export format.
    static func entry(site: String, boot: String, event: String, incident: Int, at: Int64, id: String) -> String {
        let microseconds = at * 1000
        return [
            "__REALTIME_TIMESTAMP=\(microseconds)", "__MONOTONIC_TIMESTAMP=\(microseconds % 1_000_000_000_000)",
            "_BOOT_ID=\(boot)", "_MACHINE_ID=\(boot)",
            "_HOSTNAME=\(site.lowercased().replacingOccurrences(of: " ", with: "-"))",
            "SYSLOG_IDENTIFIER=andond", "MESSAGE=\(event) \(incident)", "ANDON_SITE=\(site)", "ANDON_TIMEZONE=UTC",
            "ANDON_EVENT=\(event)", "ANDON_INCIDENT=\(incident)", "ANDON_KIND=andon", "ANDON_LINE=L1",
            "ANDON_STATION=S\(incident)", "ANDON_CATEGORY=help", "ANDON_AT_MS=\(at)", "ANDON_EVENT_ID=\(id)",
        ].joined(separator: "\n") + "\n\n"
    }

    /// Writes `text` (export format) through systemd-journal-remote into `directory/plant/remote-plant.journal`.
    static func ship(_ text: String, plant: String, into directory: URL) throws {
        let plantDirectory = directory.appendingPathComponent(plant)
        try FileManager.default.createDirectory(at: plantDirectory, withIntermediateDirectories: true)
        let input = directory.appendingPathComponent("\(plant).export")
        try text.write(to: input, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: journalRemote)
        process.arguments = ["--output=\(plantDirectory.path)/remote-\(plant).journal", "-"]
        process.standardInput = try FileHandle(forReadingFrom: input)
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
    }

    static func tree() throws -> (URL, Int64) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("andond-central-\(UUID())")
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let start = now - 30 * 60_000
        let nord = "0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e"
        let sued = "1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f"
        try ship(
            entry(site: "Werk Nord", boot: nord, event: "raised", incident: 1, at: start, id: "n-1")
                + entry(
                    site: "Werk Nord",
                    boot: nord,
                    event: "acknowledged",
                    incident: 1,
                    at: start + 60_000,
                    id: "n-2"
                )
                + entry(site: "Werk Nord", boot: nord, event: "raised", incident: 2, at: start + 120_000, id: "n-3"),
            plant: "werk-nord",
            into: directory
        )
        // Werk Süd's incidents 1 and 2 (its own numbering), the raise of 2 shipped twice (journal-remote resent it).
        let first = entry(site: "Werk Süd", boot: sued, event: "raised", incident: 1, at: start + 10_000, id: "s-0")
        let raised = entry(site: "Werk Süd", boot: sued, event: "raised", incident: 2, at: start + 30_000, id: "s-1")
        try ship(first + raised + raised, plant: "werk-sued", into: directory)
        return (directory, now)
    }

    @Test func theReportOverTheTreeCountsEachSiteAndEachEntryOnce() throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.journalRemote), "needs systemd-journal-remote")
        let (directory, _) = try Self.tree()
        defer { try? FileManager.default.removeItem(at: directory) }
        let all = try AndonctlTests.run(["report", "--directory", directory.path, "--since", "1h", "--json"])
        #expect(all.status == 0, "\(all.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(all.stdout.utf8)) as? [String: Any])
        let sites = try #require(report["bySite"] as? [[String: Any]])
        let counts = sites.map { ($0["site"] as? String ?? "?", ($0["response"] as? [String: Any])?["calls"] as? Int) }
        #expect(counts.map(\.0) == ["Werk Nord", "Werk Süd"])
        #expect(counts.map(\.1) == [2, 2])
        let oneSite = try AndonctlTests.run(
            ["report", "--directory", directory.path, "--since", "1h", "--site", "Werk Süd", "--json"]
        )
        let sued = try #require(try JSONSerialization.jsonObject(with: Data(oneSite.stdout.utf8)) as? [String: Any])
        #expect((sued["total"] as? [String: Any])?["calls"] as? Int == 2)
        #expect(sued["bySite"] == nil)
        let tail = try AndonctlTests.run(["tail", "--directory", directory.path, "--no-follow", "-n", "100", "--json"])
        let ids = tail.stdout.split(separator: "\n").compactMap { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["ANDON_EVENT_ID"] as? String
        }
        #expect(ids.sorted() == ["n-1", "n-2", "n-3", "s-0", "s-1"])
        // The latest two of Werk Süd: the twice-shipped entry counts once toward -n.
        let latest = try AndonctlTests.run(
            ["tail", "--directory", directory.path, "--site", "Werk Süd", "--no-follow", "-n", "2", "--json"]
        )
        let latestIDs = latest.stdout.split(separator: "\n").compactMap { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["ANDON_EVENT_ID"] as? String
        }
        #expect(latestIDs == ["s-0", "s-1"])
        let empty = try AndonctlTests.run(["report", "--directory", "/nonexistent-andon-central"])
        #expect(empty.status != 0)
        #expect(empty.stderr.contains("no journal files under /nonexistent-andon-central"))
    }

    @Test func tailFollowsAPlantAddedWhileItRuns() throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.journalRemote), "needs systemd-journal-remote")
        let (directory, now) = try Self.tree()
        defer { try? FileManager.default.removeItem(at: directory) }
        let output = directory.appendingPathComponent("tail.out")
        #expect(FileManager.default.createFile(atPath: output.path, contents: nil))
        let tail = Process()
        tail.executableURL = AndonctlTests.binary
        tail.arguments = ["tail", "--directory", directory.path, "-n", "1", "--json"]
        tail.standardOutput = try FileHandle(forWritingTo: output)
        tail.standardError = FileHandle.nullDevice
        try tail.run()
        defer {
            kill(tail.processIdentifier, SIGKILL)
            tail.waitUntilExit()
        }
        func shown() -> [String] {
            let text = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
            return text.split(separator: "\n").compactMap { line in
                (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["ANDON_EVENT_ID"]
                    as? String
            }
        }
        func wait(until done: () -> Bool) {
            let deadline = Date().addingTimeInterval(10)
            while !done() && Date() < deadline { usleep(100_000) }
        }
        wait { shown() == ["n-3"] }
        #expect(shown() == ["n-3"])
        try Self.ship(
            Self.entry(
                site: "Werk Ost",
                boot: "2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f70",
                event: "raised",
                incident: 1,
                at: now,
                id: "o-1"
            ),
            plant: "werk-ost",
            into: directory
        )
        wait { shown().count >= 2 }
        #expect(shown() == ["n-3", "o-1"])
    }
}
