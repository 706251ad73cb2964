import AndonCore
import Testing

@testable import AndonControl

/// The report's definitions at their edges, on entries written by hand (docs/report.md).
@Suite struct ReportBuilderTests {
    static let hour: Int64 = 3_600_000
    static let minute: Int64 = 60_000
    /// 2026-11-30 00:00 UTC.
    static let day: Int64 = 1_795_996_800_000

    static func raised(
        _ incident: Int,
        line: String = "L1",
        station: String? = "S1",
        category: String? = "help",
        kind: IncidentKind = .andon,
        at: Int64,
        responders: [String] = ["tl"]
    ) -> ReportEntry {
        var entry = ReportEntry(
            event: .raised,
            incident: String(incident),
            kind: kind,
            line: line,
            station: station,
            category: category,
            at: at
        )
        entry.responders = responders
        entry.timeZone = "UTC"
        return entry
    }

    static func step(_ event: Event.Kind, of raised: ReportEntry, at: Int64) -> ReportEntry {
        var entry = raised
        entry.event = event
        entry.at = at
        entry.responders = []
        switch event {
        case .acknowledged: entry.acknowledgedAfter = at - raised.at
        case .resolved, .cleared, .resumed: entry.resolvedAfter = at - raised.at
        default: break
        }
        return entry
    }

    func build(_ entries: [ReportEntry], since: Int64 = day, until: Int64 = day + 24 * hour) -> Report {
        var builder = ReportBuilder(since: since, until: until)
        for entry in entries { builder.add(entry) }
        return builder.report()
    }

    @Test func percentilesInterpolateBetweenClosestRanks() {
        var entries: [ReportEntry] = []
        // Acknowledged after 10, 20, 30, 40 and 100 s: median 30 s, p90 at rank 3.6 is 40 + 0.6 * 60 = 76 s.
        for (index, seconds) in [10, 20, 30, 40, 100].enumerated() {
            let call = Self.raised(index + 1, station: "S\(index)", at: Self.day + Int64(index) * Self.hour)
            entries += [call, Self.step(.acknowledged, of: call, at: call.at + Int64(seconds) * 1000)]
        }
        let report = build(entries)
        #expect(report.total.acknowledge == Report.Spread(count: 5, median: 30_000, p90: 76_000))
        #expect(report.total.resolve == nil)
        #expect(report.total.closed == 0)
    }

    @Test func aDuplicatedDurableEntryCountsOnceAndOrderIsAndondsNotTheJournals() {
        var call = Self.raised(1, at: Self.day + Self.hour)
        call.eventID = "7"
        var ack = Self.step(.acknowledged, of: call, at: call.at + 90_000)
        ack.eventID = "8"
        // The acknowledgement reached the journal first (an outage replayed the raise later), and twice.
        let report = build([ack, call, ack])
        #expect(report.total.calls == 1)
        #expect(report.total.acknowledge?.count == 1)
        #expect(report.total.acknowledge?.median == 90_000)
    }

