import AndonTestSupport
import Foundation
import Testing

/// The line's side on the built andond: a UDP controller hears every change of its call, and after it "reboots"
/// (a new socket, a new port) it relearns its lights from the repeats and from `state?`.
@Suite struct FeedbackDaemonTests {
    /// The next `state` message that names an event (repeats in between are skipped), or nil after the timeout.
    func nextChange(_ socket: UDPSocket) -> String? {
        while let state = socket.receiveState() {
            if field("event", of: state) != nil { return state }
        }
        return nil
    }

    @Test func aControllerHearsEveryChangeAndRelearnsItsLightsAfterAReboot() throws {
        let daemon = try DaemonHarness { socket in
            PlantFixture.yaml(socket: socket, within: "1h", resolveWithin: nil, settings: ["feedback_every: 1s"])
        }
        var controller: UDPSocket? = try UDPSocket()
        let reply = try controller!.exchangeResending(
            "andon line=L1 station=S3 category=quality seq=1",
            port: daemon.udpPort
        )
        let id = try #require(field("incident", of: reply))
        let raised = try #require(nextChange(controller!))
        #expect(field("event", of: raised) == "raised" && field("state", of: raised) == "open")
        #expect(field("incident", of: raised) == id && field("station", of: raised) == "S3")
        #expect(field("tier", of: raised) == "team-leader" && field("tier_number", of: raised) == "1/4")

        #expect(try daemon.andonctl(["ack", id]).status == 0)
        let acknowledged = try #require(nextChange(controller!))
        #expect(field("event", of: acknowledged) == "acknowledged" && field("by", of: acknowledged) == "root")

        #expect(
            try controller!.exchangeResending("arrived line=L1 station=S3 seq=2", port: daemon.udpPort).hasPrefix("ok")
        )
        let arrived = try #require(nextChange(controller!))
        #expect(field("event", of: arrived) == "arrived" && field("state", of: arrived) == "arrived")

        // The controller reboots: its old socket is gone, the new one sends from another port.
        controller = nil
        let rebooted = try UDPSocket()
        #expect(try rebooted.exchangeResending("heartbeat line=L1 seq=3", port: daemon.udpPort).hasPrefix("ok"))
        // Within a period (1s) its lights come again: the call as it stands, then the line's summary.
        let again = try #require(rebooted.receiveState())
        #expect(field("incident", of: again) == id && field("state", of: again) == "arrived")
        #expect(field("event", of: again) == nil)
        let summary = try #require(rebooted.receiveState())
        #expect(field("calls", of: summary) == "1" && field("incidents", of: summary) == id)

        // Or it asks: each call, then the reply.
        try rebooted.send(Array("state? line=L1 seq=4".utf8), port: daemon.udpPort)
        var answered: [String] = []
        while let datagram = rebooted.receiveAny() {
            answered.append(datagram.trimmingCharacters(in: .newlines))
            if datagram.hasPrefix("ok") || datagram.hasPrefix("err") { break }
        }
        let calls = answered.filter { $0.hasPrefix("state ") && field("incident", of: $0) != nil }
        #expect(calls.contains { field("incident", of: $0) == id && field("state", of: $0) == "arrived" })
        #expect(answered.last == "ok line=L1 calls=1 incidents=\(id) seq=4")

        #expect(try daemon.andonctl(["resolve", id, "--note", "seal replaced"]).status == 0)
        let resolved = try #require(nextChange(rebooted))
        #expect(field("event", of: resolved) == "resolved" && field("state", of: resolved) == "over")
        #expect(field("incident", of: resolved) == id)
    }

    /// A station under repair: out of service, its cord raises nothing (the reply says why, the journal counts it);
    /// a shelf holds the line's other calls with nobody called, the controller hears `shelved=1`; both survive a
    /// SIGKILL and a restart; back in service and unshelved, the call is announced again.
    @Test func aStationUnderRepairIsOutOfServiceAndAShelfHoldsItsLineAcrossARestart() throws {
        let daemon = try DaemonHarness { socket in
            PlantFixture.yaml(socket: socket, within: "1h", resolveWithin: nil, settings: ["feedback_every: 30s"])
        }
        let controller = try UDPSocket()
        #expect(
            try daemon.andonctl(["out-of-service", "--line", "L1", "--station", "S3", "--reason", "robot cell rebuilt"])
                .status == 0
        )
        let ignored = try controller.exchangeResending(
            "andon line=L1 station=S3 category=quality seq=1",
            port: daemon.udpPort
        )
        #expect(ignored.hasPrefix("ok note=") && ignored.contains("out of service"))
        #expect(try daemon.openIncidents().isEmpty)

        let reply = try controller.exchangeResending(
            "andon line=L1 station=S4 category=help seq=2",
            port: daemon.udpPort
        )
        let id = try #require(field("incident", of: reply))
        _ = try #require(nextChange(controller))
        let shelved = try daemon.andonctl([
            "shelve", "--line", "L1", "--station", "S4", "--for", "2h", "--reason", "known leak",
        ])
        #expect(shelved.status == 0 && shelved.stdout.contains("shelf 1: incidents \(id) shelved"))
        let light = try #require(nextChange(controller))
        #expect(field("event", of: light) == "shelved" && field("shelved", of: light) == "1")
        // Refused: safety is never shelved.
        let safety = try daemon.andonctl([
            "shelve", "--line", "L1", "--category", "safety", "--for", "1h", "--reason", "x",
        ])
        #expect(safety.status == 1 && safety.stderr.contains("not-shelvable"))

        let entries = try daemon.journal { entries in
            entries.contains { $0["ANDON_EVENT"] == "ignored" } && entries.contains { $0["ANDON_EVENT"] == "shelve" }
        }
        #expect(entries.first { $0["ANDON_EVENT"] == "ignored" }?["MESSAGE_ID"] == "561105b0b1984d0f8993986a14118fa5")
        #expect(entries.first { $0["ANDON_EVENT"] == "shelve" }?["ANDON_REASON"] == "known leak")

        daemon.kill9()
        let again = try DaemonHarness(reusing: daemon)
        let status = try again.andonctl(["status", "--json"]).stdout
        #expect(status.contains("\"shelf\":1") && status.contains("\"outOfService\":[{"))
        #expect(status.contains("\"reason\":\"known leak\""))
        let board = try again.andonctl(["status"]).stdout
        #expect(!board.isEmpty)

        #expect(try again.andonctl(["in-service", "--line", "L1", "--station", "S3"]).status == 0)
        let unshelved = try again.andonctl(["unshelve", "--line", "L1"])
        #expect(unshelved.status == 0 && unshelved.stdout.contains("calling again for incidents \(id)"))
        let after = try again.journal { $0.contains { $0["ANDON_EVENT"] == "unshelved" } }
        #expect(after.first { $0["ANDON_EVENT"] == "unshelved" }?["ANDON_RESPONDER"] == DaemonHarness.teamLeader)
        #expect(after.first { $0["ANDON_EVENT"] == "in-service" }?["ANDON_COUNT"] == "1")
    }
}
