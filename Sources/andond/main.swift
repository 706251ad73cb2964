import AndonDaemon
import ArgumentParser
import Foundation
import Glibc

@main
struct Andond: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "andond",
        abstract: "The andon alert daemon: takes andon and line-stop signals, escalates them, writes the journal.",
        discussion: """
            Runs in the foreground until SIGTERM or SIGINT. Listens on the UNIX socket and the UDP addresses of the \
            configuration's listen: section, or on those given here. Every step of every call is a journal entry \
            (journalctl -f SYSLOG_IDENTIFIER=andond). Exit status: 0 after a clean stop, 1 when the configuration is \
            invalid or a socket cannot be bound.
            """,
        version: andondVersion
    )

    @Option(name: [.customShort("c"), .long], help: "The configuration file.")
    var config: String = "/etc/andond/andond.yaml"

    @Option(help: "Listen for controllers on this UDP HOST:PORT instead of the configuration's (repeatable).")
    var udp: [String] = []

    @Option(help: "Listen on this UNIX socket path instead of the configuration's.")
    var socket: String?

    @Option(
        help: """
            Serve the web board, live events, metrics and acknowledge links on this HOST:PORT instead of the \
            configuration's listen.http (repeatable; port 0 picks a free one, which andonctl ping shows).
            """
    )
    var http: [String] = []

    @Option(
        help: "Where to keep the state: open calls, the input log (default: $STATE_DIRECTORY, else /var/lib/andond)."
    )
    var stateDirectory: String?

    @Flag(
        inversion: .prefixedNo,
        help: """
            Also print each journal entry readably to standard error (default: when standard error is a terminal \
            and andond does not run under systemd).
            """
    )
    var echo: Bool?

    @Option(
        help: """
            While the state cannot be written (a full disk), at most this many inputs wait in memory; further \
            signals and answers get err code=storage-failing until it can, and the controllers resend.
            """
    )
    var maxWaitingInputs: Int = 10_000

    func run() async throws {
        let underSystemd = ProcessInfo.processInfo.environment["JOURNAL_STREAM"] != nil
        let options = DaemonOptions(
            configPath: config,
            udp: udp.isEmpty ? nil : udp,
            socket: socket,
            http: http.isEmpty ? nil : http,
            stateDirectory: stateDirectory,
            echo: echo ?? (isatty(STDERR_FILENO) == 1 && !underSystemd),
            maxWaitingInputs: max(1, maxWaitingInputs)
        )
        let status = await Daemon.run(options)
        if status != 0 { throw ExitCode(status) }
    }
}
