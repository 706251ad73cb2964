import AndonCore
import Foundation

/// Seeds as `scripts/simulate` and `ANDON_SIMULATE_SEEDS` give them: "7", "1-20", "3,9,12-14".
package enum SimulationSeeds {
    package static func parse(_ text: String) -> [UInt64]? {
        var seeds: [UInt64] = []
        for part in text.split(separator: ",") {
            let bounds = part.split(separator: "-").map { UInt64($0) }
            guard !bounds.contains(nil), let first = bounds.first ?? nil else { return nil }
            let last = bounds.count == 2 ? bounds[1]! : first
            guard bounds.count <= 2, first <= last else { return nil }
            seeds += Array(first...last)
        }
        return seeds.isEmpty ? nil : seeds
    }
}

extension PlantWeek {
    /// Runs one seed: its figures as one line, or the promise it broke.
    package static func simulate(seed: UInt64, days: Int) -> Result<String, BrokenPromise> {
        let started = ContinuousClock.now
        let week: PlantWeek
        let figures: Figures
        do {
            week = try PlantWeek(seed: seed, days: days)
            figures = try week.run()
        } catch let broken as BrokenPromise {
            return .failure(broken)
        } catch {
            return .failure(BrokenPromise(seed: seed, step: 0, at: .init(millisecondsSinceEpoch: 0), what: "\(error)"))
        }
        let elapsed = ContinuousClock.now - started
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return .success(
            "simulate: seed \(seed): \(days) days of \(week.plant.lineCount) lines (\(week.plant.week.name)) "
                + "in \(String(format: "%.1f", seconds)) s: \(figures.steps) steps, \(figures.signals) signals "
                + "(\(figures.resends) resent), \(figures.answers) answers, \(figures.entries) entries, at most "
                + "\(figures.maxOpen) open; \(figures.crashes) crashes (\(figures.tornInputs) torn inputs), "
                + "\(figures.restarts) restarts, \(figures.reloads) reloads (\(figures.reloadsRefused) refused), "
                + "\(figures.storageWindows) full disks (\(figures.refusedStorage) refused), \(figures.outages) "
                + "journald outages: every promise kept"
        )
    }
}
