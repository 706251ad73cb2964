import AndonConfig
import AndonControl
import AndonCore
import AndonProtocol
import AndonStore
import AndonSystemd
import ArgumentParser
import Foundation

extension Andonctl {
    struct ReplayCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "replay",
            abstract:
                "Try a new configuration on past calls: who would have been called, which tiers reached, KPO's load.",
            discussion: """
                Takes the inputs of the calls raised from --since up to --until (the signals, and each responder's \
                answer at the instant it came) and runs them through the escalation engine under --config on a \
                virtual clock, then compares with what happened. The inputs come from andond's input log in its \
                state directory when it can be read (root or andond's user) and reaches back to --since: those are \
                the inputs andond took, exactly. Otherwise they are rebuilt from andond's journal (--source journal \
                asks for that). People are assumed to answer when they did; an answer the new configuration would \
                not let its author give is given by whoever held the call, and counted. Never talks to the running \
                andond and never writes to its state directory. Drill calls are left out unless --drills.
                """
        )

        @Option(help: "The configuration to try (checked as check-config does).") var config: String
        @OptionGroup var journal: JournalWindowOptions
        @Option(
            help: """
                Where the recorded inputs come from: log (andond's input log), journal, or auto (the log when it can \
                be read and reaches back to --since, else the journal; the journal when --directory or --file names \
                journal files).
                """
        )
        var source: Source = .auto
        @Option(help: "andond's state directory, where its input log is.") var stateDirectory = "/var/lib/andond"
        @Flag(help: "Replay drill calls too.") var drills = false
        @Option(help: "Calls that differ to list (default 20; 0: all). --json lists all.") var limit = 20
        @Flag(help: "Print the comparison as JSON.") var json = false

        enum Source: String, ExpressibleByArgument, CaseIterable {
            case auto, log, journal
        }

        func validate() throws {
            if limit < 0 { throw ValidationError("--limit must be 0 (all) or more") }
            if source == .log, journal.directory != nil || !journal.file.isEmpty || !journal.match.isEmpty {
                throw ValidationError(
                    "--directory, --file and --match read the journal; they do not go with --source log"
                )
            }
        }

        func run() throws {
            let (from, to) = journal.window()
            let plant: Plant
            do {
                plant = try ConfigurationLoader.load(
                    path: config,
                    now: Instant(millisecondsSinceEpoch: from),
                    kpoGaps: .leaveToCaller
                ).plant
            } catch {
                for diagnostic in error.diagnostics { printError(diagnostic.description) }
                printError("\(config): invalid; fix it first (andonctl check-config \(config))")
                throw ExitCode.failure
            }
            var history = try self.history(from: from, to: to)
            if let line = journal.line { history.keepCalls { $0.line == line } }
            let result = Replay(plant: plant, since: from, until: to, includeDrills: drills).run(history)
            if json {
                print(JSONWriter.encode(result))
                return
            }
            print(Self.text(result, config: config, zone: plant.timeZone, limit: limit))
        }

        /// The recorded inputs, from the input log or the journal as `--source` says.
        func history(from: Int64, to: Int64) throws -> ReplayHistory {
            let namesJournalFiles = journal.directory != nil || !journal.file.isEmpty || !journal.match.isEmpty
            if source == .log || (source == .auto && !namesJournalFiles) {
                do {
                    let log = try InputLog(directory: stateDirectory)
                    let history = try ReplayHistory(log: log, since: from, until: to)
                    if source == .log || (history.source.knownFrom ?? .min) <= from { return history }
                    printError(
                        "andonctl replay: the input log \(log.path) reaches back only to "
                            + "\(Self.localTime(history.source.knownFrom)); reading the journal instead"
                    )
                } catch let error as StoreError where source == .auto && error.code == .unusable {
                    // No log here (or none this user may read): the journal, quietly when there is none at all.
                    if FileManager.default.fileExists(atPath: stateDirectory + "/" + StateStore.databaseName) {
                        printError("andonctl replay: \(error.message); reading the journal instead")
                    }
                } catch {
                    printError("andonctl replay: \(error)")
                    throw ExitCode.failure
                }
            }
            var entries: [ReportEntry] = []
            try journal.forEachEntry(from: from) { entries.append($0) }
            return ReplayHistory(journal: entries, since: from, until: to)
        }

        static func localTime(_ at: Int64?) -> String {
            guard let at else { return "nothing" }
            return Date(timeIntervalSince1970: Double(at) / 1000).formatted(.iso8601)
        }

        static func text(_ result: Replay.Result, config: String, zone: SiteTimeZone, limit: Int) -> String {
            func local(_ at: Int64) -> String { zone.local(Instant(millisecondsSinceEpoch: at)).description }
            let from =
                result.source == "log"
                ? "andond's input log \(result.log ?? "")" : "inputs rebuilt from the journal"
            var out = [
                "replay of \(result.calls) calls raised \(local(result.since)) to \(local(result.until)) under \(config)",
                "(a simulation from \(from); the running andond is not touched)",
            ]
            if let known = result.knownFrom, known > result.since {
                out.append("The input log knows every input only from \(local(known)): calls before it are not here.")
            }
            if result.end < result.until {
                out.append("What happened is known up to \(local(result.end)); the replay stops there.")
            }
            if result.skippedInputs > 0 {
                out.append("Recorded inputs that could not be read back: \(result.skippedInputs)")
            }
            out.append("")
            let rows: [[String]] = [
                ["", "RECORDED", "REPLAYED"],
                ["calls that reached KPO", String(result.recorded.reachedKPO), String(result.replayed.reachedKPO)],
                ["escalations", String(result.recorded.escalations), String(result.replayed.escalations)],
                [
                    "unanswered repeats at KPO", String(result.recorded.unansweredAtKPO),
                    String(result.replayed.unansweredAtKPO),
                ],
                [
                    "KPO's busiest hour (calls)", String(result.recorded.kpoPeakHour),
                    String(result.replayed.kpoPeakHour),
                ],
            ]
            out += Self.table(rows)
            let users = Set(result.recorded.callsByResponder.keys).union(result.replayed.callsByResponder.keys)
            let changed = users.filter {
                result.recorded.callsByResponder[$0] != result.replayed.callsByResponder[$0]
            }
            .sorted()
            out.append("")
            if changed.isEmpty {
                out.append("Everyone would have been called for the same number of calls.")
            } else {
                out.append("Calls per responder, where they differ:")
                out += Self.table(
                    [["RESPONDER", "RECORDED", "REPLAYED"]]
                        + changed.map {
                            [
                                $0, String(result.recorded.callsByResponder[$0] ?? 0),
                                String(result.replayed.callsByResponder[$0] ?? 0),
                            ]
                        }
                )
            }
            out.append("")
            out.append(
                "Answers the new configuration would not let their author give (given by whoever held the call): "
                    + "\(result.actionsTakenByOthers)"
            )
            if result.refusedSignals > 0 {
                out.append("Signals the new configuration refuses (unknown line or station): \(result.refusedSignals)")
            }
            out.append("Calls whose path differs: \(result.differences.count)")
            let shown = limit == 0 ? result.differences : Array(result.differences.prefix(limit))
            for difference in shown {
                let place = difference.station.map { "\(difference.line)/\($0)" } ?? difference.line
                out.append(
                    "  #\(difference.incident) \(place) \(difference.category ?? "-") \(local(difference.raisedAt)): "
                        + "\(difference.recordedTiers.joined(separator: " > ")) "
                        + "(\(difference.recordedResponders.joined(separator: ",")))  became  "
                        + "\(difference.replayedTiers.joined(separator: " > ")) "
                        + "(\(difference.replayedResponders.joined(separator: ",")))"
                )
            }
            if shown.count < result.differences.count {
                out.append("  ... and \(result.differences.count - shown.count) more (--limit 0, or --json)")
            }
            return out.joined(separator: "\n")
        }

        static func table(_ rows: [[String]]) -> [String] {
            let widths = rows[0].indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
            return rows.map { row in
                row.enumerated().map { column, cell in
                    let pad = String(repeating: " ", count: widths[column] - cell.count)
                    return column == 0 ? cell + pad : pad + cell
                }
                .joined(separator: "  ")
            }
        }
    }
}
