import AndonTestSupport
import Foundation
import Glibc
import Testing

/// Starts the built `andond` on a temporary configuration, socket, state directory and an ephemeral UDP port, and
/// talks to it as a line controller and as a responder would. Reads the real journal back by the daemon's `_PID`.
final class DaemonHarness {
    static let buildDirectory = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        .deletingLastPathComponent()
    static let andond = buildDirectory.appendingPathComponent("andond").path
    static let andonctl = buildDirectory.appendingPathComponent("andonctl").path

    let directory: URL
    /// Microseconds since the epoch just before andond started: with `_PID`, what tells its journal entries from
    /// those of an earlier process that had the same PID (the journal outlives test runs).
    private(set) var startedAtMicroseconds: UInt64 = 0
    let socketPath: String
    let configPath: String
    let process: Process
    let stderr: Pipe
    private(set) var udpPort: UInt16 = 0
    /// The HTTP port, when andond was started with `http:`.
    private(set) var httpPort: UInt16 = 0
    var pid: Int32 { process.processIdentifier }

    /// Users the tests create: a team leader, a group leader, someone on no rota, and a KPO member.
    static let teamLeader = PlantFixture.teamLeader
    static let groupLeader = PlantFixture.groupLeader
    static let outsider = PlantFixture.outsider
    static let kpoMember = PlantFixture.kpoMember
    /// The team leader of the next shift (the handover tests).
    static let incomingTeamLeader = PlantFixture.incomingTeamLeader

    /// 1-second timeouts: team-leader 1s, quality (nobody on duty: skipped at once), group-leader 1s (resolve 2s),
    /// kpo 1s then every 1s. Line stops: team-leader 1s, kpo 1s.
    static func configuration(socket: String) -> String { PlantFixture.yaml(socket: socket) }

    /// Whether this harness made `directory` (and removes it when done).
    private let ownsDirectory: Bool
    var stateDirectory: String { directory.appendingPathComponent("state").path }

