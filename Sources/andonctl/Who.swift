import AndonConfig
import AndonControl
import AndonCore
import AndonProtocol
import AndonSystemd
import ArgumentParser
import Foundation

extension Andonctl {
    struct Who: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show who gets called for a signal, tier by tier, and why.",
            discussion: """
                Prints the chain a call would follow from --at (default: now) if nobody acknowledged: each tier, \
                the rota it calls, who is on duty when the call reaches it, its timeout, and why a tier would be \
                skipped. Give --category for an andon, or --stop for a line stop. Asks the running andond (its live \
                configuration), or reads a configuration file with --config.
                """
        )

        @Option(name: [.customShort("c"), .long], help: "Read this configuration file instead of asking andond.")
        var config: String?

        @OptionGroup var client: ClientOptions

        @Option(help: "The line, such as L2.")
        var line: String

        @Option(help: "The station, such as S3.")
        var station: String?

        @Option(help: "The andon category: \(Category.names).")
        var category: String?

        @Flag(help: "A line stop instead of an andon.")
        var stop = false

        @Option(help: "The time to ask about: local \"YYYY-MM-DD HH:MM\" at the site, or ISO 8601 (default: now).")
        var at: String?

        func validate() throws {
            if stop == (category != nil) {
                throw ValidationError("give either --category (an andon) or --stop (a line stop)")
            }
            if let category, Category(rawValue: category) == nil {
                throw ValidationError("unknown category '\(category)': use one of \(Category.names)")
            }
            if let problem = SafeName.problem(with: line) { throw ValidationError("line name '\(line)' \(problem)") }
            if let station, let problem = SafeName.problem(with: station) {
                throw ValidationError("station name '\(station)' \(problem)")
            }
            _ = try at.map(TimeArgument.init(parsing:))
        }

        func run() throws {
            let start = try? at.map(TimeArgument.init(parsing:))
            let line = LineID(rawValue: self.line)
            let station = self.station.map(StationID.init(rawValue:))
            let category = self.category.flatMap(Category.init(rawValue:))
            guard let config else {
                let request = Request.who(line: line, station: station, category: category, stop: stop, at: at)
                let reply = try client.send(request)
                if client.json {
                    print(reply["json"] ?? "{}")
                } else {
                    print(try ControlClient.payload(WhoReport.self, of: reply).text)
                }
                return
            }
            let now = SystemClock().now
            let plant: Plant
            do {
                plant = try ConfigurationLoader.load(path: config, now: now, kpoGaps: .leaveToCaller).plant
            } catch {
                for diagnostic in error.diagnostics { printError(diagnostic.description) }
                printError("\(config): invalid; fix it first (andonctl check-config \(config))")
                throw ExitCode.failure
            }
            if case .local(let local)? = start, let gap = plant.timeZone.gap(at: local) {
                printError("andonctl: \(gap)")
                throw ExitCode(ExitCodes.refused)
            }
            let when = start?.instant(in: plant.timeZone) ?? now
            let result = plant.chain(line: line, station: station, category: category, stop: stop, at: when)
            switch result {
            case .success(let chain):
                if client.json {
                    print(JSONWriter.encode(WhoReport(chain: chain, plant: plant)))
                } else {
                    print(chain.render(in: plant))
                }
            case .failure(let rejection):
                printError("andonctl: \(rejection.message)")
                throw ExitCode.failure
            }
        }
    }
}
