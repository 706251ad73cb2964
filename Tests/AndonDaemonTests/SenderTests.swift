import AndonTestSupport
import Foundation
import Glibc
import Testing

/// Who may send over UDP (issue 10): per-line source addresses, signed messages with a time window and a replay
/// cache that survives a restart, key rotation by reload, and escaped echoes. Every refusal has no effect.
@Suite struct SenderTests {
    static let key = String(repeating: "0123456789abcdef", count: 4)
    static let otherKey = String(repeating: "fedcba9876543210", count: 4)

    static func configuration(keyFile: String) -> (String) -> String {
        { socket in PlantFixture.signed(socket: socket, keyFile: keyFile) }
    }

    /// A temporary folder of key files, removed by `remove()`.
    struct KeyFolder {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("andond-keys-\(UUID())")

        init() throws {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        }

        /// Writes `key` to a file named `name` in the folder, readable by its owner only, and returns its path.
        func write(_ key: String, as name: String) throws -> String {
            let path = directory.appendingPathComponent(name).path
            try SenderTests.writeKey(key, to: path)
            return path
        }

        func remove() {
            try? FileManager.default.removeItem(at: directory)
        }
    }

    static func writeKey(_ key: String, to path: String) throws {
        try? FileManager.default.removeItem(atPath: path)
        try (key + "\n").write(toFile: path, atomically: false, encoding: .utf8)
        chmod(path, 0o400)
    }

    static func sign(_ message: String, keyFile: String, at: Int64? = nil) throws -> String {
        let now = at ?? Int64(Date().timeIntervalSince1970)
        let result = try DaemonHarness.runAndonctl(["sign", "--key-file", keyFile, "--at", String(now), message])
        #expect(result.status == 0, "andonctl sign: \(result.stdout)")
        return result.stdout.trimmingCharacters(in: .newlines)
    }

    func code(_ reply: String) -> String? {
        guard reply.hasPrefix("err ") else { return nil }
        return reply.split(separator: " ").first { $0.hasPrefix("code=") }.map { String($0.dropFirst(5)) }
    }

    @Test func forgedReplayedStaleUnsignedAndUnlistedSignalsAreRefusedWithTheirCodesAndNoEffect() throws {
        let keys = try KeyFolder()
        defer { keys.remove() }
        let keyFile = try keys.write(Self.key, as: "L1.key")
        let wrongKeyFile = try keys.write(Self.otherKey, as: "wrong.key")
        let daemon = try DaemonHarness(configuration: Self.configuration(keyFile: keyFile))
        let fromTwo = try UDPSocket(source: "127.0.0.2")

        // Unlisted sources: L1 takes 127.0.0.1 only, L2 127.0.0.2 only.
        let good = try Self.sign("stop line=L1 reason=jam seq=1", keyFile: keyFile)
        #expect(code(try daemon.udp(good, from: fromTwo)) == "not-authorized", "a signed L1 stop from 127.0.0.2")
        #expect(code(try daemon.udp("stop line=L2 reason=jam")) == "not-authorized", "an L2 stop from 127.0.0.1")
        // Unsigned, forged (another key), altered (a signature of another message), stale (2 minutes old, and ahead).
        #expect(code(try daemon.udp("stop line=L1 reason=jam")) == "unsigned")
        #expect(
            code(try daemon.udp(try Self.sign("stop line=L1 reason=jam", keyFile: wrongKeyFile))) == "bad-signature"
        )
        let altered = good.replacingOccurrences(of: "reason=jam", with: "reason=fire")
        #expect(code(try daemon.udp(altered)) == "bad-signature")
        let now = Int64(Date().timeIntervalSince1970)
        #expect(code(try daemon.udp(try Self.sign("stop line=L1", keyFile: keyFile, at: now - 120))) == "stale")
        #expect(code(try daemon.udp(try Self.sign("stop line=L1", keyFile: keyFile, at: now + 120))) == "stale")
        #expect(try daemon.openIncidents().isEmpty, "nothing refused had an effect")

