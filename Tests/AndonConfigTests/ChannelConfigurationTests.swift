import AndonConfig
import AndonCore
import Foundation
import Testing

/// `channels:`, a responder's and a line's `notify:`, and `notify:` settings.
@Suite struct ChannelConfigurationTests {
    static func text(
        responderA: String = "a: { name: A }",
        line: String = "L1: { description: Line one }",
        channels: String
    ) -> String {
        ConfigurationTests.base
            .replacingOccurrences(of: "  a: { name: A }", with: "  " + responderA)
            .replacingOccurrences(of: "  L1: { description: Line one }", with: "  " + line) + "\n" + channels
    }

    static let channels = """
        channels:
          pager: { url: "https://ntfy.example/andon-{{topic}}", format: ntfy, timeout: 5s, give_up_after: 30m }
          tower:
            url: http://10.1.0.9/api/control
            format: alertmanager
            headers: { Authorization: { file: /etc/andon-notify/tower.token }, X-Plant: north }
            signing_key_file: /etc/andon-notify/tower.key
        notify: { user: notifier }
        """

    @Test func channelsAndReferencesLoadIntoThePlantAndTheSettings() throws {
        let configuration = try ConfigurationLoader.parse(
            Self.text(
                responderA: "a: { name: A, notify: [{ channel: pager, topic: a-3f9a }, tower] }",
                line: "L1: { description: Line one, notify: [tower] }",
                channels: Self.channels + "\n"
            ).replacingOccurrences(of: "  k: { name: K }", with: "  k: { name: K, notify: [pager] }"),
            file: "c.yaml",
            now: ConfigurationTests.now
        )
        #expect(configuration.warnings.isEmpty)
        let plant = configuration.plant
        #expect(plant.channels["pager"]?.giveUpAfter == .seconds(1800))
        #expect(plant.channels["tower"]?.giveUpAfter == ChannelPolicy.defaultGiveUpAfter)
        #expect(
            plant.responders["a"]?.notify == [
                ChannelRef(channel: "pager", parameters: ["topic": "a-3f9a"]), ChannelRef(channel: "tower"),
            ]
        )
        #expect(plant.lines["L1"]?.notify == [ChannelRef(channel: "tower")])
        let tower = try #require(configuration.channels["tower"])
        #expect(tower.format == .alertmanager)
        #expect(tower.timeout == ChannelSettings.defaultTimeout)
        #expect(tower.headers.map(\.name) == ["Authorization", "X-Plant"])
        #expect(tower.headers.map(\.value) == [.file("/etc/andon-notify/tower.token"), .text("north")])
        #expect(tower.signingKeyFile == "/etc/andon-notify/tower.key")
        #expect(configuration.channels["pager"]?.timeout == .seconds(5))
        #expect(configuration.notify.user == "notifier")
    }

    @Test func anUnknownChannelIsAnErrorAtItsPosition() throws {
        do {
            _ = try ConfigurationLoader.parse(
                Self.text(
                    responderA: "a: { name: A, notify: [pagr] }",
                    line: "L1: { notify: [{ channel: towr }] }",
                    channels: Self.channels
                ),
                file: "u.yaml",
                now: ConfigurationTests.now
            )
            Issue.record("must be refused")
        } catch {
            let messages = error.diagnostics.map(\.description)
            #expect(
                messages.contains { $0.hasPrefix("u.yaml:6:26: error: unknown channel 'pagr'") && $0.contains("pager") }
            )
            #expect(messages.contains { $0.hasPrefix("u.yaml:19:18: error: unknown channel 'towr'") })
        }
    }

    @Test func aBadChannelIsAnErrorAtItsPosition() throws {
        do {
            _ = try ConfigurationLoader.parse(
                Self.text(channels: "channels:\n  x: { url: ftp://example, format: sms, headers: { \"A B\": c } }\n"),
                file: "b.yaml",
                now: ConfigurationTests.now
            )
            Issue.record("must be refused")
        } catch {
            let messages = error.diagnostics.map(\.description)
            #expect(messages.contains { $0.hasPrefix("b.yaml:21:13: error: a channel's url must start with http") })
            #expect(messages.contains { $0.hasPrefix("b.yaml:21:36: error: unknown format 'sms'") })
            #expect(messages.contains { $0.hasPrefix("b.yaml:21:59: error: a header needs a name") })
        }
    }

    @Test func aResponderOnDutyWithoutAChannelIsWarnedOfOnceChannelsExist() throws {
        let configuration = try ConfigurationLoader.parse(
            Self.text(responderA: "a: { name: A, notify: [pager] }", channels: Self.channels),
            file: "w.yaml",
            now: ConfigurationTests.now
        )
        #expect(
            configuration.warnings.map(\.description) == [
                "w.yaml:7:3: warning: responder 'k' is on duty in the next 14 days and has no notify: channel; only the "
                    + "journal and andonctl tell them of a call\n    hint: add notify: [CHANNEL] (channels: defines them)"
            ]
        )
        // Without channels, notifications are off: no warning per responder.
        #expect(
            try ConfigurationLoader.parse(Self.text(channels: ""), file: "n.yaml", now: ConfigurationTests.now)
                .warnings.isEmpty
        )
    }
}
