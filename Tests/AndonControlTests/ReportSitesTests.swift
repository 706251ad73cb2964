import AndonCore
import Testing

@testable import AndonControl

/// A report over several sites (a central journal): per-site figures, lines named SITE/LINE, each entry once.
@Suite struct ReportSitesTests {
    typealias B = ReportBuilderTests

    static func at(_ site: String, _ entry: ReportEntry, id: String) -> ReportEntry {
        var entry = entry
        entry.site = site
        entry.eventID = id
        return entry
    }

    /// Werk Nord: two calls, acknowledged after 1 and 3 minutes, one a line stop of 30 minutes. Werk Süd: the same
    /// incident number 1 and line L1 (another plant's), not acknowledged, escalated to KPO; its raise shipped twice.
    static func entries() -> [ReportEntry] {
        let nord1 = B.raised(1, at: B.day + B.hour)
        let nord2 = B.raised(2, line: "L2", station: nil, category: nil, kind: .stop, at: B.day + 2 * B.hour)
        let sued1 = B.raised(1, at: B.day + B.hour + B.minute)
        var escalated = B.step(.escalated, of: sued1, at: sued1.at + 5 * B.minute)
        escalated.rota = "kpo"
        return [
            at("Werk Nord", nord1, id: "n1"),
            at("Werk Nord", B.step(.acknowledged, of: nord1, at: nord1.at + B.minute), id: "n2"),
            at("Werk Nord", nord2, id: "n3"),
            at("Werk Nord", B.step(.acknowledged, of: nord2, at: nord2.at + 3 * B.minute), id: "n4"),
            at("Werk Nord", B.step(.resumed, of: nord2, at: nord2.at + 30 * B.minute), id: "n5"),
            at("Werk Süd", sued1, id: "s1"),
            at("Werk Süd", sued1, id: "s1"),
            at("Werk Süd", escalated, id: "s2"),
        ]
    }

    @Test func eachSiteHasItsOwnFiguresAndItsLinesCarryItsName() throws {
        var builder = ReportBuilder(since: B.day, until: B.day + 24 * B.hour)
        for entry in Self.entries() { builder.add(entry) }
        let report = builder.report()
        #expect(report.sites == ["Werk Nord", "Werk Süd"])
        #expect(report.total.calls == 3)
        let sites = try #require(report.bySite)
        #expect(sites.map(\.site) == ["Werk Nord", "Werk Süd"])
        #expect(sites[0].response.calls == 2)
        #expect(sites[0].response.acknowledge == Report.Spread(count: 2, median: 120_000, p90: 168_000))
        #expect(sites[0].stops == 1)
        #expect(sites[0].stopMinutes == 30)
        #expect(sites[1].response.calls == 1)
        #expect(sites[1].response.acknowledged == 0)
        #expect(sites[1].response.reachedKPO == 1)
        #expect(sites[1].response.escalations == 1)
        #expect(sites[1].stops == 0)
        #expect(report.byLine.map(\.line) == ["Werk Nord/L1", "Werk Nord/L2", "Werk Süd/L1"])
        #expect(report.stops.byLine == ["Werk Nord/L2": 30])
        #expect(report.paretoStations.rows.map(\.name).contains("Werk Süd/L1/S1"))
    }

    @Test func oneSiteKeepsPlainLineNamesAndNoComparison() {
        var builder = ReportBuilder(since: B.day, until: B.day + 24 * B.hour)
        for entry in Self.entries() where entry.site == "Werk Nord" { builder.add(entry) }
        let report = builder.report()
        #expect(report.bySite == nil)
        #expect(report.byLine.map(\.line) == ["L1", "L2"])
        #expect(!report.text().contains("By site"))
        #expect(!report.html().contains("Sites compared"))
    }

    @Test func everyViewShowsTheComparisonWithSiteNamesAsData() throws {
        var builder = ReportBuilder(since: B.day, until: B.day + 24 * B.hour)
        for entry in Self.entries() { builder.add(entry) }
        builder.add(Self.at("<b>Werk & Co</b>", B.raised(9, at: B.day + 3 * B.hour), id: "x1"))
        let report = builder.report()
        let text = report.text()
        #expect(text.contains("By site"))
        let nord = try #require(text.split(separator: "\n").first { $0.hasPrefix("Werk Nord ") })
        // KPO, stops, stop minutes.
        #expect(nord.split(separator: " ", omittingEmptySubsequences: true).suffix(3) == ["0", "1", "30.0"])
        let html = report.html()
        #expect(html.contains("<h2>Sites compared</h2>"))
        #expect(html.contains("&lt;b&gt;Werk &amp; Co&lt;/b&gt;"))
        #expect(!html.contains("<b>Werk"))
        let csv = report.csv()
        #expect(csv.contains("site,,,,,,,Werk Nord,calls,2"))
        #expect(csv.contains("site,,,,,,,Werk Nord,stop_minutes,30"))
        #expect(report.json().contains("\"bySite\""))
    }

    @Test func theRecentIDWindowForgetsTheOldest() {
        var recent = RecentEventIDs(window: 3)
        let answers = ["a", "a", "b", "c", "d", "b", "a", "d"].map { recent.insert($0) }
        // "d" pushes "a" out of the window: "a" is new again, "b" and "d" are not.
        #expect(answers == [true, false, true, true, true, false, true, false])
    }
}
