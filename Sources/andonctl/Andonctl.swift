import AndonConfig
import AndonCore
import ArgumentParser
import Foundation
import Glibc

@main
struct Andonctl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "andonctl",
        abstract: "Answer andon calls, see who gets called, and check andond's configuration.",
        discussion: """
            Exit codes: 0 success; 1 refused (an invalid configuration, an unknown incident, a bad request); \
            64 a usage error; 69 andond is not reachable; 77 not authorized.
            """,
        version: andonctlVersion,
        subcommands: [
            Status.self, Ack.self, Arrive.self, Resolve.self, Escalate.self, Who.self, Raise.self, Stop.self,
            Clear.self,
            Resume.self,
            Reload.self, CheckConfig.self, Tail.self, Board.self, ReportCommand.self, ReplayCommand.self, Sign.self,
            Deliveries.self, NotifyTest.self, Shelve.self, Unshelve.self, OutOfService.self, InService.self,
        ]
    )

    /// Plain `andonctl` prints its help and exits 64 (a usage error); `--socket` and `--json` may come before the
    /// subcommand as well as after it.
    static func main() {
        let arguments = hoistingSharedOptions(Array(CommandLine.arguments.dropFirst()))
        if arguments.isEmpty {
            printError(helpMessage())
            Glibc.exit(64)
        }
        main(arguments)
    }

    /// Moves the options every client command takes (`--socket PATH`, `--socket=PATH`, `--json`) from before the
    /// subcommand to after it, where the subcommand parses them.
    static func hoistingSharedOptions(_ arguments: [String]) -> [String] {
        var shared: [String] = []
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            if argument == "--socket", index + 1 < arguments.count {
                shared += [argument, arguments[index + 1]]
                index += 2
            } else if argument.hasPrefix("--socket=") || argument == "--json" {
                shared.append(argument)
                index += 1
            } else {
                break
            }
        }
        guard !shared.isEmpty, index < arguments.count else { return arguments }
        return [arguments[index]] + shared + arguments[(index + 1)...]
    }
}

let andonctlVersion = "0.5.0"

/// Prints to standard error.
func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}

/// A time given with `--at`: a local time at the site, or an instant with an explicit offset.
enum TimeArgument {
    case local(LocalDateTime)
    case instant(Instant)

    init(parsing text: String) throws {
        if let local = LocalDateTime(parsing: text) {
            self = .local(local)
        } else if let instant = SiteTimeZone.utc.parseInstant(text) {
            self = .instant(instant)
        } else {
            throw ValidationError(
                "'--at \(text)' is not a time: write a local time at the site (\"2026-11-29 03:00\") "
                    + "or an ISO 8601 instant with its offset (\"2026-11-29T02:00:00Z\")"
            )
        }
    }

    func instant(in zone: SiteTimeZone) -> Instant {
        switch self {
        case .local(let local): zone.instant(of: local)
        case .instant(let instant): instant
        }
    }
}