        // The good one is taken once; the same datagram again is a replay, with or without seq=.
        let taken = try daemon.udp(good)
        #expect(taken.hasPrefix("ok incident="), "\(taken)")
        #expect(code(try daemon.udp(good)) == "replayed")
        let once = try Self.sign("andon line=L1 station=S1 category=help", keyFile: keyFile)
        #expect(try daemon.udp(once).hasPrefix("ok"))
        #expect(code(try daemon.udp(once)) == "replayed")
        // D10: a retransmit signed afresh (a new ts=, so a new signature) is the same signal: the first reply, no
        // second effect.
        let first = try daemon.udp(
            try Self.sign("andon line=L1 station=S2 category=help seq=9", keyFile: keyFile, at: now)
        )
        #expect(first.hasPrefix("ok incident="), "\(first)")
        let resent = try daemon.udp(
            try Self.sign("andon line=L1 station=S2 category=help seq=9", keyFile: keyFile, at: now + 1)
        )
        #expect(resent == first, "a re-signed retransmit gets the first reply")
        #expect(try daemon.openIncidents().first { $0["station"] as? String == "S2" }?["signals"] as? Int == 1)
        #expect(try daemon.udp("stop line=L2 reason=jam", from: fromTwo).hasPrefix("ok"), "L2 from its sender")
        #expect(try daemon.udp("stop line=L3").hasPrefix("ok"), "L3 names no senders and no key")
        // L1's stop and its two andons, L2's stop, L3's stop: the accepted ones, nothing else.
        let open = try daemon.openIncidents()
        #expect(open.count == 5, "\(open)")
        #expect(Set(open.compactMap { $0["line"] as? String }) == ["L1", "L2", "L3"])

        // A restart does not make a captured message new again.
        daemon.stop()
        let restarted = try DaemonHarness(reusing: daemon)
        #expect(code(try restarted.udp(good)) == "replayed", "after a restart")
        #expect(try restarted.openIncidents().count == 5)

