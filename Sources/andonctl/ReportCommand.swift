import AndonControl
import AndonCore
import AndonSystemd
import ArgumentParser
import Foundation

extension Andonctl {
    struct ReportCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "report",
            abstract: "How fast the plant answered its calls, where it stopped, and its alarm load: from the journal.",
            discussion: """
                Reads andond's journal entries (root, or a member of group systemd-journal or adm) and reports the \
                calls raised from --since up to --until: calls, time to acknowledge, to arrive and to resolve \
                (median and p90) per line, station, category and shift; escalations and calls that reached KPO; \
                line-stop minutes split at shift and day boundaries, by reason; Pareto of stations and categories; \
                and alarm-management figures (ISA-18.2 / EEMUA 191). docs/report.md defines every figure. Drill \
                calls are left out unless --drills.
                """
        )

        @OptionGroup var journal: JournalWindowOptions
        @Option(help: "text (default), csv, json or html (one self-contained page).") var format: Format = .text
        @Flag(help: "The same as --format json.") var json = false
        @Flag(help: "Count drill calls (ANDON_DRILL=1) like real ones.") var drills = false
        @Option(help: "Days in this time zone (default: the plant's, as its entries name it).") var timeZone: String?
        @Option(name: [.short, .long], help: "Write the report to this file instead of standard output.") var output:
            String?

        enum Format: String, ExpressibleByArgument, CaseIterable {
            case text, csv, json, html
        }

        func validate() throws {
            if let timeZone, SiteTimeZone(identifier: timeZone) == nil {
                throw ValidationError("--time-zone \(timeZone) is not a time zone: use a name such as Europe/Berlin")
            }
        }

        func run() throws {
            let window = journal.window()
            var builder = ReportBuilder(
                since: window.since,
                until: window.until,
                includeDrills: drills,
                timeZone: timeZone.flatMap(SiteTimeZone.init(identifier:)),
                fallbackTimeZone: SiteTimeZone(identifier: TimeZone.current.identifier) ?? .utc
            )
            try journal.forEachEntry(
                from: window.since,
                notifications: { builder.add($0) },
                shelves: { builder.add($0) },
                { builder.add($0) }
            )
            let report = builder.report()
            let text: String
            switch json ? .json : format {
            case .text: text = report.text() + "\n"
            case .csv: text = report.csv()
            case .json: text = report.json() + "\n"
            case .html: text = report.html()
            }
            if let output {
                do {
                    try Data(text.utf8).write(to: URL(fileURLWithPath: output))
                } catch {
                    printError("andonctl: cannot write \(output): \(error.localizedDescription)")
                    throw ExitCode.failure
                }
            } else {
                FileHandle.standardOutput.write(Data(text.utf8))
            }
        }
    }
}
