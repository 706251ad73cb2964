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
        mkdir -p "$dir" && mount -t tmpfs -o size=4m andond-full "$dir" && exec "$@" --max-waiting-inputs 5
        """

    /// Writes until the file system is full.
    static func fill(_ path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard fd >= 0 else { throw HarnessError("open \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let chunk = [UInt8](repeating: 0, count: 65_536)
        for _ in 0..<1_000 where chunk.withUnsafeBytes({ write(fd, $0.baseAddress, $0.count) }) < chunk.count {
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
            launcher: ["/usr/bin/unshare", "--mount", "--propagation", "private", "/bin/sh", "-c", Self.script, "sh"]
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
}
