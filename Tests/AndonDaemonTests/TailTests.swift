import Foundation
import Glibc
import Testing

/// `andonctl tail` reading the real journal through sd_journal, against a live andond (filtered to its `_PID`).
@Suite struct TailTests {
    /// Runs `andonctl tail ARGUMENTS --no-follow` and returns its lines as JSON objects.
    static func tail(_ arguments: [String]) throws -> [[String: Any]] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: DaemonHarness.andonctl)
        process.arguments = ["tail", "--no-follow", "--json"] + arguments
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return data.split(separator: UInt8(ascii: "\n")).compactMap {
            try? JSONSerialization.jsonObject(with: Data($0)) as? [String: Any]
        }
    }

    /// Polls (bounded) until `tail` with `arguments` gives `count` entries.
    static func tail(_ arguments: [String], count: Int) throws -> [[String: Any]] {
        let deadline = Date().addingTimeInterval(10)
        var entries: [[String: Any]] = []
        repeat {
            entries = try tail(arguments)
            if entries.count >= count { return entries }
            usleep(100_000)
        } while Date() < deadline
        return entries
    }

    @Test func tailShowsAndFiltersTheDaemonsEntriesAndFollowsNewOnes() throws {
        try #require(DaemonTests.usersReady, "needs root to create test users")
        let daemon = try DaemonHarness()
        let pid = "_PID=\(daemon.pid)"
        #expect(try daemon.udp("andon line=L1 station=S1 category=help").hasPrefix("ok incident=1 "))
        #expect(try daemon.andonctl(["ack", "1"], as: DaemonHarness.teamLeader).status == 0)
        let line = try Self.tail(["--match", pid, "--line", "L1"], count: 2)
        #expect(line.map { $0["ANDON_EVENT"] as? String } == ["raised", "acknowledged"])
        #expect(line.first?["ANDON_RESPONDER"] as? String == DaemonHarness.teamLeader)
        // Every entry of the daemon, its start included; -n keeps the latest.
        let all = try Self.tail(["--match", pid, "-n", "100"], count: 3)
        #expect(all.contains { ($0["MESSAGE"] as? String)?.contains("started") == true })
        #expect(try Self.tail(["--match", pid, "-n", "1"]).map { $0["ANDON_EVENT"] as? String } == ["acknowledged"])
        // The call's people, its tier, KPO.
        #expect(try Self.tail(["--match", pid, "--responder", DaemonHarness.teamLeader]).count == 2)
        #expect(try Self.tail(["--match", pid, "--responder", DaemonHarness.groupLeader]).isEmpty)
        #expect(try Self.tail(["--match", pid, "--tier", "team-leader"]).count == 2)
        #expect(try Self.tail(["--match", pid, "--kpo"]).isEmpty)
        #expect(try Self.tail(["--match", pid, "--since", "1h", "--line", "L1"]).count == 2)

        // Following: the latest entry first (so the follower is known to be at the end), then a new call on L1
        // shows up as one readable line.
        let follower = Process()
        follower.executableURL = URL(fileURLWithPath: DaemonHarness.andonctl)
        follower.arguments = ["tail", "--match", pid, "--line", "L1", "-n", "1"]
        let out = Pipe()
        follower.standardOutput = out
        follower.standardError = FileHandle.nullDevice
        try follower.run()
        defer {
            follower.terminate()
            follower.waitUntilExit()
        }
        let reading = out.fileHandleForReading
        var text = ""
        func read(until wanted: String) {
            let deadline = Date().addingTimeInterval(10)
            while !text.contains(wanted), Date() < deadline {
                var poller = pollfd(fd: reading.fileDescriptor, events: Int16(POLLIN), revents: 0)
                guard poll(&poller, 1, 200) > 0 else { continue }
                text += String(decoding: reading.availableData, as: UTF8.self)
            }
        }
        read(until: "  acknowledged  ")
        #expect(text.contains("  #1  L1/S1  acknowledged  "))
        #expect(try daemon.udp("andon line=L1 station=S7 category=quality text=leak").hasPrefix("ok incident=2 "))
        read(until: "  #2  L1/S7  raised  ")
        #expect(text.contains("  #2  L1/S7  raised  team-leader  \(DaemonHarness.teamLeader)  Quality andon on L1/S7"))

        // journald starts new files (as it does when one is full, or on journalctl --rotate): the follower goes on.
        let rotate = Process()
        rotate.executableURL = URL(fileURLWithPath: "/usr/bin/journalctl")
        rotate.arguments = ["--rotate"]
        rotate.standardOutput = FileHandle.nullDevice
        rotate.standardError = FileHandle.nullDevice
        try rotate.run()
        rotate.waitUntilExit()
        #expect(rotate.terminationStatus == 0, "journalctl --rotate")
        #expect(try daemon.udp("andon line=L1 station=S8 category=material").hasPrefix("ok incident=3 "))
        read(until: "  #3  L1/S8  raised  ")
        #expect(text.contains("  #3  L1/S8  raised  team-leader"), "after the rotation: \(text)")
        #expect(!text.contains("\u{1B}["), "no colors when not on a terminal")
    }
}
