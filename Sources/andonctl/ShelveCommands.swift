import AndonCore
import AndonProtocol
import ArgumentParser
import Foundation

/// Shelving a line's calls, and taking a station out of service (docs/protocol.md, "Shelving").
extension Andonctl {
    struct Shelve: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Shelve a line's calls (a station's, a category's): recorded and timed, nobody called.",
            discussion: """
                --for DURATION (at most max_shelve, default 8h) shelves the open calls and the new ones until then; \
                --until-clear shelves the calls open now until each is over. Safety calls and line stops are never \
                shelved. When a shelf ends, every call still open on it calls its tier again. Who, why and until \
                when go to the journal; status, the boards and the stations' feedback show it. Allowed to \
                responders and root.
                """
        )

        @Option(help: "The line.") var line: String
        @Option(help: "Only this station's calls.") var station: String?
        @Option(help: "Only calls of this category: \(AndonCore.Category.names).") var category: String?
        @Option(name: .customLong("for"), help: "How long, such as 90m or 2h.") var duration: String?
        @Flag(help: "Until the calls open now are over (one-shot).") var untilClear = false
        @Option(help: "Why, for the journal and the next shift (required).") var reason: String
        @OptionGroup var client: ClientOptions

        func validate() throws {
            guard (duration != nil) != untilClear else { throw ValidationError("give --for DURATION or --until-clear") }
            if let duration, Duration(compact: duration) == nil {
                throw ValidationError("--for takes a duration such as 90m or 2h")
            }
            if let category, AndonCore.Category(rawValue: category) == nil {
                throw ValidationError("unknown category '\(category)': use one of \(AndonCore.Category.names)")
            }
        }

        func run() throws {
            let reply = try client.send(
                .shelve(
                    line: LineID(rawValue: line),
                    station: station.map { StationID(rawValue: $0) },
                    category: category.flatMap(AndonCore.Category.init(rawValue:)),
                    duration: duration.flatMap { Duration(compact: $0) },
                    reason: reason
                )
            )
            let calls = reply["incidents"].map { "incidents \($0)" } ?? "no open call yet"
            // The site's local time, as andond's journal says it.
            let until = reply["until_local"] ?? "its calls are over"
            client.printOK(reply, text: "shelf \(reply["shelf"] ?? "?"): \(calls) shelved until \(until)")
        }
    }

    struct Unshelve: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "End a line's shelves (a station's, a category's): their open calls call their tiers again."
        )

        @Option(help: "The line.") var line: String
        @Option(help: "Only the shelves of this station.") var station: String?
        @Option(help: "Only the shelves of this category.") var category: String?
        @OptionGroup var client: ClientOptions

        func run() throws {
            let reply = try client.send(
                .unshelve(
                    line: LineID(rawValue: line),
                    station: station.map { StationID(rawValue: $0) },
                    category: category.flatMap(AndonCore.Category.init(rawValue:))
                )
            )
            let calls = reply["incidents"].map { "; calling again for incidents \($0)" } ?? ""
            client.printOK(reply, text: "shelf \(reply["shelf"] ?? "?") ended\(calls)")
        }
    }

    struct OutOfService: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "out-of-service",
            abstract: "Take a station out of service (under repair): its cords are counted, and call nobody.",
            discussion: "A safety andon still calls everyone, and a line stop its chain. Back with in-service."
        )

        @Option(help: "The line.") var line: String
        @Option(help: "The station.") var station: String
        @Option(help: "Why, for the journal and the next shift (required).") var reason: String
        @OptionGroup var client: ClientOptions

        func run() throws {
            let reply = try client.send(
                .outOfService(line: LineID(rawValue: line), station: StationID(rawValue: station), reason: reason)
            )
            client.printOK(reply, text: "\(line)/\(station) is out of service")
        }
    }

    struct InService: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "in-service",
            abstract: "Put a station back in service."
        )

        @Option(help: "The line.") var line: String
        @Option(help: "The station.") var station: String
        @OptionGroup var client: ClientOptions

        func run() throws {
            let reply = try client.send(.inService(line: LineID(rawValue: line), station: StationID(rawValue: station)))
            client.printOK(reply, text: "\(line)/\(station) is back in service")
        }
    }
}
