import AndonControl
import AndonCore
import AndonProtocol
import ArgumentParser
import Foundation

/// Options of every command that talks to andond.
struct ClientOptions: ParsableArguments {
    @Option(help: "andond's socket (default: $ANDOND_SOCKET, else /run/andond.sock).")
    var socket: String?

    @Flag(help: "Print the daemon's answer as JSON.")
    var json = false

    var client: ControlClient { ControlClient(path: socket) }

    /// Sends a request; prints refusals and maps them to exit codes (69 unreachable, 77 not authorized, 1 refused).
    func send(_ request: Request, timeout: Duration = .seconds(10)) throws -> Reply {
        let reply: Reply
        do {
            var client = self.client
            client.timeout = timeout
            reply = try client.send(request)
        } catch {
            if json {
                let code = if case .unreachable = error { "unreachable" } else { "protocol" }
                print(#"{"error":{"code":"\#(code)","reason":\#(jsonString(error.description))}}"#)
            }
            printError("andonctl: \(error)")
            if case .unreachable = error { throw ExitCode(ExitCodes.unreachable) }
            throw ExitCode.failure
        }
        if case .error(let error) = reply {
            if json {
                print(#"{"error":{"code":"\#(error.code)","reason":\#(jsonString(error.reason))}}"#)
            } else {
                printError("andonctl: \(error.reason) [\(error.code)]")
            }
            throw ExitCode(error.code == .notAuthorized ? ExitCodes.notAuthorized : ExitCodes.refused)
        }
        return reply
    }

    /// Prints an `ok` reply: its fields as JSON (numbers as numbers, lists as lists), or as `key=value` text.
    func printOK(_ reply: Reply, text: String? = nil) {
        guard case .ok(let fields) = reply else { return }
        if json {
            print(Self.typedJSON(fields.map { ($0.key, $0.value) }))
        } else {
            print(text ?? reply.rendered.escapingControlCharacters)
        }
    }

    /// Reply fields that are numbers, and those that are comma-separated lists.
    static let numberFields: Set<String> = ["incident", "count", "seq", "changes", "pid", "limit", "total"]
    static let listFields: Set<String> = ["incidents", "responders", "stations", "owners", "udp"]

    /// One JSON object of reply fields, keys sorted, with the types above.
    static func typedJSON(_ fields: [(String, String)]) -> String {
        let body = fields.sorted { $0.0 < $1.0 }.map { key, value -> String in
            let typed: String
            if numberFields.contains(key), let number = Int64(value) {
                typed = String(number)
            } else if listFields.contains(key) {
                typed = "[" + value.split(separator: ",").map { jsonString(String($0)) }.joined(separator: ",") + "]"
            } else {
                typed = jsonString(value)
            }
            return "\(jsonString(key)):\(typed)"
        }
        return "{" + body.joined(separator: ",") + "}"
    }
}

enum ExitCodes {
    static let refused: Int32 = 1
    static let unreachable: Int32 = 69
    static let notAuthorized: Int32 = 77
}

func jsonString(_ text: String) -> String {
    JSONWriter.encode(text)
}

extension Andonctl {
    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the open calls: where, what, which tier, who, how long."
        )

        @OptionGroup var client: ClientOptions

        @Option(help: "Only the calls of this line.") var line: String?

        @Option(
            help: "At most this many calls, oldest first; the rest are counted (0: all; default 500, with --json all)."
        )
        var limit: Int?

        func validate() throws {
            if let line, LineID(validating: line) == nil { throw ValidationError("--line \(line) is not a line name") }
            if let limit, limit < 0 { throw ValidationError("--limit must be 0 (all) or more") }
        }

        func run() throws {
            let limit = self.limit ?? (client.json ? 0 : 500)
            let reply = try client.send(
                .status(line: line.map { LineID(rawValue: $0) }, limit: limit == 0 ? nil : limit)
            )
            if client.json {
                print(reply["json"] ?? "{}")
                return
            }
            print(StatusFormatter.render(try ControlClient.payload(StatusReport.self, of: reply)))
        }
    }

