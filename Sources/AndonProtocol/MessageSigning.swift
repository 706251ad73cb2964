import AndonCore
import Crypto

/// Signed controller messages (docs/protocol.md, "Signed messages"): a message ends with `sig=`, the HMAC-SHA256 of
/// everything before the space in front of it under the line's key, in hexadecimal; among the fields it covers is
/// `ts=`, the sender's clock in whole seconds since 1970 (UTC).
///
///     stop line=L1 reason=jam seq=7 ts=1796032800 sig=<64 hex digits>
public enum MessageSigning {
    /// What a signed message carries.
    public struct Signed: Sendable, Hashable {
        /// `ts=`, in seconds since 1970.
        public var timestamp: Int64
        /// `sig=`, 32 bytes.
        public var signature: [UInt8]
        /// The bytes the signature covers: the message up to the space before `sig=`.
        public var covered: [UInt8]
    }

    /// The signed parts of a message as received; nil when it ends with no well-formed ` sig=` field, or its
    /// covered part has no `ts=` (`Request.parse` refuses such a message with the reason).
    public static func split(_ bytes: some Collection<UInt8>) -> Signed? {
        var bytes = Array(bytes)
        if bytes.last == UInt8(ascii: "\n") { bytes.removeLast() }
        if bytes.last == UInt8(ascii: "\r") { bytes.removeLast() }
        let marker = Array(" sig=".utf8)
        let length = marker.count + 64
        guard bytes.count > length, bytes[(bytes.count - length)...].starts(with: marker) else { return nil }
        let hex = bytes[(bytes.count - 64)...]
        guard let signature = Hex.decode(hex) else { return nil }
        let covered = Array(bytes[..<(bytes.count - length)])
        guard case .success(let message) = WireMessage.parse(covered), let ts = message["ts"],
            let timestamp = Int64(ts)
        else { return nil }
        return Signed(timestamp: timestamp, signature: signature, covered: covered)
    }

    /// HMAC-SHA256 of `covered` under `key`.
    public static func signature(of covered: some Collection<UInt8>, key: [UInt8]) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: Array(covered), using: SymmetricKey(data: key)))
    }

    /// Whether the signature is `key`'s, compared in constant time.
    public static func isValid(_ signed: Signed, key: [UInt8]) -> Bool {
        HMAC<SHA256>.isValidAuthenticationCode(
            signed.signature,
            authenticating: signed.covered,
            using: SymmetricKey(data: key)
        )
    }

    /// `message` signed under `key`: `ts=seconds` appended unless it has a `ts=` already, then `sig=`.
    public static func sign(_ message: String, key: [UInt8], at seconds: Int64) -> String {
        var text = message
        while text.hasSuffix("\n") || text.hasSuffix("\r") || text.hasSuffix(" ") { text.removeLast() }
        if case .success(let parsed) = WireMessage.parse(text), parsed["ts"] == nil { text += " ts=\(seconds)" }
        return text + " sig=" + hex(signature(of: Array(text.utf8), key: key))
    }

    public static func hex(_ bytes: some Collection<UInt8>) -> String { Hex.encode(bytes) }

    static func isHexDigit(_ byte: UInt8) -> Bool { Hex.value(of: byte) != nil }
}

/// The signatures of signed messages accepted within the time window, so that each is accepted once. Memory is
/// bounded by what valid signatures arrive (only a key holder can make one), and expired ones are swept as the
/// cache grows.
public struct ReplayCache: Sendable {
    private var expiries: [[UInt8]: Int64] = [:]
    private var sweepAt = 1024

    public init() {}

    public var count: Int { expiries.count }

    /// Records `signature` until `expiry` (milliseconds since 1970); false when it was seen and has not expired.
    public mutating func insert(_ signature: [UInt8], expiry: Int64, now: Int64) -> Bool {
        if let seen = expiries[signature], seen > now { return false }
        expiries[signature] = expiry
        if expiries.count >= sweepAt {
            expiries = expiries.filter { $0.value > now }
            sweepAt = Swift.max(1024, expiries.count * 2)
        }
        return true
    }
}
