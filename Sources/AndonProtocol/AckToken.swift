import AndonCore
import Crypto
import Foundation

/// The acknowledge link's token: who may acknowledge which call, until when, through which notification; signed
/// with the plant's `notify.ack_key_file` (HMAC-SHA256). Only andond issues and checks them.
///
/// Form: `1.INCIDENT.EXPIRES.DELIVERY.RECIPIENT~MAC`, where EXPIRES is in seconds since 1970 (UTC), DELIVERY the
/// outbox's number of the notification that carried it, RECIPIENT the responder's id (a name: letters, digits, `.`,
/// `_`, `-`), and MAC the base64url (no padding) of HMAC-SHA256 over everything before `~`. Every character is
/// URL-safe, so the token is a path segment as it is (`https://andon.example/ack/TOKEN`). docs/protocol.md has it.
public struct AckToken: Sendable, Hashable {
    public var incident: IncidentID
    public var recipient: ResponderID
    /// Seconds since 1970 (UTC).
    public var expires: Int64
    public var delivery: Int64

    public static let version = "1"
    /// The note of an acknowledgement by link: the journal says "acknowledged by ben: via link".
    public static let note = "via link"

    public init(incident: IncidentID, recipient: ResponderID, expires: Int64, delivery: Int64) {
        self.incident = incident
        self.recipient = recipient
        self.expires = expires
        self.delivery = delivery
    }

    var payload: String { "\(Self.version).\(incident).\(expires).\(delivery).\(recipient)" }

    public func encoded(key: [UInt8]) -> String {
        payload + "~" + Self.base64url(Self.mac(payload, key: key))
    }

    /// Checks a token's form, signature and expiry at `now` (seconds since 1970).
    public static func decode(_ text: String, key: [UInt8], now: Int64) -> Result<AckToken, WireError> {
        let invalid = WireError(.badValue, "not an acknowledge token of this plant (or its key changed)")
        guard text.utf8.count <= 256, let tilde = text.lastIndex(of: "~") else { return .failure(invalid) }
        let payload = String(text[..<tilde])
        let mac = String(text[text.index(after: tilde)...])
        let expected = base64url(Self.mac(payload, key: key))
        // Compared in constant time: the MAC is the secret part.
        guard mac.utf8.count == expected.utf8.count,
            zip(mac.utf8, expected.utf8).reduce(UInt8(0), { $0 | ($1.0 ^ $1.1) }) == 0
        else { return .failure(invalid) }
        let parts = payload.split(separator: ".", maxSplits: 4, omittingEmptySubsequences: false)
        guard parts.count == 5, parts[0] == Self.version, let incident = IncidentID(parts[1]),
            let expires = Int64(parts[2]), let delivery = Int64(parts[3]),
            let recipient = ResponderID(validating: parts[4])
        else { return .failure(invalid) }
        guard now < expires else {
            return .failure(
                WireError(.badValue, "this acknowledge link has expired; acknowledge with andonctl ack \(incident)")
            )
        }
        return .success(AckToken(incident: incident, recipient: recipient, expires: expires, delivery: delivery))
    }

    static func mac(_ payload: String, key: [UInt8]) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: Array(payload.utf8), using: SymmetricKey(data: key)))
    }

    static func base64url(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