    struct Ack: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Acknowledge a call: you take it, and escalation stops.",
            discussion:
                "Allowed to a responder notified for the call and on duty (after a shift change, the outgoing ones for handover_grace), anyone on the KPO rota, and root."
        )

        @Argument(help: "The incident number (andonctl status).") var id: UInt64?
        @Option(help: "A note for the journal, such as 'on my way'.") var note: String?
        @Option(
            help:
                "An acknowledge link's token (the end of the link a notification carried): acknowledges as the one it was sent to, once."
        )
        var token: String?
        @OptionGroup var client: ClientOptions

        func validate() throws {
            if token != nil && (id != nil || note != nil) {
                throw ValidationError("give an incident number (and --note), or --token alone")
            }
            if token == nil && id == nil { throw ValidationError("give the incident number, or --token TOKEN") }
        }

        func run() throws {
            if let token {
                let reply = try client.send(.acknowledgeByToken(token))
                client.printOK(
                    reply,
                    text: "acknowledged incident \(reply["incident"] ?? "?") as \(reply["by"] ?? "?")"
                )
                return
            }
            let id = id ?? 0
            let reply = try client.send(.acknowledge(IncidentID(id), note: note))
            client.printOK(reply, text: "acknowledged incident \(id)")
        }
    }

    struct Arrive: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Say you are at the station for a call (it is acknowledged too, if nobody had).",
            discussion: """
                A tier with arrive_within escalates a call that is acknowledged but has nobody at the station in \
                time. The journal's arrived entry carries the time to acknowledge and the time to arrive \
                (ANDON_ACK_MS, ANDON_ARRIVE_MS). Allowed to whoever may acknowledge the call.
                """
        )

        @Argument(help: "The incident number (andonctl status).") var id: UInt64
        @Option(help: "A note for the journal, such as 'at the press, waiting for parts'.") var note: String?
        @OptionGroup var client: ClientOptions

        func run() throws {
            let reply = try client.send(.arrive(IncidentID(id), note: note))
            client.printOK(reply, text: "arrived for incident \(id)")
        }
    }

    struct Resolve: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Close a call with the countermeasure taken.",
            discussion:
                "Allowed to a responder notified for the call and on duty (after a shift change, the outgoing ones for handover_grace), anyone on the KPO rota, and root."
        )

        @Argument(help: "The incident number.") var id: UInt64
        @Option(help: "What was done: the countermeasure (required).") var note: String
        @OptionGroup var client: ClientOptions

        func run() throws {
            let reply = try client.send(.resolve(IncidentID(id), note: note))
            client.printOK(reply, text: "resolved incident \(id)")
        }
    }

    struct Escalate: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Move a call to the next tier now.")

        @Argument(help: "The incident number.") var id: UInt64
        @Option(help: "Why, for the journal.") var reason: String?
        @OptionGroup var client: ClientOptions

        func run() throws {
            let reply = try client.send(.escalate(IncidentID(id), reason: reason))
            client.printOK(reply, text: "escalated incident \(id) to \(reply["tier"] ?? "the next tier")")
        }
    }

    struct Raise: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Pull the andon cord by hand (as a line controller would)."
        )

        @Option(help: "The line.") var line: String
        @Option(help: "The station.") var station: String
        @Option(help: "The category: \(AndonCore.Category.names).") var category: String
        @Option(help: "What is wrong, for the responders.") var text: String?
        @Flag(help: "A drill: the whole chain runs for real, every entry says DRILL, reports leave it out.")
        var drill = false
        @OptionGroup var client: ClientOptions

        func validate() throws {
            if AndonCore.Category(rawValue: category) == nil {
                throw ValidationError("unknown category '\(category)': use one of \(AndonCore.Category.names)")
            }
        }

        func run() throws {
            let signal = Signal.andon(
                line: LineID(rawValue: line),
                station: StationID(rawValue: station),
                category: AndonCore.Category(rawValue: category)!,  // validate() checked it
                text: text
            )
            client.printOK(try client.send(.signal(signal, sequence: nil, drill: drill)))
        }
    }

    struct Stop: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Report a line stop by hand (with --station: that station stopped it)."
        )

        @Option(help: "The line.") var line: String
        @Option(help: "The station whose andon stopped the line.") var station: String?
        @Option(help: "Why the line stopped.") var reason: String?
        @Flag(help: "A drill: the whole chain runs for real, every entry says DRILL, reports leave it out.")
        var drill = false
        @OptionGroup var client: ClientOptions

        func run() throws {
            let signal = Signal.stop(
                line: LineID(rawValue: line),
                station: station.map(StationID.init(rawValue:)),
                reason: reason
            )
            client.printOK(try client.send(.signal(signal, sequence: nil, drill: drill)))
        }
    }

    struct Clear: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Reset a station's andon by hand.",
            discussion: """
                Like the station's own reset: only the line's controllers (lines.<line>.controllers) and root may. \
                A call closed this way has no countermeasure: prefer andonctl resolve. A safety call cleared so is \
                flagged for KPO review.
                """
        )

        @Option(help: "The line.") var line: String
        @Option(help: "The station.") var station: String
        @Option(help: "Only this category's call (default: every call at the station).") var category: String?
        @OptionGroup var client: ClientOptions

        func validate() throws {
            if let category, AndonCore.Category(rawValue: category) == nil {
                throw ValidationError("unknown category '\(category)': use one of \(AndonCore.Category.names)")
            }
        }

        func run() throws {
            let signal = Signal.clear(
                line: LineID(rawValue: line),
                station: StationID(rawValue: station),
                category: category.flatMap(AndonCore.Category.init(rawValue:))
            )
            client.printOK(try client.send(.signal(signal, sequence: nil)))
        }
    }

    struct Resume: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Report that a line runs again by hand.")

        @Option(help: "The line.") var line: String
        @OptionGroup var client: ClientOptions

        func run() throws {
            client.printOK(try client.send(.signal(.resume(line: LineID(rawValue: line)), sequence: nil)))
        }
    }
}

