import Foundation
import Testing

@testable import AndonDaemon

/// Incident numbers never repeat across restarts, and the disk is written once per block, ahead of need.
@Suite struct IncidentNumbersTests {
    @Test func blocksAreReservedAheadAndAStopRecordsTheExactNextNumber() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "andond-numbers-\(UUID().uuidString)"
        )
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("next-incident").path
        func stored() throws -> String { try String(contentsOfFile: file, encoding: .utf8) }

        var numbers = IncidentNumbers(stateDirectory: directory.path, now: Date())
        #expect(numbers.first == 1)
        #expect(numbers.warning == nil)
        #expect(try stored() == "1001\n")  // reserved before the first number is handed out
        let early = numbers.reservationDue(next: 500)
        #expect(early == nil)
        let half = numbers.reservationDue(next: 501)
        let due = try #require(half)
        #expect(due.value == 2001)
        let again = numbers.reservationDue(next: 502)
        #expect(again == nil, "one reservation at a time")
        #expect(IncidentNumbers.write(due.value, to: due.file))
        numbers.reservationWritten(due.value, succeeded: true)
        #expect(numbers.reservedUpTo == 2001)
        #expect(try stored() == "2001\n")
        // A crash now: the next run starts after everything that may have been handed out.
        #expect(IncidentNumbers(stateDirectory: directory.path, now: Date()).first == 2001)
        // A clean stop records the exact next number, so the run after continues without a gap.
        numbers.finish(next: 2002)
        #expect(IncidentNumbers(stateDirectory: directory.path, now: Date()).first == 2002)
    }

    @Test func withoutAWritableDirectoryNumbersComeFromTheTimeWithAWarning() {
        let numbers = IncidentNumbers(
            stateDirectory: "/proc/andond-cannot-write-here",
            now: Date(timeIntervalSince1970: 1_800_000_000)
        )
        #expect(numbers.first == 1_800_000_000_000)
        #expect(numbers.warning?.contains("give andond a writable state directory") == true)
    }
}
