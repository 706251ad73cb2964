import AndonProtocol
import Foundation
import Testing

/// A full disk for real: andond's state directory is a 4 MiB tmpfs in a private mount namespace of its own, which the
/// test fills and frees through `/proc/PID/root`. While commits fail, at most `--max-waiting-inputs` inputs wait in
/// memory (their replies with them); further signals get `err code=storage-failing` and change nothing; nothing
/// answered `ok` is lost; once there is room, andond goes on without a restart.
@Suite struct FullDiskTests {
    static let script = """
        dir=""; prev=""; for a in "$@"; do [ "$prev" = --state-directory ] && dir=$a; prev=$a; done
        mkdir -p "$dir" && mount -t tmpfs -o size="$SIZE" andond-full "$dir" && exec "$@" --max-waiting-inputs "$WAITING"
        """

    /// Writes until the file system is full.
    static func fill(_ path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard fd >= 0 else { throw HarnessError("open \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let chunk = [UInt8](repeating: 0, count: 65_536)
        for _ in 0..<4_000 where chunk.withUnsafeBytes({ write(fd, $0.baseAddress, $0.count) }) < chunk.count {
            return
        }
        throw HarnessError("\(path) never filled up")
    }

    /// Replies to `socket` within `seconds`, by their `seq`.
    static func replies(
        _ socket: UDPSocket,
        within seconds: TimeInterval,
        until done: ([UInt64: String]) -> Bool
    )
        -> [UInt64: String]
    {
        var replies: [UInt64: String] = [:]
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline, !done(replies) {
            guard let reply = socket.receive() else { continue }
            if let seq = field("seq", of: reply.trimmingCharacters(in: .newlines)).flatMap(UInt64.init) {
                replies[seq] = reply.trimmingCharacters(in: .newlines)
            }
        }
        return replies
    }

    @Test func aFullDiskRefusesWhatCannotWaitLosesNothingAnsweredAndRecoversWithoutARestart() throws {
        try #require(getuid() == 0, "needs root for a mount namespace")
        // Hours-long timeouts: no tick of the timer joins the inputs that wait, so the count is the signals'.
        let daemon = try DaemonHarness(
            configuration: CrashTests.configuration,
            launcher: Self.launcher(waiting: 5)
        )
        let state = "/proc/\(daemon.pid)/root\(daemon.stateDirectory)"
        #expect(FileManager.default.fileExists(atPath: state + "/andond.sqlite"), "andond's state is in its tmpfs")
        let socket = try UDPSocket(timeoutMilliseconds: 200)
        func signal(_ seq: UInt64) throws {
            try socket.send(Array("andon line=L1 station=S\(seq) category=help seq=\(seq)".utf8), port: daemon.udpPort)
        }
        try signal(1)
        #expect(Self.replies(socket, within: 5) { $0[1] != nil }[1]?.hasPrefix("ok incident=1 ") == true)

        try Self.fill(state + "/filler")
        // The first signal after it finds the disk full: once andond says so, the rest come.
        try signal(2)
        _ = try daemon.journal(timeout: 30) { entries in
            entries.contains { $0[JournalField.messageID.rawValue] == MessageID.stateWriteFailed }
        }
        for seq in UInt64(3)...12 { try signal(seq) }
        let whileFull = Self.replies(socket, within: 5) { replies in (UInt64(7)...12).allSatisfy { replies[$0] != nil }
        }
        // The first five wait in memory with their replies; the rest are refused, and took nothing.
        for seq in 2...6 { #expect(whileFull[UInt64(seq)] == nil, "seq \(seq) waits: \(whileFull[UInt64(seq)] ?? "")") }
        for seq in 7...12 {
            #expect(whileFull[UInt64(seq)]?.hasPrefix("err code=storage-failing ") == true, "seq \(seq)")
        }

        try FileManager.default.removeItem(atPath: state + "/filler")
        let afterwards = Self.replies(socket, within: 10) { replies in (UInt64(2)...6).allSatisfy { replies[$0] != nil }
        }
        for seq in 2...6 {
            #expect(afterwards[UInt64(seq)]?.hasPrefix("ok incident=\(seq) ") == true, "seq \(seq): \(afterwards)")
        }
        // Resent, a refused signal is taken now, as a new call.
        try signal(7)
        #expect(Self.replies(socket, within: 5) { $0[7] != nil }[7]?.hasPrefix("ok incident=7 ") == true)
        let open = try daemon.openIncidents().compactMap { $0["station"] as? String }.sorted()
        #expect(open == (1...7).map { "S\($0)" }.sorted())

        let entries = try daemon.journal { entries in
            entries.contains { $0[JournalField.messageID.rawValue] == MessageID.inputsRefused && $0["PRIORITY"] == "5" }
        }
        let refused = entries.filter { $0[JournalField.messageID.rawValue] == MessageID.inputsRefused }
        #expect(refused.map { $0["PRIORITY"] } == ["2", "5"], "one crit when refusing begins, one notice at its end")
        #expect(refused.last?[JournalField.refused.rawValue] == "6")
        #expect(refused.first?[JournalField.waitingInputs.rawValue] == "5")
        let writes = entries.filter { $0[JournalField.messageID.rawValue] == MessageID.stateWriteFailed }
        #expect(writes.map { $0["PRIORITY"] } == ["2", "5"], "the failed writes, and when they work again")
        #expect(daemon.stop() == 0)
    }

    /// andond in a mount namespace of its own, its state directory a tmpfs of `size`; at most `waiting` inputs wait.
    static func launcher(waiting: Int, size: String = "4m") -> [String] {
        [
            "/usr/bin/env", "WAITING=\(waiting)", "SIZE=\(size)", "/usr/bin/unshare", "--mount", "--propagation",
            "private", "/bin/sh",
            "-c", script, "sh",
        ]
    }

    /// The disk fills while a controller sends as fast as andond answers, and empties again: every signal is
    /// answered `ok` once (at once, after the disk returns, or when resent after `storage-failing`), none is taken
    /// twice, andond never stops, and it says when writes failed and when they worked again.
    /// About 25 s (SQLite writes into its WAL's pages for some 3,000 signals before a commit needs a new one): CI runs it
    /// as a step of its own, `ANDOND_FULL_DISK_LOAD=1 scripts/test --filter FullDiskTests`.
    @Test(.enabled(if: ProcessInfo.processInfo.environment["ANDOND_FULL_DISK_LOAD"] != nil))
    func aDiskThatFillsUnderLoadLosesNothingAnsweredAndTakesEverySignalOnce() throws {
        try #require(getuid() == 0, "needs root for a mount namespace")
        // 32 MiB: room for the state of 3,000 calls (the WAL, the outbox); the filler is what fills it.
        let daemon = try DaemonHarness(
            configuration: CrashTests.configuration,
            launcher: Self.launcher(waiting: 100, size: "32m")
        )
        let state = "/proc/\(daemon.pid)/root\(daemon.stateDirectory)"
        let socket = try UDPSocket(timeoutMilliseconds: 2)
        var replies: [UInt64: String] = [:]
        var refused = 0
        func drain(_ rounds: Int) {
            for _ in 0..<rounds {
                guard let reply = socket.receive()?.trimmingCharacters(in: .newlines),
                    let seq = field("seq", of: reply).flatMap(UInt64.init)
                else { return }
                if reply.hasPrefix("err code=storage-failing ") { refused += 1 }
                if replies[seq]?.hasPrefix("ok ") != true { replies[seq] = reply }
            }
        }
        func send(_ seq: UInt64) throws {
            try socket.send(Array("andon line=L1 station=S\(seq) category=help seq=\(seq)".utf8), port: daemon.udpPort)
        }
        // 1,000 signals, then the disk fills under the load, which goes on until andond refuses and 500 more; then
        // the disk has room again and the last ones come. (SQLite writes into its WAL's pages while it can: the
        // first commit that needs more fails.)
        let started = Date()
        var seq: UInt64 = 0
        var freeAt: UInt64?
        while seq < (freeAt.map { $0 + 1_000 } ?? 20_000) {
            seq += 1
            if seq == 1_000 { try Self.fill(state + "/filler") }
            if seq == freeAt { try FileManager.default.removeItem(atPath: state + "/filler") }
            try send(seq)
            if seq % 50 == 0 { drain(200) }
            if freeAt == nil, refused > 0 { freeAt = seq + 500 }
        }
        let total = seq
        #expect(freeAt != nil, "andond never found the disk full")
        // The controller resends what was refused or not answered yet (a retransmit gets the first reply).
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            drain(400)
            let missing = (1...total).filter { replies[$0]?.hasPrefix("ok ") != true }
            if missing.isEmpty { break }
            for seq in missing.prefix(200) { try send(seq) }
        }
        let seconds = Date().timeIntervalSince(started)
        let missing = (1...total).filter { replies[$0]?.hasPrefix("ok ") != true }
        #expect(
            missing.isEmpty,
            "\(missing.count) never answered ok, e.g. \(missing.prefix(5).map { replies[$0] ?? "nothing" })"
        )
        let open = try daemon.openIncidents()
        #expect(open.count == Int(total), "each signal taken once")
        #expect(Set(open.compactMap { $0["station"] as? String }).count == Int(total))
        let entries = try daemon.journal { entries in
            entries.contains {
                $0[JournalField.messageID.rawValue] == MessageID.stateWriteFailed && $0["PRIORITY"] == "5"
            }
        }
        let writes = entries.filter { $0[JournalField.messageID.rawValue] == MessageID.stateWriteFailed }
        #expect(writes.map { $0["PRIORITY"] } == ["2", "5"])
        print(
            "full disk under load: \(total) signals, \(refused) storage-failing replies, all \(total) ok in \(String(format: "%.1f", seconds)) s"
        )
        #expect(daemon.stop() == 0)
    }
}
