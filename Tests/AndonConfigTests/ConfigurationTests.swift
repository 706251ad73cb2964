import AndonConfig
import AndonCore
import Foundation
import Testing

/// The configuration file: the example loads; broken files report every problem at its position.
@Suite struct ConfigurationTests {
    static let now = SiteTimeZone(identifier: "Europe/Berlin")!.instant(of: LocalDateTime(parsing: "2026-11-25 10:00")!)

    static let examplePath = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("etc/andond/andond.yaml").path

    /// A small valid configuration; each broken case below changes one or more of its lines.
    static let base = """
        site: { name: T, time_zone: Europe/Berlin }
        shifts:
          day: { start: "06:00", end: "18:00" }
          night: { start: "18:00", end: "06:00" }
        responders:
          a: { name: A }
          k: { name: K }
        rotas:
          tl: { by_shift: { day: [a], night: [a] } }
          kpo: { rotation: { members: [k], every: 7d, from: "2026-01-05 06:00" } }
        policies:
          andon:
            - { tier: tl, ack_within: 3m }
            - { tier: kpo, repeat_every: 5m }
          stop:
            - { tier: tl, ack_within: 1m }
            - { tier: kpo, repeat_every: 2m }
        lines:
          L1: { description: Line one }
        """

    @Test func theExampleConfigurationIsValidWithoutWarnings() throws {
        let configuration = try ConfigurationLoader.load(path: Self.examplePath, now: Self.now)
        // The example's socket group, andon, exists once andond is installed (andond.sysusers); before that,
        // check-config says so, and that is its only warning.
        let groupExists = getgrnam("andon") != nil
        #expect(configuration.warnings.map(\.message).filter { !$0.hasPrefix("group 'andon' does not exist") } == [])
        #expect(configuration.warnings.count == (groupExists ? 0 : 1))
        let plant = configuration.plant
        #expect(plant.lines.keys.sorted() == ["L1", "L2", "L3"])
        #expect(plant.calendar.shifts.map(\.id) == ["early", "late", "night"])
        #expect(plant.rotas[.kpo]?.rotation?.members == ["kira", "lars", "mia"])
        #expect(plant.responders["kira"]?.user == "kalbrecht")
        #expect(plant.lines["L3"]?.policies[.cost] == nil)
        #expect(plant.lines["L3"]?.policies[.material] == "maintenance")
        #expect(plant.lines["L2"]?.policies[.quality] == "quality")
        #expect(plant.lines["L1"]?.heartbeatWithin == .seconds(30))
        #expect(plant.coalesceWithin == .seconds(60))
        // The keys of handover, arrival, reminders, safety paging and controllers.
        #expect(plant.handoverGrace == .seconds(15 * 60))
        #expect(plant.remindEvery == .seconds(30 * 60))
        #expect(plant.pageEveryone == [.safety])
        #expect(plant.policies["andon"]?.tiers[0].arriveWithin == .seconds(5 * 60))
        #expect(plant.policies["safety"]?.tiers[2].remindEvery == .seconds(10 * 60))
        #expect(plant.policies["logistics"]?.remindEvery == .seconds(3600))
        #expect(plant.policies["logistics"]?.tiers.map(\.name) == ["team-leader", "logistics", "group-leader", "kpo"])
        #expect(plant.policies["andon"]?.remindEvery == nil)
        #expect(plant.lines["L2"]?.controllers == ControllerRule(users: ["plc-l2"], groups: ["andon-plc"]))
    }