    @Test func tenCallsInTenMinutesAreNoFloodElevenAre() {
        let ten = (0..<10).map { Self.raised($0 + 1, station: "S\($0)", at: Self.day + Int64($0) * Self.minute) }
        #expect(build(ten).alarms.floods.isEmpty)
        // The 11th at 9:59 after the first: a flood from then until the first stops counting, at 10:00.
        let eleventh = Self.raised(11, station: "S11", at: Self.day + 10 * Self.minute - 1000)
        let report = build(ten + [eleventh])
        #expect(
            report.alarms.floods == [
                .init(line: "L1", start: eleventh.at, end: Self.day + 10 * Self.minute, calls: 11)
            ]
        )
        #expect(report.alarms.floodShare == 0.0)  // one second of a day, rounded to 4 places
        // Exactly 10 minutes after the first, the first no longer counts: no flood.
        let late = Self.raised(11, station: "S11", at: Self.day + 10 * Self.minute)
        #expect(build(ten + [late]).alarms.floods.isEmpty)
    }

    /// D9: a flood is cut at the report's window: it does not end after `until`.
    @Test func aFloodIsCutAtTheWindow() {
        let burst = (0..<12).map { Self.raised($0 + 1, station: "S\($0)", at: Self.day + Int64($0) * 10_000) }
        // Unclipped it runs from the 11th call (1:40) to 10 minutes after the second (10:10).
        let until = Self.day + 5 * Self.minute
        let report = build(burst, until: until)
        #expect(report.alarms.floods.map(\.end) == [until])
        #expect(report.alarms.floods.map(\.start) == [Self.day + 100_000])
        // With a window to the end of the day it runs its whole course.
        #expect(build(burst).alarms.floods.map(\.end) == [Self.day + 10 * Self.minute + 10_000])
    }

    @Test func chatterIsThreeCallsWithinSixtySeconds() {
        let categories = ["help", "quality", "material"]
        let within = categories.enumerated().map { index, category in
            Self.raised(index + 1, category: category, at: Self.day + Int64(index) * 30_000)
        }
        #expect(build(within).alarms.chattering == [.init(station: "L1/S1", calls: 3, mostIn60s: 3)])
        let spread = categories.enumerated().map { index, category in
            Self.raised(index + 1, category: category, at: Self.day + Int64(index) * 30_001)
        }
        #expect(build(spread).alarms.chattering.isEmpty)
    }

    @Test func aCallOpenMoreThanADayIsStale() {
        let old = Self.raised(1, at: Self.day)
        let closedLate = Self.step(.resolved, of: old, at: old.at + 24 * Self.hour + 1)
        let report = build([old, closedLate], until: Self.day + 48 * Self.hour)
        #expect(report.alarms.staleCalls.map(\.incident) == ["1"])
        #expect(report.alarms.staleCalls.first?.closed == true)
        let onTime = Self.step(.resolved, of: old, at: old.at + 24 * Self.hour)
        #expect(build([old, onTime], until: Self.day + 48 * Self.hour).alarms.staleCalls.isEmpty)
    }

    @Test func stopMinutesAreCutAtTheWindowAndAStopSeenOnlyAtItsEndCounts() {
        // A stop from 23:30 the day before to 00:45: only the 45 minutes inside the window count.
        let stop = Self.raised(1, station: nil, category: nil, kind: .stop, at: Self.day - 30 * Self.minute)
        var resumed = Self.step(.resumed, of: stop, at: Self.day + 45 * Self.minute)
        resumed.waited = 75 * Self.minute
        let report = build([stop, resumed])
        #expect(report.stops.minutes == 45)
        #expect(report.total.calls == 0)  // raised before the window
        // Only its `resumed` entry in the journal read: the start comes from ANDON_WAITED_MS.
        #expect(build([resumed]).stops.minutes == 45)
    }

    @Test func drillsAreLeftOutUnlessAsked() {
        var drill = Self.raised(1, at: Self.day + Self.hour)
        drill.drill = true
        let real = Self.raised(2, station: "S2", at: Self.day + Self.hour)
        let report = build([drill, real])
        #expect(report.total.calls == 1)
        #expect(report.drillCalls == 1)
        var builder = ReportBuilder(since: Self.day, until: Self.day + 24 * Self.hour, includeDrills: true)
        builder.add(drill)
        builder.add(real)
        #expect(builder.report().total.calls == 2)
    }

    @Test func textCSVAndHTMLEscapeWhatTheyShow() {
        var call = Self.raised(1, station: "S1", category: "help", at: Self.day + Self.hour)
        call.site = "=HYPERLINK(\"x\")"
        let report = build([call])
        #expect(report.csv().contains("'=HYPERLINK") == false)  // the site is not a CSV cell
        #expect(!report.html().contains("<script"))
        let hostile = Report.escape("<b>\u{1b}[2J")
        #expect(hostile == "&lt;b&gt;\\x1b[2J")
        #expect(Report.field("=cmd") == "'=cmd")
        #expect(Report.field("a,b") == "\"a,b\"")
        #expect(Report.field("-12.5") == "-12.5")
    }
}