    /// Starts andond. With `reusing`, on another harness's directory (its configuration, socket path and state
    /// directory): a restart. `launcher` runs andond through another program (`ip netns exec NS`).
    init(
        configuration: ((String) -> String)? = nil,
        environment: [String: String] = [:],
        reusing previous: DaemonHarness? = nil,
        udp: String = "127.0.0.1:0",
        http: String? = nil,
        launcher: [String] = []
    ) throws {
        if let previous {
            directory = previous.directory
            ownsDirectory = false
        } else {
            directory = FileManager.default.temporaryDirectory.appendingPathComponent(
                "andond-test-\(UUID().uuidString)"
            )
            ownsDirectory = true
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: directory.path)
        }
        socketPath = directory.appendingPathComponent("andond.sock").path
        configPath = directory.appendingPathComponent("andond.yaml").path
        if previous == nil || configuration != nil {
            try (configuration ?? Self.configuration)(socketPath).write(
                toFile: configPath,
                atomically: true,
                encoding: .utf8
            )
        }
        process = Process()
        let arguments =
            [
                "--config", configPath, "--udp", udp, "--state-directory",
                directory.appendingPathComponent("state").path,
            ] + (http.map { ["--http", $0] } ?? [])
        if launcher.isEmpty {
            process.executableURL = URL(fileURLWithPath: Self.andond)
            process.arguments = arguments
        } else {
            process.executableURL = URL(fileURLWithPath: launcher[0])
            process.arguments = Array(launcher.dropFirst()) + [Self.andond] + arguments
        }
        // Never let andond think it runs under a service manager unless a test says so.
        let inherited = ProcessInfo.processInfo.environment.filter { key, _ in
            !["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES"]
                .contains(key)
        }
        process.environment = inherited.merging(environment) { $1 }
        stderr = Pipe()
        process.standardError = stderr
        process.standardOutput = FileHandle.nullDevice
        startedAtMicroseconds = UInt64(Date().timeIntervalSince1970 * 1_000_000)
        try process.run()
        // Ready when the socket answers ping (bounded: 30 s; a debug andond among 150 parallel tests on 2 cores can
        // take several seconds).
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            if let reply = try? control("ping"), reply.hasPrefix("ok"), let udp = field("udp", of: reply),
                let port = UInt16(udp.split(separator: ":").last ?? "")
            {
                udpPort = port
                if http != nil {
                    guard let web = field("http", of: reply), let port = UInt16(web.split(separator: ":").last ?? "")
                    else { throw HarnessError("ping names no http address: \(reply)") }
                    httpPort = port
                }
                return
            }
            guard process.isRunning else { break }
            usleep(20_000)
        }
        stop()
        let output = String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        throw HarnessError("andond did not become ready: \(output)")
    }

    deinit {
        stop()
        if ownsDirectory { try? FileManager.default.removeItem(at: directory) }
    }

    /// SIGKILL: no clean stop, nothing flushed.
    func kill9() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// Runs andond with `arguments` to its end (bounded: 10 s); for starts that must fail.
    static func runAndond(_ arguments: [String]) throws -> (status: Int32, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: andond)
        process.arguments = arguments
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(10)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            throw HarnessError("andond \(arguments) did not exit")
        }
        return (
            process.terminationStatus, String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        )
    }

    /// Runs andonctl with `arguments` as they are (no --socket: for the commands that read the journal or a file),
    /// and returns its exit status and standard output.
    static func runAndonctl(_ arguments: [String]) throws -> (status: Int32, stdout: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: andonctl)
        process.arguments = arguments
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// The open incidents, as `andonctl status --json` reports them.
    func openIncidents() throws -> [[String: Any]] {
        let status = try andonctl(["status", "--json"])
        guard status.status == 0,
            let object = try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any],
            let incidents = object["incidents"] as? [[String: Any]]
        else { throw HarnessError("andonctl status --json: \(status.status) \(status.stdout) \(status.stderr)") }
        return incidents
    }

    /// SIGTERM, then wait (bounded); returns the exit status.
    @discardableResult
    func stop() -> Int32? {
        guard process.isRunning else { return process.terminationStatus }
        process.terminate()
        let deadline = Date().addingTimeInterval(10)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            return nil
        }
        return process.terminationStatus
    }

    // MARK: Talking to it

    /// One datagram from `socket` (a fresh one when nil); returns the reply datagram.
    func udp(_ message: [UInt8], from socket: UDPSocket? = nil) throws -> String {
        let client = try socket ?? UDPSocket()
        return try client.exchange(message, port: udpPort)
    }

    func udp(_ message: String, from socket: UDPSocket? = nil) throws -> String {
        try udp(Array(message.utf8), from: socket)
    }

    /// Lines over one UNIX stream connection; returns one reply line per request line.
    func control(_ lines: String...) throws -> String {
        try stream(lines.map { Array(($0 + "\n").utf8) }).joined(separator: "\n")
    }

    func stream(_ messages: [[UInt8]]) throws -> [String] {
        let fd = try connectStream()
        defer { close(fd) }
        var replies: [String] = []
        var pending: [UInt8] = []
        for message in messages {
            _ = message.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            let expected = message.filter { $0 == UInt8(ascii: "\n") }.count
            while pending.filter({ $0 == UInt8(ascii: "\n") }).count < expected {
                var buffer = [UInt8](repeating: 0, count: 65_536)
                let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                guard count > 0 else { throw HarnessError("no reply from andond") }
                pending += buffer[..<count]
            }
            let lines = pending.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
            replies += lines.dropLast().map { String(decoding: $0, as: UTF8.self) }
            pending = Array(lines.last ?? [])
        }
        return replies
    }

    /// Like `echo ... | socat - UNIX-CONNECT:`: sends everything, shuts down its sending side at once, and reads
    /// until andond closes the connection (bounded: 5 s without data). Returns everything read.
    func streamThenShutdown(_ text: String) throws -> String {
        let fd = try connectStream()
        defer { close(fd) }
        let bytes = Array(text.utf8)
        guard bytes.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == bytes.count else {
            throw HarnessError("send: \(String(cString: strerror(errno)))")
        }
        shutdown(fd, Int32(SHUT_WR))
        var received: [UInt8] = []
        while true {
            var buffer = [UInt8](repeating: 0, count: 65_536)
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count == 0 { break }
            guard count > 0 else { throw HarnessError("andond did not close the connection: \(received.count) bytes") }
            received += buffer[..<count]
        }
        return String(decoding: received, as: UTF8.self)
    }

    private func connectStream() throws -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw HarnessError("socket: \(errno)") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            let bytes = Array(socketPath.utf8)
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard connected == 0 else {
            close(fd)
            throw HarnessError("connect: \(String(cString: strerror(errno)))")
        }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        return fd
    }

    /// Runs andonctl against this daemon, as `user` (via runuser) when given.
    func andonctl(
        _ arguments: [String],
        as user: String? = nil
    ) throws -> (status: Int32, stdout: String, stderr: String) {
        try Self.runAndonctl(arguments + ["--socket", socketPath], as: user)
    }

    /// Runs andonctl with `arguments` as they are, as `user` (via runuser) when given: exit status, standard output
    /// and standard error.
    static func runAndonctl(
        _ arguments: [String],
        as user: String?
    ) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        if let user {
            process.executableURL = URL(fileURLWithPath: "/usr/sbin/runuser")
            process.arguments = ["-u", user, "--", andonctl] + arguments
        } else {
            process.executableURL = URL(fileURLWithPath: andonctl)
            process.arguments = arguments
        }
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, stdout, stderr)
    }

    // MARK: The journal

    /// This daemon's journal entries (from `journalctl -o json _PID=`, written since it started), waiting (bounded)
    /// until `until` holds.
    func journal(
        timeout: TimeInterval = 10,
        until: ([[String: String]]) -> Bool = { _ in true }
    ) throws -> [[String: String]] {
        let deadline = Date().addingTimeInterval(timeout)
        var entries: [[String: String]] = []
        repeat {
            entries = try Self.journalEntries(
                matching: ["_PID=\(pid)", "--since=@\(startedAtMicroseconds / 1_000_000 - 1)"]
            ).filter { entry in
                entry["__REALTIME_TIMESTAMP"].flatMap(UInt64.init).map { $0 >= startedAtMicroseconds } ?? false
            }
            if until(entries) { return entries }
            usleep(100_000)
        } while Date() < deadline
        return entries
    }

    /// The entries of one incident, in order; throws when fewer than `count` arrive in time, so that a test fails
    /// with the reason instead of indexing past the end.
    func events(of incident: String, count: Int, timeout: TimeInterval = 10) throws -> [[String: String]] {
        let all = try journal(timeout: timeout) { $0.filter { $0["ANDON_INCIDENT"] == incident }.count >= count }
        let events = all.filter { $0["ANDON_INCIDENT"] == incident }
        guard events.count >= count else {
            throw HarnessError(
                """
                expected \(count) journal entries for incident \(incident) from _PID=\(pid), found \(events.count) \
                (of \(all.count) entries from that PID) after \(Int(timeout))s; is journald answering? \
                (systemd-cat true; scripts/setup starts one when not)
                """
            )
        }
        return events
    }

    static func journalEntries(matching matches: [String]) throws -> [[String: String]] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/journalctl")
        process.arguments = ["-o", "json", "--no-pager", "--all"] + matches
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return data.split(separator: UInt8(ascii: "\n")).compactMap { line in
            guard let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any] else { return nil }
            // A field given several times comes as an array; keep them comma-joined.
            return object.compactMapValues { value in
                if let text = value as? String { return text }
                if let many = value as? [Any] { return many.compactMap { $0 as? String }.joined(separator: ",") }
                return nil
            }
        }
    }

    /// Creates the test users (system users without home) when missing. Needs root.
    static func ensureUsers() throws {
        for user in [teamLeader, groupLeader, outsider, kpoMember, incomingTeamLeader] where getpwnam(user) == nil {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/sbin/useradd")
            process.arguments = ["--system", "--no-create-home", "--shell", "/usr/sbin/nologin", user]
            try process.run()
            process.waitUntilExit()
            guard process.terminationStatus == 0 else { throw HarnessError("useradd \(user) failed") }
        }
    }
}

