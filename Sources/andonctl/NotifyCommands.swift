import AndonControl
import AndonCore
import AndonProtocol
import ArgumentParser
import Foundation

extension Andonctl {
    struct Deliveries: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the notifications waiting to be sent, and those that failed.",
            discussion: """
                Each delivery is one notification to one recipient through one channel. Pending ones are sent by \
                andon-notify (retried with backoff until the channel's give_up_after); failed ones were refused by \
                their receiver or given up. Anyone who may connect to andond may list them.
                """
        )

        @Flag(help: "Only the failed deliveries.") var failed = false
        @OptionGroup var client: ClientOptions

        func run() throws {
            let reply = try client.send(.deliveries(failed: failed))
            if client.json {
                print(reply["json"] ?? "{}")
                return
            }
            let listing = try ControlClient.payload(DeliveryListing.self, of: reply)
            let rows = (failed ? [] : listing.pending) + listing.failed
            if rows.isEmpty {
                print(failed ? "no failed deliveries" : "no deliveries pending or failed")
                return
            }
            for delivery in rows {
                let status = delivery.lastStatus.map { " HTTP \($0)" } ?? ""
                let error = delivery.lastError.map { ": \($0)" } ?? ""
                let line =
                    "\(delivery.id)\t\(delivery.state)\tcall \(delivery.content.incident) \(delivery.content.event)\t"
                    + "\(delivery.recipient) via \(delivery.channel)\t\(delivery.attempts) attempt"
                    + "\(delivery.attempts == 1 ? "" : "s")\(status)\(error)"
                print(line.escapingControlCharacters)
            }
        }
    }

    struct NotifyTest: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "notify-test",
            abstract: "Send a test notification through each of a responder's channels and print each outcome.",
            discussion: """
                The test goes through andond to andon-notify like any notification (it must be running), marked as \
                a test in its body; it is tried once per channel and not kept. Allowed to root and to the \
                responder themselves.
                """
        )

        @Argument(help: "The responder (as under responders:).") var responder: String
        @OptionGroup var client: ClientOptions

        func run() throws {
            guard let id = ResponderID(validating: responder) else {
                printError("andonctl: '\(responder)' is not a responder name")
                throw ExitCode(64)
            }
            let reply = try client.send(.notifyTest(id), timeout: .seconds(40))
            if client.json {
                print(reply["json"] ?? "[]")
                return
            }
            let results = try ControlClient.payload([NotifyTestResult].self, of: reply)
            var failed = false
            for result in results {
                let status = result.status.map { " (HTTP \($0))" } ?? ""
                let error = result.error.map { ": \($0)" } ?? ""
                let outcome =
                    result.outcome == Delivery.State.pending.description ? "failed, would be retried" : result.outcome
                print("\(result.channel): \(outcome)\(status)\(error)".escapingControlCharacters)
                failed = failed || result.outcome != Delivery.State.delivered.description
            }
            if results.isEmpty {
                print("no outcome within 30 s: is andon-notify running? (systemctl status andon-notify)")
                failed = true
            }
            if failed { throw ExitCode.failure }
        }
    }
}
