import Foundation
import Glibc
import Testing

/// `andonctl board` as a person sees it: in a real terminal (tmux, 80x24), against a live andond; keys sent with
/// send-keys, the screen read with capture-pane.
@Suite(.serialized) struct BoardTests {
    static let tmux = "/usr/bin/tmux"

    /// Runs tmux with its own server socket (never the user's) and returns its standard output. Spawned and reaped
    /// by hand: the client that starts the server forks it off, and Foundation's Process then never sees the client
    /// end (it stays a zombie and waitUntilExit waits for ever).
    @discardableResult
    static func tmux(_ socket: String, _ arguments: [String]) throws -> String {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("andond-tmux-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: output) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output.path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        // Through bash, which closes every descriptor above 2 first: posix_spawn passes on whatever this process has
        // open without close-on-exec, such as the pipes other tests are reading their andonctl's output from, and the
        // tmux server would hold their write ends (those tests then wait for an end of file that never comes).
        let closeAndRun =
            #"for fd in /proc/$$/fd/*; do n=${fd##*/}; [ "$n" -gt 2 ] && eval "exec $n>&-"; done 2>/dev/null; exec "$@""#
        let shell = "/bin/bash"
        let argv = ([shell, "-c", closeAndRun, "tmux", tmux, "-S", socket] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, shell, &actions, nil, argv, environ)
        guard spawned == 0 else { throw HarnessError("tmux: \(String(cString: strerror(spawned)))") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0, errno == EINTR {}
        return (try? String(contentsOf: output, encoding: .utf8)) ?? ""
    }

    /// The screen, polled (bounded) until `until` holds.
    static func screen(
        _ socket: String,
        colors: Bool = false,
        // Events redraw the board in well under a second; under a loaded CI journald itself can lag by seconds.
        timeout: TimeInterval = 20,
        until: (String) -> Bool
    ) throws -> String {
        let deadline = Date().addingTimeInterval(timeout)
        var text = ""
        repeat {
            text = try tmux(socket, ["capture-pane", "-p"] + (colors ? ["-e"] : []) + ["-t", "board"])
            if until(text) { return text }
            usleep(100_000)
        } while Date() < deadline
        return text
    }

    @Test func theBoardRedrawsOnEventsFitsTheTerminalAndGivesItBack() throws {
        try #require(DaemonTests.usersReady, "needs root to create test users")
        try #require(FileManager.default.isExecutableFile(atPath: Self.tmux), "needs tmux (scripts/setup installs it)")
        let daemon = try DaemonHarness()
        // tmux's socket in a directory of its own: the harness may remove its directory as soon as `daemon` is last
        // used, and a server whose socket is gone cannot be told to stop.
        let tmuxDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("andond-tmux-\(UUID())")
        try FileManager.default.createDirectory(at: tmuxDirectory, withIntermediateDirectories: true)
        let socket = tmuxDirectory.appendingPathComponent("tmux").path
        var server: pid_t = 0
        defer {
            _ = try? Self.tmux(socket, ["kill-server"])
            // And for certain: a server left behind keeps a dead pane and its board's zombie.
            if server > 0 { kill(server, SIGKILL) }
            try? FileManager.default.removeItem(at: tmuxDirectory)
        }
        #expect(try daemon.udp("andon line=L1 station=S1 category=help").hasPrefix("ok incident=1 "))
        let command = [
            DaemonHarness.andonctl, "board", "--socket", daemon.socketPath, "--match", "_PID=\(daemon.pid)",
        ]
        .joined(separator: " ")
        try Self.tmux(socket, ["new-session", "-d", "-s", "board", "-x", "80", "-y", "24", command])
        try Self.tmux(socket, ["set-option", "-t", "board", "remain-on-exit", "on"])
        // What the board writes from here on, raw: the last thing must give the terminal back.
        let written = tmuxDirectory.appendingPathComponent("pane.out").path
        try Self.tmux(socket, ["pipe-pane", "-t", "board", "-o", "cat >> \(written)"])
        server =
            pid_t(try Self.tmux(socket, ["display", "-p", "#{pid}"]).trimmingCharacters(in: .whitespacesAndNewlines))
            ?? 0

        var screen = try Self.screen(socket) { $0.contains("#1 help L1/S1") }
        #expect(screen.contains("ANDON  Test plant"))
        #expect(screen.contains("KPO on duty:") && screen.contains("andontest-k"))
        #expect(screen.contains("calling andontest-tl"))
        let rows = screen.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(rows.allSatisfy { $0.count <= 80 })
        #expect(try Self.tmux(socket, ["display", "-p", "-t", "board", "#{alternate_on}"]).hasPrefix("1"))

        // An event redraws it: an acknowledgement, then a line stop (red: 41 is a red background).
        #expect(try daemon.andonctl(["ack", "1"], as: DaemonHarness.teamLeader).status == 0)
        screen = try Self.screen(socket) { $0.contains("on the way: andontest-tl") }
        #expect(screen.contains("on the way: andontest-tl"))
        #expect(try daemon.udp("stop line=L2 station=S4 reason=jam").hasPrefix("ok"))
        screen = try Self.screen(socket, colors: true) { $0.contains("LINE STOP") }
        #expect(screen.contains("LINE STOP"))
        let l2 = screen.split(separator: "\n").first { $0.contains("L2") && $0.contains("S4") } ?? ""
        #expect(l2.contains("41m") || l2.contains("41;"), "L2's row is red: \(l2.debugDescription)")
        let l1 = screen.split(separator: "\n").first { $0.hasPrefix("\u{1b}[1mL1") || $0.hasPrefix("L1") } ?? ""
        #expect(l1.contains("43m") || l1.contains("43;"), "L1/S1 is yellow: \(l1.debugDescription)")

        // A larger terminal shows more; a drill is marked.
        #expect(try daemon.udp("andon line=L3 station=S9 category=quality drill=1").hasPrefix("ok"))
        screen = try Self.screen(socket) { $0.contains("DRILL") }
        #expect(screen.contains("DRILL #"))

        // Ctrl-C: the board ends, and the terminal is given back: off the alternate screen, and the
        // cursor shown again as the last thing written (tmux's own cursor flag is not a witness: a dead pane's is off).
        try Self.tmux(socket, ["send-keys", "-t", "board", "C-c"])
        let deadline = Date().addingTimeInterval(5)
        var dead = ""
        repeat {
            dead = try Self.tmux(
                socket,
                ["display", "-p", "-t", "board", "#{pane_dead} #{alternate_on}"]
            )
            if dead.hasPrefix("1") { break }
            usleep(100_000)
        } while Date() < deadline
        #expect(dead.trimmingCharacters(in: .whitespacesAndNewlines) == "1 0")
        let raw = (try? String(contentsOfFile: written, encoding: .utf8)) ?? ""
        #expect(
            raw.hasSuffix("\u{1b}[0m\u{1b}[?25h\u{1b}[?1049l"),
            "the board's last bytes: \(raw.suffix(40).debugDescription)"
        )
        #expect(!(try Self.screen(socket) { _ in true }).contains("ANDON"))
        withExtendedLifetime(daemon) {}
    }

    @Test func onceDrawsOneFrameForScripts() throws {
        try #require(DaemonTests.usersReady, "needs root to create test users")
        let daemon = try DaemonHarness()
        #expect(try daemon.udp("stop line=L3 reason=power").hasPrefix("ok"))
        let result = try daemon.andonctl(["board", "--once", "--no-color", "--match", "_PID=\(daemon.pid)"])
        #expect(result.status == 0)
        #expect(result.stdout.contains("LINE STOP"))
        #expect(!result.stdout.contains("\u{1b}["))
        #expect(result.stdout.split(separator: "\n").count <= 24)
    }
}
