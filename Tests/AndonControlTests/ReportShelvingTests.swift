import AndonControl
import AndonCore
import Testing

/// The report's shelving figures (ISA-18.2): shelves made in the window and minutes shelved within it, per line.
@Suite struct ReportShelvingTests {
    let hour: Int64 = 3_600_000

    @Test func shelvesCountInTheWindowAndTheirMinutesAreClipped() throws {
        var builder = ReportBuilder(since: 10 * hour, until: 20 * hour)
        // L1: shelved 9:00-11:00 (one hour inside), then 12:00 until its end at 14:00 (ended by hand at 13:30).
        var early = ShelfEntry(kind: .unshelve, shelf: "1", line: "L1", at: 11 * hour)
        early.lasted = 2 * hour
        builder.add(early)
        var timed = ShelfEntry(kind: .shelve, shelf: "2", line: "L1", at: 12 * hour)
        timed.until = 14 * hour
        builder.add(timed)
        builder.add(ShelfEntry(kind: .unshelve, shelf: "2", line: "L1", at: 13 * hour + hour / 2))
        // L2: shelved at 19:00 until 23:00, still standing: counts to the window's end.
        var standing = ShelfEntry(kind: .shelve, shelf: "3", line: "L2", at: 19 * hour)
        standing.until = 23 * hour
        standing.eventID = "s-9"
        builder.add(standing)
        builder.add(standing)  // the same entry twice (after a journal outage) counts once
        let shelving = try #require(builder.report().shelving)
        #expect(shelving.map(\.line) == ["L1", "L2"])
        #expect(shelving[0].shelves == 1 && shelving[0].shelvedMinutes == 60 + 90)
        #expect(shelving[1].shelves == 1 && shelving[1].shelvedMinutes == 60)
        #expect(builder.report().text().contains("Shelved (ISA-18.2)"))
        #expect(ReportBuilder(since: 0, until: hour).report().shelving == nil)
    }
}
