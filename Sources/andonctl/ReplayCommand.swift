import AndonConfig
import AndonControl
import AndonCore
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
                Rebuilds the inputs of the calls raised from --since up to --until from andond's journal (the \
                signals, and each responder's answer at the instant it came) and runs them through the escalation \
                engine under --config on a virtual clock, then compares with what happened. People are assumed to \
                answer when they did; an answer the new configuration would not let its author give is given by \
                whoever held the call, and counted. Never talks to the running andond. Drill calls are left out \
                unless --drills.
                """
        )

        @Option(help: "The configuration to try (checked as check-config does).") var config: String
        @OptionGroup var journal: JournalWindowOptions
        @Flag(help: "Replay drill calls too.") var drills = false
        @Option(help: "Calls that differ to list (default 20; 0: all). --json lists all.") var limit = 20
        @Flag(help: "Print the comparison as JSON.") var json = false

        func validate() throws {
            if limit < 0 { throw ValidationError("--limit must be 0 (all) or more") }
        }

        func run() throws {
            let (from, to) = journal.window()
            let plant: Plant
            do {
                plant = try ConfigurationLoader.load(path: config, now: Instant(millisecondsSinceEpoch: from)).plant
            } catch {
                for diagnostic in error.diagnostics { printError(diagnostic.description) }
                printError("\(config): invalid; fix it first (andonctl check-config \(config))")
                throw ExitCode.failure
            }
            var entries: [ReportEntry] = []
            try journal.forEachEntry(from: from) { entries.append($0) }
            let result = Replay(plant: plant, since: from, until: to, includeDrills: drills).run(entries)
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys]
                print(String(decoding: try encoder.encode(result), as: UTF8.self))
                return
            }
            print(Self.text(result, config: config, zone: plant.timeZone, limit: limit))
        }

        static func text(_ result: Replay.Result, config: String, zone: SiteTimeZone, limit: Int) -> String {
            func local(_ at: Int64) -> String { zone.local(Instant(millisecondsSinceEpoch: at)).description }
            var out = [
                "replay of \(result.calls) calls raised \(local(result.since)) to \(local(result.until)) under \(config)",
                "(a simulation from the journal: the running andond is not touched)",
                "",
            ]
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
