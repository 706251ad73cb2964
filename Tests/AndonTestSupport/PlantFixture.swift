/// The test plant, written once for every test target and the simulation's unit tests: three lines; a team leader, a
/// group leader and KPO round the clock, with an empty quality rota between them (its tier is skipped).
public enum PlantFixture {
    public static let teamLeader = "andontest-tl"
    public static let groupLeader = "andontest-gl"
    public static let outsider = "andontest-x"
    public static let kpoMember = "andontest-k"
    /// The team leader of the next shift (the handover tests).
    public static let incomingTeamLeader = "andontest-tl2"

    /// The plant's YAML. `within` is every tier's time to acknowledge and KPO's repeat: 1 s, so that calls escalate
    /// during a test, or hours, so that they stay where the test puts them.
    public static func yaml(
        socket: String,
        site: String = "Test plant",
        within: String = "1s",
        resolveWithin: String? = "2s",
        settings: [String] = []
    ) -> String {
        let resolve = resolveWithin.map { ", resolve_within: \($0)" } ?? ""
        return """
            listen: { socket: \(socket), socket_mode: "0666" }
            site: { name: \(site), time_zone: Europe/Berlin }
            \((["coalesce_within: 1m"] + settings).joined(separator: "\n"))
            shifts:
              a: { start: "00:00", end: "12:00" }
              b: { start: "12:00", end: "00:00" }
            responders:
              tl: { user: \(teamLeader) }
              gl: { user: \(groupLeader) }
              k: { user: \(kpoMember) }
            rotas:
              team-leader: { by_shift: { a: [tl], b: [tl] } }
              quality: { by_shift: {} }
              group-leader: { by_shift: { a: [gl], b: [gl] } }
              kpo: { by_shift: { a: [k], b: [k] } }
            policies:
              andon:
                - { tier: team-leader, ack_within: \(within) }
                - { tier: quality, ack_within: \(within) }
                - { tier: group-leader, ack_within: \(within)\(resolve) }
                - { tier: kpo, ack_within: \(within), repeat_every: \(within) }
              stop:
                - { tier: team-leader, ack_within: \(within) }
                - { tier: kpo, ack_within: \(within), repeat_every: \(within) }
            lines:
              L1: { description: line one }
              L2: { description: line two }
              L3: { description: line three }
            """
    }
}
