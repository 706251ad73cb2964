/// An outbound channel from the configuration's `channels:`, such as `pager` or `tower-L1`.
public struct ChannelID: AndonName {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
}

/// A responder's or a line's use of a channel: its name, and the parameters substituted into its URL or body
/// (`{ channel: phone, topic: ben-3f9a }`).
public struct ChannelRef: Sendable, Hashable, Codable {
    public var channel: ChannelID
    public var parameters: [String: String]

    public init(channel: ChannelID, parameters: [String: String] = [:]) {
        self.channel = channel
        self.parameters = parameters
    }
}

/// What andond needs to know of a channel: how long it retries a delivery (the rest is andon-notify's).
public struct ChannelPolicy: Sendable, Hashable {
    public var giveUpAfter: Duration

    public static let defaultGiveUpAfter = Duration.seconds(3600)

    public init(giveUpAfter: Duration = Self.defaultGiveUpAfter) { self.giveUpAfter = giveUpAfter }
}

/// Who a delivery is for: a responder (their phone), or a line (its tower light, its board).
public enum Recipient: Sendable, Hashable, Comparable, CustomStringConvertible, Codable {
    case responder(ResponderID)
    case line(LineID)

    /// `ben`, or `line:L1`: how the journal, the outbox and the `Idempotency-Key` name it.
    public var description: String {
        switch self {
        case .responder(let id): id.rawValue
        case .line(let id): "line:\(id.rawValue)"
        }
    }

    public init?(_ text: String) {
        if text.hasPrefix("line:") {
            guard let line = LineID(validating: text.dropFirst(5)) else { return nil }
            self = .line(line)
        } else {
            guard let responder = ResponderID(validating: text) else { return nil }
            self = .responder(responder)
        }
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let recipient = Recipient(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "bad recipient"))
        }
        self = recipient
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }

    public static func < (lhs: Recipient, rhs: Recipient) -> Bool { lhs.description < rhs.description }
}

/// Why a delivery is sent: what the recipient's phone or light should do with it.
public enum NotifyPurpose: String, Sendable, Hashable, Codable, CaseIterable {
    /// Come: the call is yours (raised, escalated, repeated at KPO, a reminder, handed over to you).
    case call
    /// Someone took the call (acknowledged it, or arrived before anyone did): you need not come.
    case taken
    /// The call is over (resolved, cleared, the line runs again, the controller is heard).
    case ended
    /// A line's channel: every step of the line's calls.
    case update
    /// `andonctl notify-test`: nothing happened; the channel is being tried.
    case test
}