/// A UDP client socket on 127.0.0.1 (or another loopback address, `source`), with a receive timeout.
final class UDPSocket {
    let fd: Int32

    init(timeoutMilliseconds: Int = 5000, source: String? = nil) throws {
        fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw HarnessError("socket: \(errno)") }
        var timeout = timeval(tv_sec: timeoutMilliseconds / 1000, tv_usec: (timeoutMilliseconds % 1000) * 1000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        if let source {
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr(source)
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            guard bound == 0 else { throw HarnessError("bind \(source): \(String(cString: strerror(errno)))") }
        }
    }

    deinit { close(fd) }

    var localPort: UInt16 {
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return UInt16(bigEndian: address.sin_port)
    }

    /// Sends one datagram to andond on 127.0.0.1 without waiting for its reply.
    func send(_ message: [UInt8], port: UInt16) throws {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let sent = message.withUnsafeBytes { bytes in
            withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(fd, bytes.baseAddress, bytes.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        }
        guard sent == message.count else { throw HarnessError("sendto: \(String(cString: strerror(errno)))") }
    }

    /// The next reply, or nil after the receive timeout. `state` messages (what andond tells a line's controller
    /// about its calls, unasked) are not replies: they are kept for `receiveState()`.
    func receive() -> String? {
        while let datagram = receiveAny() {
            guard datagram.hasPrefix("state ") else { return datagram }
            states.append(datagram.trimmingCharacters(in: .newlines))
        }
        return nil
    }

    /// The next datagram, whatever it is, or nil after the receive timeout.
    func receiveAny() -> String? {
        var buffer = [UInt8](repeating: 0, count: 65_536)
        let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        return count > 0 ? String(decoding: buffer[..<count], as: UTF8.self) : nil
    }

    /// `state` messages received while waiting for replies.
    private var states: [String] = []

    /// The next `state` message (one kept while waiting for a reply first), or nil after the receive timeout.
    func receiveState() -> String? {
        if !states.isEmpty { return states.removeFirst() }
        while let datagram = receiveAny() {
            if datagram.hasPrefix("state ") { return datagram.trimmingCharacters(in: .newlines) }
        }
        return nil
    }

    func exchange(_ message: [UInt8], port: UInt16) throws -> String {
        try send(message, port: port)
        guard var reply = receive() else { throw HarnessError("no UDP reply: \(String(cString: strerror(errno)))") }
        if reply.hasSuffix("\n") { reply.removeLast() }
        return reply
    }

    /// As a controller does: sends `message` (which carries a `seq`) again after each receive timeout, up to
    /// `attempts` times, and returns the first reply echoing that `seq`. A retransmit gets the first answer again, so
    /// a reply lost or late (an fsync stalling past the timeout) does not fail a test that is not about UDP loss.
    func exchangeResending(_ message: String, port: UInt16, attempts: Int = 5) throws -> String {
        guard let seq = field("seq", of: message) else { throw HarnessError("no seq in \(message)") }
        for _ in 0..<attempts {
            try send(Array(message.utf8), port: port)
            while var reply = receive() {
                if reply.hasSuffix("\n") { reply.removeLast() }
                if field("seq", of: reply) == seq { return reply }
            }
        }
        throw HarnessError("no UDP reply to \(message) after \(attempts) attempts")
    }
}

struct HarnessError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// The value of `key=` in a reply line (unquoted values only).
func field(_ key: String, of reply: String) -> String? {
    for token in reply.split(separator: " ") where token.hasPrefix("\(key)=") {
        return String(token.dropFirst(key.count + 1))
    }
    return nil
}