        // The refusals are journaled (rate-limited per source), each with its code.
        let entries =
            try restarted.journal { _ in true }
            + (try daemon.journal { entries in
                entries.contains { $0["ANDON_ERROR"] == "unsigned" }
            })
        #expect(entries.contains { $0["ANDON_ERROR"] != nil })
        restarted.stop()
    }

    /// A replaced key lives in andond's memory only, for the overlap: a restart within it takes only the new key.
    @Test func aRestartForgetsAReplacedKey() throws {
        let keys = try KeyFolder()
        defer { keys.remove() }
        let keyFile = try keys.write(Self.key, as: "L1.key")
        let oldKeyFile = try keys.write(Self.key, as: "old.key")
        let daemon = try DaemonHarness(configuration: Self.configuration(keyFile: keyFile))
        try Self.writeKey(Self.otherKey, to: keyFile)
        #expect(try daemon.andonctl(["reload"]).status == 0)
        #expect(
            try daemon.udp(try Self.sign("heartbeat line=L1 seq=1", keyFile: oldKeyFile)).hasPrefix("ok"),
            "overlap"
        )

        daemon.stop()
        let restarted = try DaemonHarness(reusing: daemon)
        let old = try restarted.udp(try Self.sign("heartbeat line=L1 seq=2", keyFile: oldKeyFile))
        #expect(code(old) == "bad-signature", "the replaced key, within its overlap but after a restart: \(old)")
        #expect(try restarted.udp(try Self.sign("heartbeat line=L1 seq=3", keyFile: keyFile)).hasPrefix("ok"), "new")
        restarted.stop()
    }

    /// On the UNIX socket the peer's credentials and `controllers:` decide: a keyed line's signals need no `sig=`
    /// there, and a `sig=` is not checked.
    @Test func keysAreNotCheckedOnTheUnixSocket() throws {
        let keys = try KeyFolder()
        defer { keys.remove() }
        let keyFile = try keys.write(Self.key, as: "L1.key")
        let wrongKeyFile = try keys.write(Self.otherKey, as: "wrong.key")
        let daemon = try DaemonHarness(configuration: Self.configuration(keyFile: keyFile))
        #expect(code(try daemon.udp("stop line=L1 reason=jam")) == "unsigned", "over UDP the key decides")

        let unsigned = try daemon.control("stop line=L1 reason=jam")
        #expect(unsigned.hasPrefix("ok incident="), "\(unsigned)")
        let otherKeys = try daemon.control(
            try Self.sign("andon line=L1 station=S1 category=help", keyFile: wrongKeyFile)
        )
        #expect(otherKeys.hasPrefix("ok incident="), "\(otherKeys)")
        #expect(try daemon.openIncidents().count == 2)
        daemon.stop()
    }

    /// Every control byte a sender can put in a field comes back escaped, in the reply and in the journal.
    @Test func controlBytesFromASenderAreEscapedInRepliesAndJournalMessages() throws {
        let daemon = try DaemonHarness()
        var bytes: [UInt8] = Array(0..<0x20) + [0x7f]
        bytes.removeAll { $0 == 0x0a || $0 == 0x0d }  // a datagram's own line end
        for byte in bytes {
            let message = Array(#"andon line=L1 station=S1 category="x"#.utf8) + [byte] + Array(#"[2Jhelp""#.utf8)
            let reply = try daemon.udp(message)
            #expect(reply.hasPrefix("err "), "byte \(byte): \(reply)")
            #expect(!reply.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7f }, "byte \(byte): \(reply)")
            let escape = "\\x" + (byte < 0x10 ? "0" : "") + String(byte, radix: 16)
            #expect(reply.contains(escape) || byte == 0x09 && reply.contains("\\x09"), "byte \(byte): \(reply)")
        }
        // C1 controls and a direction override, in UTF-8.
        for scalar in ["\u{9b}", "\u{202e}"] {
            let reply = try daemon.udp(#"andon line=L1 station=S1 category="\#(scalar)help""#)
            // The literal holds one scalar.
            #expect(!reply.unicodeScalars.contains { $0 == scalar.unicodeScalars.first! }, "\(reply)")
        }
        let warning = try daemon.journal { $0.contains { $0["ANDON_ERROR"] == "bad-value" } }
            .first { $0["ANDON_ERROR"] == "bad-value" }
        let message = try #require(warning?["MESSAGE"])
        #expect(!message.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7f }, "\(message)")
        #expect(message.contains("\\x00") || message.contains("\\x01"), "\(message)")
        daemon.stop()
    }
}

/// The flood gate: a source over its budget gets no replies (and no effect); a safety andon or a line stop from a
/// listed sender always goes through; the drops are summed up in the journal.
@Suite struct FloodGateTests {
    static func configuration(socket: String) -> String {
        DaemonHarness.configuration(socket: socket)
            .replacingOccurrences(
                of: "listen: { socket: \(socket), socket_mode: \"0666\" }",
                with: "listen: { socket: \(socket), socket_mode: \"0666\", udp_rate: 5, udp_burst: 5 }"
            )
            .replacingOccurrences(
                of: "  L1: { description: line one }",
                with: "  L1: { description: line one, senders: [127.0.0.1] }"
            )
    }

    @Test func overItsBudgetASourceIsDroppedUnansweredButSafetyCallsFromListedSendersGoThrough() throws {
        let daemon = try DaemonHarness(configuration: Self.configuration)
        defer { daemon.stop() }
        // 127.0.0.3 is listed nowhere: 20 heartbeats at once, 5 answered (the 5/s refill adds none in the few ms
        // the 25 take to send); 5 more from another of its ports share its budget.
        let stranger = try UDPSocket(timeoutMilliseconds: 500, source: "127.0.0.3")
        let otherPort = try UDPSocket(timeoutMilliseconds: 100, source: "127.0.0.3")
        for seq in 1...20 { try stranger.send(Array("heartbeat line=L3 seq=\(seq)".utf8), port: daemon.udpPort) }
        for seq in 21...25 { try otherPort.send(Array("heartbeat line=L3 seq=\(seq)".utf8), port: daemon.udpPort) }
        var answered = 0
        while stranger.receive() != nil { answered += 1 }
        #expect(answered == 5, "the burst, then nothing (no reply amplifies a flood)")
        #expect(otherPort.receive() == nil, "another port of the same address has no budget of its own")
        // 127.0.0.1 is L1's sender: past its budget too, but every safety andon and every stop is taken.
        let controller = try UDPSocket(timeoutMilliseconds: 2000)
        for seq in 1...5 { _ = try? daemon.udp("heartbeat line=L1 seq=\(seq)", from: controller) }
        for station in 1...10 {
            let reply = try daemon.udp("andon line=L1 station=S\(station) category=safety", from: controller)
            #expect(reply.hasPrefix("ok incident="), "safety call \(station): \(reply)")
        }
        #expect(try daemon.udp("stop line=L1 reason=guard", from: controller).hasPrefix("ok"))
        let help = try UDPSocket(timeoutMilliseconds: 300)
        #expect((try? daemon.udp("andon line=L1 station=S20 category=help", from: help)) == nil, "not safety: dropped")
        // One summary entry for the stranger within the interval (10 s), counting its drops.
        let entries = try daemon.journal(timeout: 15) { entries in
            entries.contains {
                $0["MESSAGE_ID"] == "accf0ba3349a4256ae6993e65d57e760"
                    && $0["ANDON_SOURCE"] == "127.0.0.3"
            }
        }
        let summary = try #require(
            entries.first {
                $0["MESSAGE_ID"] == "accf0ba3349a4256ae6993e65d57e760"
                    && $0["ANDON_SOURCE"] == "127.0.0.3"
            }
        )
        #expect(summary["ANDON_DROPPED"] == "20", "both ports' drops, in one entry for the address")
        #expect(summary["MESSAGE"]?.hasPrefix("dropped 20 datagrams from 127.0.0.3 (any port) over its budget") == true)
        #expect(summary["ANDON_REASON"] == "over-budget")
        #expect(try daemon.openIncidents().count == 11, "ten safety calls and the stop; nothing dropped took effect")
    }
}
