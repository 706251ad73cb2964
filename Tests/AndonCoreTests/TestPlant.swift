@testable import AndonCore

/// A small plant for the core's tests, built in code so that each test states exactly what it relies on.
///
/// Europe/Berlin; shifts early 06-14, late 14-22, night 22-06.
/// Rotas: tl (early a, late b, night c), gl (early and late g, nobody at night), quality (early q only),
/// maintenance (m around the clock), kpo (k1, k2, k3 weekly from Monday 2026-01-05 06:00).
/// Chains: andon (team-leader 3m, group-leader 5m resolve 30m, kpo 10m then every 5m),
/// quality (team-leader 3m, quality 5m, group-leader 5m, kpo 10m/5m), stop (team-leader 1m, group-leader 2m, kpo 3m/2m).
/// Lines: L1 (team-leader -> tl, every category), L2 (same, with `heartbeat` when given), L3 (only safety and help).
enum TestPlant {
    static let berlin = SiteTimeZone(identifier: "Europe/Berlin")!  // always in the time zone database

    static func local(_ text: String) -> Instant {
        berlin.instant(of: LocalDateTime(parsing: text)!)  // test literals are well formed
    }

    static func make(
        kpoOverrides: [Override] = [],
        coalesceWithin: Duration = .seconds(60),
        heartbeat: Duration? = nil,
        tl: [ShiftID: [ResponderID]] = ["early": ["a"], "late": ["b"], "night": ["c"]],
        arriveWithin: Duration? = nil,
        remindEvery: Duration = Plant.defaultRemindEvery,
        pageEveryone: Set<Category> = [],
        controllers: ControllerRule? = nil
    ) -> Plant {
        let calendar = ShiftCalendar(
            timeZone: berlin,
            shifts: [
                Shift(id: "early", start: LocalTime(hour: 6, minute: 0), end: LocalTime(hour: 14, minute: 0)),
                Shift(id: "late", start: LocalTime(hour: 14, minute: 0), end: LocalTime(hour: 22, minute: 0)),
                Shift(id: "night", start: LocalTime(hour: 22, minute: 0), end: LocalTime(hour: 6, minute: 0)),
            ]
        )
        let names: [ResponderID] = ["a", "b", "c", "g", "q", "m", "k1", "k2", "k3", "x"]
        let responders = Dictionary(uniqueKeysWithValues: names.map { ($0, Responder(id: $0)) })
        let rotas: [Rota] = [
            Rota(id: "tl", byShift: tl),
            Rota(id: "gl", byShift: ["early": ["g"], "late": ["g"]]),
            Rota(id: "quality", byShift: ["early": ["q"]]),
            Rota(
                id: "maintenance",
                rotation: Rotation(members: ["m"], periodDays: 1, anchor: LocalDateTime(parsing: "2026-01-01 00:00")!)
            ),
            Rota(
                id: .kpo,
                rotation: Rotation(
                    members: ["k1", "k2", "k3"],
                    periodDays: 7,
                    anchor: LocalDateTime(parsing: "2026-01-05 06:00")!
                ),
                overrides: kpoOverrides
            ),
        ]
        let policies: [Policy] = [
            Policy(
                id: "andon",
                tiers: [
                    Tier(name: "team-leader", ackWithin: .seconds(180), arriveWithin: arriveWithin),
                    Tier(name: "gl", ackWithin: .seconds(300), resolveWithin: .seconds(1800)),
                    Tier(name: "kpo", ackWithin: .seconds(600), repeatEvery: .seconds(300)),
                ]
            ),
            Policy(
                id: "quality",
                tiers: [
                    Tier(name: "team-leader", ackWithin: .seconds(180)),
                    Tier(name: "quality", ackWithin: .seconds(300)),
                    Tier(name: "gl", ackWithin: .seconds(300)),
                    Tier(name: "kpo", ackWithin: .seconds(600), repeatEvery: .seconds(300)),
                ]
            ),
            Policy(
                id: "maintenance",
                tiers: [
                    Tier(name: "maintenance", ackWithin: .seconds(120)),
                    Tier(name: "kpo", ackWithin: .seconds(600), repeatEvery: .seconds(300)),
                ]
            ),
            Policy(
                id: "stop",
                tiers: [
                    Tier(name: "team-leader", ackWithin: .seconds(60)),
                    Tier(name: "gl", ackWithin: .seconds(120)),
                    Tier(name: "kpo", ackWithin: .seconds(180), repeatEvery: .seconds(120)),
                ]
            ),
        ]
        var routes = Dictionary(uniqueKeysWithValues: Category.allCases.map { ($0, PolicyID("andon")) })
        routes[.quality] = "quality"
        routes[.maintenance] = "maintenance"
        let lines: [Line] = [
            Line(
                id: "L1",
                policies: routes,
                stopPolicy: "stop",
                rotas: ["team-leader": "tl"],
                controllers: controllers
            ),
            Line(
                id: "L2",
                policies: routes,
                stopPolicy: "stop",
                rotas: ["team-leader": "tl"],
                heartbeatWithin: heartbeat
            ),
            Line(
                id: "L3",
                policies: [.safety: "andon", .help: "andon"],
                stopPolicy: "stop",
                rotas: ["team-leader": "tl"]
            ),
        ]
        return Plant(
            name: "test plant",
            calendar: calendar,
            responders: responders,
            rotas: Dictionary(uniqueKeysWithValues: rotas.map { ($0.id, $0) }),
            policies: Dictionary(uniqueKeysWithValues: policies.map { ($0.id, $0) }),
            lines: Dictionary(uniqueKeysWithValues: lines.map { ($0.id, $0) }),
            coalesceWithin: coalesceWithin,
            remindEvery: remindEvery,
            pageEveryone: pageEveryone
        )
    }
}

extension SignalOutcome {
    /// The incident a successful signal names; nil otherwise.
    var incident: IncidentID? {
        guard case .success(let disposition) = result else { return nil }
        return disposition.incidents.first
    }
}

extension Array where Element == Event {
    var kinds: [Event.Kind] { map(\.kind) }
}

extension Duration {
    static func minutes(_ minutes: Int64) -> Duration { .seconds(minutes * 60) }
    static func hours(_ hours: Int64) -> Duration { .seconds(hours * 3600) }
}