extension Andonctl {
    struct Reload: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make andond read its configuration again, and wait for the verdict.",
            discussion: """
                A valid configuration takes effect at once (open calls keep their state and follow the new rotas); \
                the changes are printed and logged. An invalid one is refused with every error, exit status 1, and \
                andond keeps the configuration it runs. For ExecReload= in andond.service. Root or andond's own user.
                """
        )

        @OptionGroup var client: ClientOptions

        func run() throws {
            let reply: Reply
            do {
                reply = try client.client.send(.reload)
            } catch {
                printError("andonctl: \(error)")
                if case .unreachable = error { throw ExitCode(ExitCodes.unreachable) }
                throw ExitCode.failure
            }
            switch reply {
            case .error(let error):
                if client.json {
                    let details = error.details.map(jsonString).joined(separator: ",")
                    print(
                        #"{"error":{"code":"\#(error.code)","details":[\#(details)],"reason":\#(jsonString(error.reason))}}"#
                    )
                }
                printError("andonctl: reload refused: \(error.reason)")
                for line in error.details { printError(line) }
                throw ExitCode(error.code == .notAuthorized ? ExitCodes.notAuthorized : ExitCodes.refused)
            case .ok:
                let changes = Int(reply["changes"] ?? "0") ?? 0
                if client.json {
                    let details = (reply["details"].map(Reply.decodeLines) ?? []).map(jsonString)
                    print(#"{"changes":\#(changes),"details":[\#(details.joined(separator: ","))]}"#)
                    return
                }
                print(
                    "configuration reloaded: \(changes == 0 ? "no changes" : "\(changes) change\(changes == 1 ? "" : "s")")"
                )
                for line in reply["details"].map(Reply.decodeLines) ?? [] { print("  \(line)") }
            }
        }
    }
}
