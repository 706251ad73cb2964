import Foundation
import Glibc
import Testing

/// A real shift change in the running daemon, and who may send a line's signals on the socket. A suite of its own so
/// that its wait for the next minute runs beside the other daemon tests.
@Suite struct ShiftChangeTests {
    /// A configuration whose shift changes at `boundary` (a whole minute, Europe/Berlin): before it the team leader
    /// `tl` is on duty, from it `tl2`. Line L1 names its controllers; the handover grace is one second.
    static func configuration(boundary: Date) -> (String) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "Europe/Berlin")!  // in every time zone database
        func clock(_ date: Date) -> String {
            String(format: "%02d:%02d", calendar.component(.hour, from: date), calendar.component(.minute, from: date))
        }
        let (incoming, outgoing) = (clock(boundary), clock(boundary.addingTimeInterval(12 * 3600)))
        return { socket in
            """
            listen: { socket: \(socket), socket_mode: "0666" }
            site: { name: Test plant, time_zone: Europe/Berlin }
            handover_grace: 1s
            shifts:
              day: { start: "\(incoming)", end: "\(outgoing)" }
              night: { start: "\(outgoing)", end: "\(incoming)" }
            responders:
              tl: { user: \(DaemonHarness.teamLeader) }
              tl2: { user: \(DaemonHarness.incomingTeamLeader) }
              k: { user: \(DaemonHarness.kpoMember) }
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
              L1: { controllers: { users: [\(DaemonHarness.kpoMember)] } }
              L2: {}
            """
        }
    }

    /// The next whole minute at least 8 seconds away (time to start andond and raise the call before it).
    static func nextBoundary() -> Date {
        let now = Date().timeIntervalSince1970
        var boundary = (now / 60).rounded(.up) * 60
        if boundary - now < 8 { boundary += 60 }
        return Date(timeIntervalSince1970: boundary)
    }

    @Test func theIncomingTeamLeaderTakesTheCallAtTheShiftChange() throws {
        try #require(DaemonTests.usersReady, "needs root to create test users")
        let boundary = Self.nextBoundary()
        let daemon = try DaemonHarness(configuration: Self.configuration(boundary: boundary))
        let raised = try daemon.udp("andon line=L2 station=S1 category=help")
        #expect(raised == "ok incident=1 event=raised tier=team-leader responders=\(DaemonHarness.teamLeader)")
        // Before the change the incoming team leader may not act on it.
        let early = try daemon.andonctl(["ack", "1"], as: DaemonHarness.incomingTeamLeader)
        #expect(early.status == 77, "\(early.stderr)")
        let wait = boundary.timeIntervalSinceNow + 15
        let events = try daemon.events(of: "1", count: 2, timeout: max(wait, 15))
        let handover = events[1]
        #expect(handover["ANDON_EVENT"] == "handed-over")
        #expect(handover["MESSAGE_ID"] == "0889004c628443a5be549b70024b3e58")
        #expect(handover["ANDON_FROM"] == DaemonHarness.teamLeader)
        #expect(handover["ANDON_RESPONDER"] == DaemonHarness.incomingTeamLeader)
        #expect(handover["ANDON_CALL_STATE"] == "open")
        #expect(handover["ANDON_AT_MS"] == String(Int64(boundary.timeIntervalSince1970 * 1000)))
        #expect(handover["ANDON_GRACE_UNTIL_MS"] == String(Int64(boundary.timeIntervalSince1970 * 1000) + 1000))
        #expect(handover["MESSAGE"]?.contains("handed over at") == true)
        // The incoming team leader acknowledges it through andonctl, and owns it.
        let ack = try daemon.andonctl(["ack", "1", "--note", "taking over"], as: DaemonHarness.incomingTeamLeader)
        #expect(ack.status == 0, "\(ack.stderr)")
        let status = try daemon.openIncidents()
        #expect(status.first?["owners"] as? [String] == [DaemonHarness.incomingTeamLeader])
        // The outgoing one lost the right with the end of the grace, and is told so.
        while Date() < boundary.addingTimeInterval(1.2) { usleep(50_000) }
        let late = try daemon.andonctl(["resolve", "1", "--note", "done"], as: DaemonHarness.teamLeader)
        #expect(late.status == 77)
        #expect(late.stderr.contains("handed incident 1 over at a shift change"))
        let resolve = try daemon.andonctl(["resolve", "1", "--note", "done"], as: DaemonHarness.incomingTeamLeader)
        #expect(resolve.status == 0, "\(resolve.stderr)")
        #expect(daemon.stop() == 0)
    }

    @Test func onlyTheLinesControllersAndRootMayClearStopOrResumeIt() throws {
        try #require(DaemonTests.usersReady, "needs root to create test users")
        let daemon = try DaemonHarness(configuration: Self.configuration(boundary: Self.nextBoundary()))
        // A responder may raise by hand on any line...
        let raise = try daemon.andonctl(
            ["raise", "--line", "L1", "--station", "S1", "--category", "safety"],
            as: DaemonHarness.teamLeader
        )
        #expect(raise.status == 0, "\(raise.stderr)")
        // ...but not clear, stop or resume a line that names its controllers.
        for arguments in [
            ["clear", "--line", "L1", "--station", "S1"], ["stop", "--line", "L1"], ["resume", "--line", "L1"],
        ] {
            let refused = try daemon.andonctl(arguments, as: DaemonHarness.teamLeader)
            #expect(refused.status == 77, "\(arguments): \(refused.stderr)")
            #expect(
                refused.stderr.contains("user \(DaemonHarness.teamLeader) may not send \(arguments[0]) for line L1")
            )
            #expect(refused.stderr.contains("its controllers are users \(DaemonHarness.kpoMember)"))
            #expect(refused.stderr.contains("[not-authorized]"))
        }
        // Someone on no rota may not even raise.
        let outsider = try daemon.andonctl(
            ["raise", "--line", "L1", "--station", "S2", "--category", "help"],
            as: DaemonHarness.outsider
        )
        #expect(outsider.status == 77)
        // The line's controller may clear; root may do anything; a line without controllers is open.
        #expect(
            try daemon.andonctl(["clear", "--line", "L1", "--station", "S1"], as: DaemonHarness.kpoMember).status == 0
        )
        #expect(try daemon.andonctl(["stop", "--line", "L1"]).status == 0)
        #expect(try daemon.andonctl(["stop", "--line", "L2"], as: DaemonHarness.teamLeader).status == 0)
        // The refusals changed nothing and are in the journal as refused input.
        let cleared = try daemon.journal { $0.contains { $0["ANDON_EVENT"] == "cleared" } }
        #expect(cleared.filter { $0["ANDON_EVENT"] == "cleared" }.count == 1)
        #expect(cleared.contains { $0["ANDON_ERROR"] == "not-authorized" })
        #expect(daemon.stop() == 0)
    }
}
