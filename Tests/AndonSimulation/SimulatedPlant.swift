import AndonCore
import AndonTestSupport

/// A generated plant for the simulation: about 40 lines in areas of five, each area with its team leaders per shift;
/// group leaders, quality, maintenance and logistics; KPO on a rotation. What a seed makes is the same everywhere.
///
/// Weeks start on a Monday at local midnight in Europe/Berlin: an ordinary January week, the week of the spring
/// clock change (Sunday 2027-03-28, 02:00 → 03:00) or of the autumn one (Sunday 2027-10-31, 03:00 → 02:00).
package struct SimulatedPlant {
    package static let weeks: [(name: String, start: Instant, date: String)] = [
        ("January", Instant(millisecondsSinceEpoch: 1_799_017_200_000), "2027-01-04"),
        ("spring clock change", Instant(millisecondsSinceEpoch: 1_805_670_000_000), "2027-03-22"),
        ("autumn clock change", Instant(millisecondsSinceEpoch: 1_824_415_200_000), "2027-10-25"),
    ]
    package static let shifts = ["early", "late", "night"]
    package static let categories: [(Category, weight: Int)] = [
        (.help, 30), (.quality, 25), (.maintenance, 25), (.material, 15), (.safety, 5),
    ]

    package let lineCount: Int
    package let stationsPerLine: Int
    package let areas: Int
    package let week: (name: String, start: Instant, date: String)
    /// Local dates of the week's days ("2027-01-04" …), for overrides.
    package let days: [String]
    /// A KPO gap this far after the start (beyond the first day, possibly beyond the 14-day horizon), four hours long.
    package let kpoGapDay: Int?

    package init(random: inout SeededGenerator, days: Int) {
        lineCount = Int.random(in: 36...44, using: &random)
        stationsPerLine = Int.random(in: 4...8, using: &random)
        areas = (lineCount + 4) / 5
        let week = Self.weeks[Int(random.next() % UInt64(Self.weeks.count))]
        self.week = week
        self.days = (0..<(days + 20)).map { Self.date(week.date, plus: $0) }
        kpoGapDay = Bool.random(using: &random) ? Int.random(in: 3...18, using: &random) : nil
    }

    package var lines: [String] { (1...lineCount).map { "L" + (($0 < 10 ? "0" : "") + String($0)) } }
    package func stations(of line: String) -> [String] { (1...stationsPerLine).map { "S\($0)" } }
    package func area(of line: String) -> Int { (Int(line.dropFirst())! - 1) / 5 + 1 }

    /// Every responder's Unix user is `sim-<id>`.
    package static func user(_ responder: String) -> String { "sim-" + responder }

    package func teamLeaders(area: Int) -> [String] { Self.shifts.map { "tl\(area)\($0.prefix(1))" } }
    package var spareTeamLeader: String { "tlspare" }
    package var kpo: [String] { ["k1", "k2", "k3", "k4"] }

    /// The configuration's text; `variant` swaps some team leaders for the spare one on some day (a reload that
    /// hands calls over), and removes the far KPO gap when `gapFixed`.
    package func yaml(socket: String, variant: Int = 0, gapFixed: Bool = false) -> String {
        var responders = (1...areas).flatMap { teamLeaders(area: $0) } + [spareTeamLeader]
        responders += ["gl1", "gl2", "gl3", "q1", "q2", "q3", "m1", "m2", "m3", "m4", "lg1", "lg2", "lg3"] + kpo
        var text = """
            listen: { socket: \(socket), socket_mode: "0666" }
            site: { name: Simulated plant, time_zone: Europe/Berlin }
            coalesce_within: 1m
            handover_grace: 15m
            remind_every: 30m
            page_everyone: [safety]
            shifts:
              early: { start: "06:00", end: "14:00" }
              late: { start: "14:00", end: "22:00" }
              night: { start: "22:00", end: "06:00" }
            responders:

            """
        for responder in responders { text += "  \(responder): { user: \(Self.user(responder)) }\n" }
        text += "rotas:\n"
        for area in 1...areas {
            let leaders = teamLeaders(area: area)
            text +=
                "  tl-a\(area):\n    by_shift: { early: [\(leaders[0])], late: [\(leaders[1])], night: [\(leaders[2])] }\n"
            if variant > 0, area % 3 == variant % 3 {
                // The spare team leader stands in for the late shift's on one day of the week (a handover at each end).
                let day = days[variant % 7]
                text += "    overrides:\n      - { from: \"\(day) 14:00\", until: \"\(day) 22:00\", "
                text += "responder: \(spareTeamLeader), replaces: \(leaders[1]), note: \"reload \(variant)\" }\n"
            }
        }
        text += """
              group-leader:
                by_shift: { early: [gl1], late: [gl2], night: [gl3] }
              quality:
                by_shift: { early: [q1], late: [q2] }
                rotation: { members: [q1, q2, q3], every: 1d, from: "\(days[0]) 22:00", during: [night] }
              maintenance:
                by_shift: { early: [m1, m2], late: [m3], night: [m4] }
              logistics:
                by_shift: { early: [lg1], late: [lg2], night: [lg3] }
              kpo:
                rotation: { members: [k1, k2, k3, k4], every: 2d, from: "\(days[0]) 06:00" }

            """
        if let gap = kpoGapDay, !gapFixed {
            text += "    overrides:\n"
            for member in kpo {
                text += "      - { from: \"\(days[gap]) 10:00\", until: \"\(days[gap]) 14:00\", replaces: \(member) }\n"
            }
        }
        text += """
            policies:
              andon:
                - { tier: team-leader, ack_within: 3m, arrive_within: 5m }
                - { tier: group-leader, ack_within: 5m, resolve_within: 30m }
                - { tier: kpo, ack_within: 10m, repeat_every: 5m }
              safety:
                - { tier: team-leader, ack_within: 1m, arrive_within: 2m }
                - { tier: group-leader, ack_within: 2m }
                - { tier: kpo, ack_within: 5m, repeat_every: 2m, remind_every: 10m }
              quality:
                - { tier: team-leader, ack_within: 3m }
                - { tier: quality, ack_within: 5m, resolve_within: 1h }
                - { tier: group-leader, ack_within: 5m }
                - { tier: kpo, ack_within: 10m, repeat_every: 5m }
              maintenance:
                - { tier: team-leader, ack_within: 2m }
                - { tier: maintenance, ack_within: 5m, resolve_within: 1h }
                - { tier: group-leader, ack_within: 5m }
                - { tier: kpo, ack_within: 10m, repeat_every: 5m }
              logistics:
                - { tier: team-leader, ack_within: 3m }
                - { tier: logistics, ack_within: 5m }
                - { tier: group-leader, ack_within: 5m }
                - { tier: kpo, ack_within: 10m, repeat_every: 5m }
              stop:
                - { tier: team-leader, ack_within: 1m }
                - { tier: group-leader, ack_within: 2m, resolve_within: 15m }
                - { tier: kpo, ack_within: 3m, repeat_every: 2m }
            routes:
              safety: safety
              quality: quality
              maintenance: maintenance
              material: logistics
            lines:

            """
        for line in lines {
            text +=
                "  \(line): { description: simulated line \(line), rotas: { team-leader: tl-a\(area(of: line)) } }\n"
        }
        return text
    }

    /// `date` plus `days` calendar days, as "YYYY-MM-DD" (proleptic Gregorian, no time zone involved).
    package static func date(_ date: String, plus days: Int) -> String {
        let parts = date.split(separator: "-").map { Int($0)! }
        var (year, month, day) = (parts[0], parts[1], parts[2] + days)
        func length(_ month: Int, _ year: Int) -> Int {
            switch month {
            case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
            case 4, 6, 9, 11: 30
            default: 31
            }
        }
        while day > length(month, year) {
            day -= length(month, year)
            month += 1
            if month > 12 { (month, year) = (1, year + 1) }
        }
        func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(year)-\(two(month))-\(two(day))"
    }
}
