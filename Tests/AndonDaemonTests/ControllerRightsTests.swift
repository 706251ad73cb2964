import AndonTestSupport
import Foundation
import Glibc
import Testing

/// Who may send a line's signals on the socket, with the real andonctl and Unix users. (The shift change itself is
/// tested in-process on the manual clock: AndonStageTests/ShiftChangeTests.)
@Suite struct ControllerRightsTests {
    /// A configuration whose shift changes at `boundary` (a whole minute, Europe/Berlin): before it the team leader
    /// `tl` is on duty, from it `tl2`. Line L1 names its controllers; the handover grace is one second.
    static func configuration(boundary: Date) -> (String) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "Europe/Berlin")!  // in every time zone database
        func clock(_ date: Date) -> String {
            String(format: "%02d:%02d", calendar.component(.hour, from: date), calendar.component(.minute, from: date))
        }
        let (incoming, outgoing) = (clock(boundary), clock(boundary.addingTimeInterval(12 * 3600)))
        return { socket in PlantFixture.shiftChange(socket: socket, day: incoming, night: outgoing) }
    }

    /// A shift boundary hours away: nothing changes during the test.
    static func nextBoundary() -> Date { Date().addingTimeInterval(6 * 3600) }

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
