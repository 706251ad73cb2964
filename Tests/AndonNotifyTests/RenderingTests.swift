import AndonConfig
import AndonCore
import AndonNotify
import AndonProtocol
import Crypto
import Foundation
import Testing

/// What andon-notify sends: every format's body valid whatever a sender wrote, parameters percent-encoded into the
/// URL, the signature over the exact body, and what each HTTP answer means.
@Suite struct RenderingTests {
    static let at = Instant(millisecondsSinceEpoch: 1_796_000_000_123)

    static func delivery(
        text: String,
        purpose: NotifyPurpose = .call,
        parameters: [String: String] = [:]
    )
        -> DeliveryPayload
    {
        var plant = Plant.rendering
        plant.name = "Werk \"Nord\""
        var content = NotificationContent(testAt: at, recipient: "Ben", plant: plant)
        content.event = "raised"
        content.purpose = purpose
        content.incident = IncidentID(7)
        content.line = "L1"
        content.station = "S3"
        content.category = "quality"
        content.text = text
        content.summary = "Quality andon on L1/S3: \(text)"
        content.severity = 2
        content.drill = false
        let delivery = Delivery(
            id: 42,
            eventID: "ab12-9",
            recipient: .responder("ben"),
            channel: ChannelRef(channel: "c", parameters: parameters),
            content: content,
            createdAt: at,
            giveUpAfter: .seconds(3600)
        )
        return DeliveryPayload(delivery, attempt: 2, ackToken: nil)
    }

    static func channel(
        _ format: ChannelFormat,
        url: String = "http://127.0.0.1:9/x",
        key: String? = nil
    ) throws
        -> PreparedChannel
    {
        var signingKeyFile: String?
        if let key {
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("andon-notify-\(UUID())").path
            try key.write(toFile: path, atomically: true, encoding: .utf8)
            signingKeyFile = path
        }
        let settings = ChannelSettings(
            id: "c",
            url: url,
            format: format,
            headers: [(name: "X-Plant", value: .text("nord"))],
            timeout: .seconds(2),
            signingKeyFile: signingKeyFile,
            giveUpAfter: .seconds(3600),
            templateFile: nil
        )
        return try PreparedChannel(settings, credentials: nil)
    }

    /// Quotes, backslashes, newlines, control characters, a JSON injection and non-ASCII: data in every JSON body.
    static let hostile = "weld \"gun\" \\ 2\nline\t\u{1}\u{7f} \"},\"x\":{\" Grüße \u{2028}"

