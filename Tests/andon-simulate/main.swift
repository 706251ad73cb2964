import AndonSimulation
import Foundation

// andon-simulate: seeded plant weeks through andond's stages in-process (scripts/simulate runs it).
//
//   andon-simulate [--seed N | --seeds A-B[,C…]] [--days D]
//
// One line per seed with its figures, or the broken promise with its seed and step (the same seed breaks it again at
// the same step); then the closing line `simulate: N passed, M failed` and the simulated plant-days per second.
// Exits 1 when a promise broke.

var seeds: [UInt64] = [1]
var days = 7
var arguments = CommandLine.arguments.dropFirst()
func usage() -> Never {
    FileHandle.standardError.write(Data("usage: andon-simulate [--seed N | --seeds A-B[,C...]] [--days D]\n".utf8))
    exit(2)
}
while let argument = arguments.popFirst() {
    switch argument {
    case "--seed", "--seeds":
        guard let text = arguments.popFirst(), let parsed = SimulationSeeds.parse(text) else { usage() }
        seeds = parsed
    case "--days":
        guard let text = arguments.popFirst(), let value = Int(text), value > 0 else { usage() }
        days = value
    default: usage()
    }
}

var (passed, failed) = (0, 0)
let started = ContinuousClock.now
for seed in seeds {
    switch PlantWeek.simulate(seed: seed, days: days) {
    case .success(let line):
        passed += 1
        print(line)
    case .failure(let broken):
        failed += 1
        print("simulate: BROKEN \(broken)")
    }
}
let elapsed = ContinuousClock.now - started
let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
print(
    "simulate: \(seeds.count * days) plant-days in \(String(format: "%.1f", seconds)) s: "
        + "\(String(format: "%.2f", Double(seeds.count * days) / seconds)) simulated plant-days/s"
)
print("simulate: \(passed) passed, \(failed) failed")
exit(failed == 0 ? 0 : 1)
