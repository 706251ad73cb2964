import Foundation

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

    /// The test plant with notifications: every responder has the channel `pager` (ntfy, `topic` their id), line L1
    /// the channel `tower` (Alertmanager), both on `url`; `giveUpAfter` is each channel's.
    public static func notifying(
        socket: String,
        url: String,
        within: String = "1h",
        giveUpAfter: String = "1h",
        timeout: String = "2s",
        extra: String = ""
    ) -> String {
        var text = yaml(socket: socket, within: within, resolveWithin: nil)
        for (id, user) in [("tl", teamLeader), ("gl", groupLeader), ("k", kpoMember)] {
            text = text.replacingOccurrences(
                of: "  \(id): { user: \(user) }",
                with: "  \(id): { user: \(user), notify: [{ channel: pager, topic: \(id) }] }"
            )
        }
        text = text.replacingOccurrences(
            of: "  L1: { description: line one }",
            with: "  L1: { description: line one, notify: [tower] }"
        )
        return text + """

            channels:
              pager: { url: "\(url)/pager/{{topic}}", format: ntfy, timeout: \(timeout), give_up_after: \(giveUpAfter) }
              tower: { url: "\(url)/tower", format: alertmanager, timeout: \(timeout), give_up_after: \(giveUpAfter) }
            \(extra)
            """
    }

    /// The test plant with who may send over UDP: L1 takes 127.0.0.1 and messages signed with `keyFile`'s key only,
    /// L2 127.0.0.2 only, L3 anyone; signatures hold for 30 s, a replaced key for 3 s.
    public static func signed(socket: String, keyFile: String) -> String {
        yaml(socket: socket)
            .replacingOccurrences(
                of: "  L1: { description: line one }\n  L2: { description: line two }\n",
                with: """
                      L1: { description: line one, senders: [127.0.0.1], key_file: \(keyFile) }
                      L2: { description: line two, senders: [127.0.0.2/32] }

                    """
            ) + "\nsigning: { window: 30s, overlap: 3s }\n"
    }

    /// A plant whose team leader changes at `day` ("HH:MM", Europe/Berlin): `tl` has the night before it, `tl2` the
    /// day from it, `k` is KPO; the handover grace is one second. L1 names its controllers (the KPO member's user).
    public static func shiftChange(socket: String, day: String, night: String) -> String {
        """
        listen: { socket: \(socket), socket_mode: "0666" }
        site: { name: Test plant, time_zone: Europe/Berlin }
        handover_grace: 1s
        shifts:
          day: { start: "\(day)", end: "\(night)" }
          night: { start: "\(night)", end: "\(day)" }
        responders:
          tl: { user: \(teamLeader) }
          tl2: { user: \(incomingTeamLeader) }
          k: { user: \(kpoMember) }
        rotas:
          team-leader: { by_shift: { night: [tl], day: [tl2] } }
          kpo: { by_shift: { day: [k], night: [k] } }
        policies:
          andon:
            - { tier: team-leader, ack_within: 10m }
            - { tier: kpo, ack_within: 10m, repeat_every: 5m }
          stop:
            - { tier: team-leader, ack_within: 10m }
            - { tier: kpo, ack_within: 10m, repeat_every: 5m }
        lines:
          L1: { controllers: { users: [\(kpoMember)] } }
          L2: {}
        """
    }
}
