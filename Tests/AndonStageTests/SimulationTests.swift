import AndonSimulation
import Foundation
import Testing

/// The simulated plant in the test suite: two seeds of a day each (debug build). `scripts/simulate` runs the
/// full weeks (20 seeds in CI) on a release build; `ANDON_SIMULATE_SEEDS` and `ANDON_SIMULATE_DAYS` change what
/// this test runs. A broken promise names its seed and step; the same seed breaks it again.
@Suite struct SimulationTests {
    static var seeds: [UInt64] {
        ProcessInfo.processInfo.environment["ANDON_SIMULATE_SEEDS"].flatMap { SimulationSeeds.parse($0) } ?? [1, 2]
    }

    static var days: Int { ProcessInfo.processInfo.environment["ANDON_SIMULATE_DAYS"].flatMap { Int($0) } ?? 1 }

    @Test(arguments: seeds)
    func aSimulatedPlantKeepsEveryPromise(seed: UInt64) throws {
        switch PlantWeek.simulate(seed: seed, days: Self.days) {
        case .success(let line): print(line)
        case .failure(let broken): Issue.record("\(broken)")
        }
    }

    /// The same seed gives the same week, step for step.
    @Test func aSeedReproducesItsWeek() throws {
        let first = try PlantWeek(seed: 42, days: 1, length: .seconds(6 * 3_600)).run()
        let second = try PlantWeek(seed: 42, days: 1, length: .seconds(6 * 3_600)).run()
        #expect(first.steps == second.steps && first.entries == second.entries && first.signals == second.signals)
    }

    @Test func seedsAreRead() {
        #expect(SimulationSeeds.parse("1-3,7") == [1, 2, 3, 7])
        #expect(SimulationSeeds.parse("7") == [7])
        #expect(SimulationSeeds.parse("3-1") == nil && SimulationSeeds.parse("x") == nil)
    }
}
