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
}