    @Test func theNewKeysAreCheckedAtTheirPositions() throws {
        let text = Self.base
            .replacingOccurrences(
                of: "site: { name: T, time_zone: Europe/Berlin }",
                with: "site: { name: T, time_zone: Europe/Berlin }\nhandover_grace: soon\npage_everyone: [safty]"
            )
            .replacingOccurrences(
                of: "- { tier: tl, ack_within: 3m }",
                with: "- { tier: tl, ack_within: 3m, arrive_within: 0s }"
            )
            .replacingOccurrences(
                of: "L1: { description: Line one }",
                with: "L1: { description: Line one, controllers: { users: [\"plc one\"], group: [x] } }"
            )
        do {
            _ = try ConfigurationLoader.parse(text, file: "new.yaml", now: Self.now)
            Issue.record("the broken keys must be refused")
        } catch {
            let messages = error.diagnostics.map(\.description)
            #expect(messages.contains { $0.hasPrefix("new.yaml:2:17: error: 'soon' is not a duration") }, "\(messages)")
            #expect(messages.contains { $0.hasPrefix("new.yaml:3:17: error: unknown category 'safty'") }, "\(messages)")
            #expect(messages.contains { $0.contains("error: '0s' is not a duration") }, "\(messages)")
            #expect(messages.contains { $0.contains("error: user name 'plc one'") }, "\(messages)")
            #expect(messages.contains { $0.contains("'group'") }, "\(messages)")
        }
        // A chain as a mapping: a misspelt key is caught at its place, as everywhere.
        let mapping = Self.base.replacingOccurrences(
            of: "  andon:\n    - { tier: tl, ack_within: 3m }\n    - { tier: kpo, repeat_every: 5m }",
            with:
                "  andon:\n    remind_evry: 1h\n    tiers: [{ tier: tl, ack_within: 3m }, { tier: kpo, repeat_every: 5m }]"
        )
        #expect(mapping != Self.base)
        do {
            _ = try ConfigurationLoader.parse(mapping, file: "chain.yaml", now: Self.now)
            Issue.record("the misspelt chain key must be refused")
        } catch {
            let messages = error.diagnostics.map(\.description)
            #expect(
                messages.contains { $0.hasPrefix("chain.yaml:13:5: error: unknown key 'remind_evry' in a chain") },
                "\(messages)"
            )
        }
        let good = Self.base
            .replacingOccurrences(of: "L1: { description: Line one }", with: "L1: { controllers: { groups: [plc] } }")
        let plant = try ConfigurationLoader.parse(good, file: "good.yaml", now: Self.now).plant
        #expect(plant.lines["L1"]?.controllers == ControllerRule(groups: ["plc"]))
        #expect(plant.handoverGrace == Plant.defaultHandoverGrace)
        #expect(plant.pageEveryone == [])
    }

    @Test func theBaseIsValid() throws {
        let configuration = try ConfigurationLoader.parse(Self.base, file: "base.yaml", now: Self.now)
        #expect(configuration.warnings == [])
    }

    struct Broken: CustomTestStringConvertible, Sendable {
        var name: String
        var replacing: [(String, String)]
        /// Line, a marker whose first occurrence on that line is the column, and part of the message.
        var expected: [(line: Int, marker: String, message: String)]
        var testDescription: String { name }
    }

    static let broken: [Broken] = [
        Broken(
            name: "unknown key in a shift",
            replacing: [(#"end: "18:00" }"#, #"end: "18:00", colour: red }"#)],
            expected: [(3, "colour", "unknown key 'colour' in a shift")]
        ),
        Broken(
            name: "unknown top-level key",
            replacing: [("lines:\n", "sites: x\nlines:\n")],
            expected: [(18, "sites", "unknown key 'sites'")]
        ),
        Broken(
            name: "misspelt tier key",
            replacing: [("{ tier: tl, ack_within: 3m }", "{ tier: tl, ack_withn: 3m }")],
            expected: [
                (13, "{", "tier 'tl' of chain 'andon' needs 'ack_within'"),
                (13, "ack_withn", "unknown key 'ack_withn' in a tier"),
            ]
        ),
        Broken(
            name: "dangling responder",
            replacing: [("day: [a], night", "day: [a, zed], night")],
            expected: [(9, "zed", "unknown responder 'zed'")]
        ),
        Broken(
            name: "dangling shift",
            replacing: [("night: [a] }", "nite: [a] }")],
            expected: [(9, "nite", "unknown shift 'nite'")]
        ),
        Broken(
            name: "overlapping shifts",
            replacing: [(#"night: { start: "18:00""#, #"night: { start: "17:00""#)],
            expected: [
                (4, "\"17:00\"", "shift 'night' (17:00-06:00) overlaps shift 'day' (06:00-18:00) for 60 minutes a day")
            ]
        ),
        Broken(
            name: "a chain without KPO",
            replacing: [("    - { tier: kpo, repeat_every: 2m }\n", "")],
            expected: [(15, "stop", "chain 'stop' does not end at the KPO tier")]
        ),
        Broken(
            name: "KPO not last",
            replacing: [
                (
                    "    - { tier: tl, ack_within: 1m }\n    - { tier: kpo, repeat_every: 2m }",
                    "    - { tier: kpo, repeat_every: 2m }\n    - { tier: tl, ack_within: 1m }"
                )
            ],
            expected: [
                (15, "stop", "chain 'stop' does not end at the KPO tier"),
                (16, "kpo", "the kpo tier must be the last of chain 'stop'"),
            ]
        ),
        Broken(
            name: "no KPO rota",
            replacing: [("  kpo: { rotation: { members: [k], every: 7d, from: \"2026-01-05 06:00\" } }\n", "")],
            expected: [(8, "rotas", "no 'kpo' rota"), (7, "k", "responder 'k' is on no rota")]
        ),
        Broken(
            name: "a KPO gap",
            replacing: [
                (
                    #"kpo: { rotation: { members: [k], every: 7d, from: "2026-01-05 06:00" } }"#,
                    "kpo: { by_shift: { day: [k] } }"
                )
            ],
            expected: [
                (
                    10, "kpo",
                    "KPO has nobody on duty from 2026-11-25 18:00 +01:00 to 2026-11-26 06:00 +01:00 and in 13 more gaps"
                )
            ]
        ),
        Broken(
            name: "a KPO gap from an override",
            replacing: [
                (
                    #"every: 7d, from: "2026-01-05 06:00" } }"#,
                    #"every: 7d, from: "2026-01-05 06:00" }, overrides: [{ from: "2026-12-01 03:00", until: "2026-12-01 03:30", replaces: k }] }"#
                )
            ],
            expected: [
                (
                    10, "kpo",
                    "KPO has nobody on duty from 2026-12-01 03:00 +01:00 to 2026-12-01 03:30 +01:00 (rota kpo has nobody on duty: an override removes k)"
                )
            ]
        ),
        Broken(
            name: "unknown time zone",
            replacing: [("Europe/Berlin", "Europe/Nowhere")],
            expected: [(1, "Europe/Nowhere", "unknown time zone 'Europe/Nowhere'")]
        ),
        Broken(
            name: "a malformed duration",
            replacing: [("ack_within: 3m", "ack_within: 3 minutes")],
            expected: [(13, "3 minutes", "'3 minutes' is not a duration")]
        ),
        Broken(
            name: "a malformed time",
            replacing: [(#"start: "06:00""#, #"start: "6am""#)],
            expected: [(3, "\"6am\"", "'6am' is not a time of day")]
        ),
        Broken(
            name: "an unknown stop policy",
            replacing: [("{ description: Line one }", "{ stop_policy: halt }")],
            expected: [(19, "halt", "unknown policy 'halt'")]
        ),
        Broken(
            name: "an unknown category",
            replacing: [("{ description: Line one }", "{ categories: [quality, qualiti] }")],
            expected: [(19, "qualiti", "unknown category 'qualiti'")]
        ),
        Broken(
            name: "a tier without a rota on a line",
            replacing: [
                (
                    "    - { tier: tl, ack_within: 3m }\n",
                    "    - { tier: tl, ack_within: 3m }\n    - { tier: gl, ack_within: 2m }\n"
                )
            ],
            expected: [(14, "gl", "tier 'gl' of chain 'andon' has no rota on line L1")]
        ),
        Broken(
            name: "an invalid line name",
            replacing: [("  L1: {", "  L 1: {")],
            expected: [(19, "L 1", "line name 'L 1' may contain only")]
        ),
        Broken(
            name: "a list where a mapping belongs",
            replacing: [("  a: { name: A }\n  k: { name: K }\n", "  - a\n  - k\n")],
            expected: [(6, "-", "expected a mapping here")]
        ),
        Broken(
            name: "a duplicate key",
            replacing: [("  k: { name: K }\n", "  k: { name: K }\n  k: { name: K2 }\n")],
            expected: [(8, "k", "duplicate key 'k'")]
        ),
        Broken(
            name: "YAML that does not parse",
            replacing: [("L1: { description: Line one }", "L1: { description: [Line one }")],
            expected: [(19, "}", "not valid YAML")]
        ),
        Broken(
            name: "three problems at once",
            replacing: [
                (#"end: "18:00" }"#, #"end: "18:00", colour: red }"#), ("day: [a], night", "day: [a, zed], night"),
                ("    - { tier: kpo, repeat_every: 2m }\n", ""),
            ],
            expected: [
                (3, "colour", "unknown key 'colour'"), (9, "zed", "unknown responder 'zed'"),
                (15, "stop", "does not end at the KPO tier"),
            ]
        ),
    ]

    @Test(arguments: broken)
    func brokenConfigurationsReportEveryProblemAtItsPosition(_ broken: Broken) throws {
        var text = Self.base
        for (old, new) in broken.replacing {
            #expect(text.contains(old), "the case must change the base: \(old)")
            text = text.replacingOccurrences(of: old, with: new)
        }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        do {
            let configuration = try ConfigurationLoader.parse(text, file: "plant.yaml", now: Self.now)
            Issue.record("\(broken.name) must be rejected; warnings: \(configuration.warnings)")
        } catch {
            let reported = error.diagnostics.map { "\($0.line):\($0.column): \($0.message)" }
            #expect(error.diagnostics.count == broken.expected.count, "\(reported)")
            for expected in broken.expected {
                let line = lines[expected.line - 1]
                let column = try #require(
                    line.range(of: expected.marker),
                    "marker \(expected.marker) on line \(expected.line)"
                )
                let columnNumber = line.distance(from: line.startIndex, to: column.lowerBound) + 1
                let match = error.diagnostics.first {
                    $0.line == expected.line && $0.column == columnNumber && $0.message.contains(expected.message)
                }
                #expect(match != nil, "expected \(expected.line):\(columnNumber): \(expected.message); got \(reported)")
                #expect(match?.file == "plant.yaml")
            }
            #expect(error.diagnostics.allSatisfy { $0.hint != nil || $0.message.contains("line name") }, "\(reported)")
        }
    }

    @Test func coverageGapsInOtherTiersAreWarningsAndTheConfigurationLoads() throws {
        let text = Self.base.replacingOccurrences(of: "day: [a], night: [a]", with: "day: [a]")
        let configuration = try ConfigurationLoader.parse(text, file: "plant.yaml", now: Self.now)
        #expect(configuration.warnings.count == 1)
        let warning = try #require(configuration.warnings.first)
        #expect(warning.severity == .warning)
        #expect((warning.line, warning.column) == (9, 3))
        #expect(
            warning.message.hasPrefix(
                "rota tl has nobody on duty from 2026-11-25 18:00 +01:00 to 2026-11-26 06:00 +01:00"
            )
        )
        #expect(warning.description.hasPrefix("plant.yaml:9:3: warning: rota tl"))
    }

    /// A KPO gap within 14 days refuses `check-config` and `reload`, but never andond's start or a restore: the open
    /// calls on disk must be followed, and andond reports the gap itself.
    @Test func aKPOGapAheadRefusesOnlyWhereAPersonCanMendIt() throws {
        let text = Self.base.replacingOccurrences(
            of: #"every: 7d, from: "2026-01-05 06:00" } }"#,
            with: #"every: 7d, from: "2026-01-05 06:00" }, overrides: [{ from: "2026-12-09 13:00", "#
                + #"until: "2026-12-09 14:00", replaces: k }] }"#
        )
        // 14 days and 3 hours ahead: fine today; two days later, within the window.
        #expect(throws: Never.self) { try ConfigurationLoader.parse(text, file: "plant.yaml", now: Self.now) }
        let later = Self.now + .seconds(2 * 86_400)
        #expect(throws: ConfigurationError.self) { try ConfigurationLoader.parse(text, file: "plant.yaml", now: later) }
        let started = try ConfigurationLoader.parse(text, file: "plant.yaml", now: later, kpoGaps: .leaveToCaller)
        #expect(started.warnings.isEmpty)
        #expect(started.plant.coverage(from: later, horizon: ConfigurationLoader.coverageWindow).kpo.count == 1)
    }

    /// D17: a line without senders: or key_file: takes stops and resumes from any address; once andond listens
    /// beyond loopback, each such line is a warning at its position.
    @Test(arguments: [
        ("127.0.0.1:4950", 0), ("[::1]:4950", 0), ("localhost:4950", 0), ("0.0.0.0:4950", 1), ("[::]:4950", 1),
        ("10.20.0.5:4950", 1),
    ])
    func aLineOpenToAnyAddressIsAWarningBeyondLoopback(address: String, warnings: Int) throws {
        let text =
            "listen: { udp: [\"127.0.0.1:4949\", \"\(address)\"] }\n" + Self.base
            + "\n  L2: { description: Line two, senders: [10.1.0.0/24] }\n"
        let configuration = try ConfigurationLoader.parse(text, file: "plant.yaml", now: Self.now)
        #expect(configuration.warnings.count == warnings, "\(configuration.warnings)")
        if let warning = configuration.warnings.first {
            #expect((warning.line, warning.column) == (20, 3), "L1 on the base's line 19, after the listen: line")
            #expect(warning.message.hasPrefix("line L1 takes UDP signals from any address while andond listens on "))
            #expect(warning.hint?.contains("senders:") == true)
        }
    }

    @Test func kpoWidenAfterIsReadAndChecked() throws {
        let plant = try ConfigurationLoader.parse(Self.base, file: "plant.yaml", now: Self.now).plant
        #expect(plant.kpoWidenAfter == 3)
        let five = try ConfigurationLoader.parse("kpo_widen_after: 5\n" + Self.base, file: "p.yaml", now: Self.now)
        #expect(five.plant.kpoWidenAfter == 5)
        #expect(throws: ConfigurationError.self) {
            try ConfigurationLoader.parse("kpo_widen_after: -1\n" + Self.base, file: "p.yaml", now: Self.now)
        }
    }

    @Test func aMissingFileSaysSo() {
        #expect(throws: ConfigurationError.self) {
            try ConfigurationLoader.load(path: "/nonexistent/andond.yaml", now: Self.now)
        }
    }
}
