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

        @Option(help: "From this time (default 7d, a week ago): \(JournalTime.help).") var since = "7d"
        @Option(help: "Up to this time (default now).") var until = "now"
        @Option(help: "Only this line's calls.") var line: String?
        @Option(help: "text (default), csv, json or html (one self-contained page).") var format: Format = .text
        @Flag(help: "The same as --format json.") var json = false
        @Option(help: "Read the journal files in this directory instead of the machine's journal.") var directory:
            String?
        @Option(help: "Read this journal file (repeat for more).") var file: [String] = []
        @Option(help: "Only entries with FIELD=VALUE, as journalctl matches (repeat for more).") var match: [String] =
            []
        @Flag(help: "Count drill calls (ANDON_DRILL=1) like real ones.") var drills = false
        @Option(help: "Days in this time zone (default: the plant's, as its entries name it).") var timeZone: String?
        @Option(name: [.short, .long], help: "Write the report to this file instead of standard output.") var output:
            String?

        enum Format: String, ExpressibleByArgument, CaseIterable {
            case text, csv, json, html
        }

        func validate() throws {
            guard let from = JournalTime.parse(since) else {
                throw ValidationError("--since \(since) is not a time: use \(JournalTime.help)")
            }
            guard let to = JournalTime.parse(until) else {
                throw ValidationError("--until \(until) is not a time: use \(JournalTime.help)")
            }
            if from >= to { throw ValidationError("--since must be before --until") }
            if directory != nil && !file.isEmpty {
                throw ValidationError("--directory and --file are one or the other")
            }
            if let timeZone, SiteTimeZone(identifier: timeZone) == nil {
                throw ValidationError("--time-zone \(timeZone) is not a time zone: use a name such as Europe/Berlin")
            }
        }

        func run() throws {
            let now = Date()
            let from = JournalTime.parse(since, now: now)!
            let to = JournalTime.parse(until, now: now)!
            var builder = ReportBuilder(
                since: Int64((from.timeIntervalSince1970 * 1000).rounded()),
                until: Int64((to.timeIntervalSince1970 * 1000).rounded()),
                includeDrills: drills,
                timeZone: timeZone.flatMap(SiteTimeZone.init(identifier:)),
                fallbackTimeZone: SiteTimeZone(identifier: TimeZone.current.identifier) ?? .utc
            )
            do {
                let reader = try openJournal(directory: directory, files: file, matches: match, line: line)
                // Journald stamps an entry when it receives it; andond's own instant (ANDON_AT_MS) decides. A day's
                // margin takes in the start of a stop that ran into the window.
                let margin: TimeInterval = 24 * 3600
                reader.seek(realtimeMicroseconds: UInt64(max(0, from.timeIntervalSince1970 - margin) * 1_000_000))
                while reader.next() {
                    if let entry = ReportEntry(fields: reader.entry(prefix: "ANDON_").fields) { builder.add(entry) }
                }
            } catch {
                printError("andonctl: \(error)")
                throw ExitCode.failure
            }
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

/// andond's entries in the machine's journal, or in copied files.
func openJournal(
    directory: String?,
    files: [String],
    matches: [String],
    line: String?
) throws(JournalReadError)
    -> JournalReader
{
    let source: JournalReader.Source =
        directory.map(JournalReader.Source.directory) ?? (files.isEmpty ? .local : .files(files))
    let reader = try JournalReader(source: source)
    try reader.addMatch("SYSLOG_IDENTIFIER=andond")
    if let line { try reader.addMatch("ANDON_LINE=\(line)") }
    for match in matches { try reader.addMatch(match) }
    return reader
}