    @Test(arguments: [ChannelFormat.alertmanager, .ntfy, .slack])
    func everyJSONFormatStaysValidJSONWithHostileText(_ format: ChannelFormat) throws {
        let channel = try Self.channel(format)
        for purpose in [NotifyPurpose.call, .taken, .ended] {
            let request = channel.request(
                for: Self.delivery(text: Self.hostile, purpose: purpose),
                ackURL: "https://a/ack/t~1"
            )
            let object = try #require(
                try JSONSerialization.jsonObject(with: Data(request.body)) as? [String: Any],
                "\(format) \(purpose): \(String(decoding: request.body, as: UTF8.self))"
            )
            #expect(object["x"] == nil)
            let text = String(decoding: request.body, as: UTF8.self)
            #expect(!text.contains("\n"), "a newline in a JSON string is escaped")
            let decoded = String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
            #expect(decoded.contains("Gr\u{fc}\u{df}e") || decoded.contains("Gr\\u00fc\\u00dfe"))
        }
    }

    @Test func theAlertmanagerBodyIsWebhookVersion4AndResolvesWhenTaken() throws {
        let channel = try Self.channel(.alertmanager)
        let firing =
            try JSONSerialization.jsonObject(
                with: Data(channel.request(for: Self.delivery(text: "leak"), ackURL: nil).body)
            ) as? [String: Any]
        #expect(firing?["version"] as? String == "4")
        #expect(firing?["status"] as? String == "firing")
        let alert = (firing?["alerts"] as? [[String: Any]])?.first
        #expect((alert?["labels"] as? [String: String])?["station"] == "S3")
        #expect((alert?["labels"] as? [String: String])?["severity"] == "crit")
        #expect(alert?["endsAt"] as? String == "0001-01-01T00:00:00Z")
        let taken =
            try JSONSerialization.jsonObject(
                with: Data(channel.request(for: Self.delivery(text: "leak", purpose: .taken), ackURL: nil).body)
            ) as? [String: Any]
        #expect(taken?["status"] as? String == "resolved")
    }

    @Test func theNtfyBodyCarriesPriorityTopicAndTheAcknowledgeButton() throws {
        let channel = try Self.channel(.ntfy)
        let request = channel.request(
            for: Self.delivery(text: "leak", parameters: ["topic": "werknord-ben"]),
            ackURL: "https://andon.example/ack/1.7.99.42.ben~mac"
        )
        let body = try #require(try JSONSerialization.jsonObject(with: Data(request.body)) as? [String: Any])
        #expect(body["topic"] as? String == "werknord-ben")
        #expect(body["priority"] as? Int == 5)
        let action = (body["actions"] as? [[String: Any]])?.first
        #expect(action?["url"] as? String == "https://andon.example/ack/1.7.99.42.ben~mac")
        #expect(action?["method"] as? String == "POST")
        #expect(request.headers.contains { $0.0 == "Idempotency-Key" && $0.1 == "ab12-9:ben" })
        #expect(request.headers.contains { $0.0 == "X-Andon-Attempt" && $0.1 == "2" })
        #expect(request.headers.contains { $0.0 == "X-Plant" && $0.1 == "nord" })
    }

    @Test func parametersArePercentEncodedIntoTheURL() throws {
        let channel = try Self.channel(.plain, url: "http://127.0.0.1:9/t/{{topic}}?x=1")
        let request = channel.request(for: Self.delivery(text: "x", parameters: ["topic": "a/b c?&"]), ackURL: nil)
        #expect(request.url == "http://127.0.0.1:9/t/a%2Fb%20c%3F%26?x=1")
        #expect(String(decoding: request.body, as: UTF8.self).hasPrefix("Quality andon on L1/S3\n"))
    }

    @Test func theSignatureIsTheBodysHMACUnderTheChannelsKey() throws {
        let hex = String(repeating: "0f", count: 32)
        let channel = try Self.channel(.slack, key: hex)
        let request = channel.request(for: Self.delivery(text: "leak"), ackURL: nil)
        let mac = HMAC<SHA256>.authenticationCode(
            for: request.body,
            using: SymmetricKey(data: [UInt8](repeating: 0x0f, count: 32))
        )
        let expected = "sha256=" + mac.map { String(format: "%02x", $0) }.joined()
        #expect(request.headers.contains { $0.0 == "X-Andon-Signature" && $0.1 == expected })
    }

    @Test func whatEachAnswerMeans() {
        #expect(Classification.outcome(status: 204, retryAfter: nil).0 == .delivered)
        #expect(Classification.outcome(status: 500, retryAfter: nil).0 == .retry)
        #expect(Classification.outcome(status: 408, retryAfter: nil).0 == .retry)
        let limited = Classification.outcome(status: 429, retryAfter: "7")
        #expect(limited.0 == .retry)
        #expect(limited.1 == .seconds(7))
        #expect(Classification.outcome(status: 400, retryAfter: nil).0 == .failed)
        #expect(Classification.outcome(status: 404, retryAfter: "5").0 == .failed)
        let now = Date(timeIntervalSince1970: 1_796_000_000)
        #expect(Classification.parseRetryAfter("Mon, 30 Nov 2026 00:53:50 GMT", now: now) == .seconds(30))
        #expect(Classification.parseRetryAfter("soon", now: now) == nil)
        #expect(Classification.parseRetryAfter("999999", now: now) == .seconds(86_400))
    }
}

extension Plant {
    /// A plant with nothing in it but a name: what the renderer needs of one.
    static var rendering: Plant {
        Plant(
            name: "Werk Nord",
            calendar: ShiftCalendar(timeZone: .utc, shifts: []),
            responders: [:],
            rotas: [:],
            policies: [:],
            lines: [:]
        )
    }
}
