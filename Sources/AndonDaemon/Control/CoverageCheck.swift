import AndonConfig
import AndonCore
import AndonProtocol
import AndonSystemd
import ServiceLifecycle

/// Looks `ConfigurationLoader.coverageWindow` (14 days) ahead, as `check-config` does at load: andond runs this once a
/// day and after each reload, so a gap that comes within the horizon while it runs (a dated override, the end of a
/// rotation) is said days before it happens. A KPO gap is a `crit` entry and shows in `STATUS=` until a later check
/// finds none; a gap of another rota a tier calls is a warning (its calls skip that tier then).
package struct CoverageCheck: Sendable {
    let clock: any AndonClock
    let journal: any JournalSink
    /// Where the finding shows (`STATUS=`); nil in tests.
    let board: StatusBoard?

    /// Checks `plant`'s coverage from now on; returns the KPO gaps found.
    @discardableResult
    package func check(_ plant: Plant) -> [CoverageGap] {
        let now = clock.now
        let coverage = plant.coverage(from: now, horizon: ConfigurationLoader.coverageWindow)
        let zone = plant.timeZone
        func describe(_ gaps: [CoverageGap]) -> String {
            "\(gaps.summary(in: zone)) (\(gaps.first?.reason ?? ""))"
        }
        func fields(_ rota: RotaID, _ gaps: [CoverageGap]) -> [(JournalField, String)] {
            [
                (.rota, rota.rawValue), (.gaps, String(gaps.count)),
                (.gapStart, String(gaps[0].start.millisecondsSinceEpoch)),
                (.gapEnd, String(gaps[0].end.millisecondsSinceEpoch)),
            ]
        }
        if !coverage.kpo.isEmpty {
            journal.submit(
                .daemon(
                    "KPO will have nobody on duty \(describe(coverage.kpo)): calls that reach KPO then stay "
                        + "unanswered. Add a rotation, members or an override to rota kpo, then reload",
                    priority: .critical,
                    id: MessageID.kpoGapAhead,
                    fields: fields(.kpo, coverage.kpo)
                )
            )
        }
        for other in coverage.others {
            journal.submit(
                .daemon(
                    "rota \(other.rota) will have nobody on duty \(describe(other.gaps)); calls skip its tier then",
                    priority: .warning,
                    id: MessageID.rotaGapAhead,
                    fields: fields(other.rota, other.gaps)
                )
            )
        }
        let note = coverage.kpo.first.map { "KPO GAP from \(zone.format($0.start))" }
        if let board, board.setCoverage(note) { board.poke() }
        return coverage.kpo
    }
}

/// Checks the coming 14 days' coverage at start and then once a day (reloads check too). At start this is the only
/// check of KPO's coverage: andond starts whatever it finds, so that a restart never leaves the open calls on disk
/// unfollowed, and says what it found as a `crit` entry and in `STATUS=`.
struct CoverageService: Service {
    let coverage: CoverageCheck
    let escalation: EscalationService
    var every: Duration = .seconds(86_400)

    func run() async throws {
        coverage.check(escalation.engine.plant)
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try await Task.sleep(for: every)
                coverage.check(escalation.engine.plant)
            }
        }
    }
}
