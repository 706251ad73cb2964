/// A refused message or request: a stable code for programs, a reason for people.
///
/// Codes travel as strings (`err code=bad-value reason="..."`), so a client built before a new code still reads it.
public struct WireError: Error, Sendable, Hashable, CustomStringConvertible {
    public struct Code: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// Not a well-formed message (quoting, encoding, a field given twice, no verb).
        public static let syntax = Code(rawValue: "syntax")
        public static let unknownVerb = Code(rawValue: "unknown-verb")
        public static let unknownField = Code(rawValue: "unknown-field")
        public static let missingField = Code(rawValue: "missing-field")
        /// A field's value is not acceptable (a name outside the safe set, an unknown category, a control character).
        public static let badValue = Code(rawValue: "bad-value")
        public static let unknownLine = Code(rawValue: "unknown-line")
        public static let unknownStation = Code(rawValue: "unknown-station")
        public static let categoryNotAccepted = Code(rawValue: "category-not-accepted")
        public static let tooLong = Code(rawValue: "too-long")
        public static let notAuthorized = Code(rawValue: "not-authorized")
        public static let unknownIncident = Code(rawValue: "unknown-incident")
        public static let alreadyAcknowledged = Code(rawValue: "already-acknowledged")
        public static let finalTier = Code(rawValue: "final-tier")
        public static let missingNote = Code(rawValue: "missing-note")
        /// A reload found the new configuration invalid; the old one keeps running.
        public static let invalidConfiguration = Code(rawValue: "invalid-configuration")
        /// A line with a key got a message without `ts=` and `sig=`.
        public static let unsigned = Code(rawValue: "unsigned")
        /// The signature is not the line's key's (a forged or altered message, or the wrong key).
        public static let badSignature = Code(rawValue: "bad-signature")
        /// `ts=` is outside the window around andond's clock.
        public static let stale = Code(rawValue: "stale")
        /// A signed message accepted once already.
        public static let replayed = Code(rawValue: "replayed")
        /// The daemon could not do it (shutting down, overloaded).
        public static let unavailable = Code(rawValue: "unavailable")
        /// andond cannot write its state and holds as many inputs in memory as it may: nothing was taken; resend
        /// later (the same message, the same `seq`).
        public static let storageFailing = Code(rawValue: "storage-failing")
        /// Safety calls (every `page_everyone` category) and line stops are never shelved.
        public static let notShelvable = Code(rawValue: "not-shelvable")
        /// Nothing open to shelve until it clears, no shelf to end, a station not out of service.
        public static let nothingShelved = Code(rawValue: "nothing-shelved")

        /// Every code andond sends (metrics create each at 0).
        public static let all: [Code] = [
            .syntax, .unknownVerb, .unknownField, .missingField, .badValue, .unknownLine, .unknownStation,
            .categoryNotAccepted, .tooLong, .notAuthorized, .unknownIncident, .alreadyAcknowledged, .finalTier,
            .missingNote, .invalidConfiguration, .unsigned, .badSignature, .stale, .replayed, .unavailable,
            .storageFailing, .notShelvable, .nothingShelved,
        ]
    }

    public var code: Code
    public var reason: String
    /// Lines a person should see, such as every positioned error of a rejected configuration.
    public var details: [String]

    /// The sender's `seq`, echoed in the reply so a controller can match an error to its request too.
    public var sequence: UInt64?

    /// `reason` and `details` may quote what a sender sent (or a configuration file holds): their control characters
    /// are escaped here, once, so that no reply, journal message or terminal carries them raw. A detail's own lines
    /// (a diagnostic and its `    hint:`) are andond's structure, not a sender's: each line is escaped, the line
    /// breaks between them are kept.
    public init(_ code: Code, _ reason: String, details: [String] = [], sequence: UInt64? = nil) {
        self.code = code
        self.reason = reason.escapingControlCharacters
        self.details = details.map { detail in
            detail.split(separator: "\n", omittingEmptySubsequences: false)
                .map { String($0).escapingControlCharacters }.joined(separator: "\n")
        }
        self.sequence = sequence
    }

    /// The same error, echoing the `seq` of the message it refuses when one can be found in it: a whole number after
    /// `seq=` at the start of a field, even when the rest of the message is malformed.
    public func echoing(sequenceIn bytes: some Collection<UInt8>) -> WireError {
        guard sequence == nil else { return self }
        var copy = self
        copy.sequence = Self.findSequence(in: Array(bytes.prefix(WireMessage.maximumLength + 2)))
        return copy
    }

    static func findSequence(in bytes: [UInt8]) -> UInt64? {
        let space = UInt8(ascii: " ")
        let tab = UInt8(ascii: "\t")
        let separators: Set<UInt8> = [space, tab, UInt8(ascii: "\n"), UInt8(ascii: "\r")]
        let key = Array("seq=".utf8)
        var index = 1
        while index + key.count <= bytes.count {
            defer { index += 1 }
            guard bytes[index - 1] == space || bytes[index - 1] == tab,
                bytes[index..<(index + key.count)].elementsEqual(key)
            else { continue }
            var end = index + key.count
            var digits: [UInt8] = []
            while end < bytes.count, bytes[end] >= UInt8(ascii: "0"), bytes[end] <= UInt8(ascii: "9") {
                digits.append(bytes[end])
                end += 1
            }
            guard !digits.isEmpty, end == bytes.count || separators.contains(bytes[end]) else { continue }
            return UInt64(String(decoding: digits, as: UTF8.self))
        }
        return nil
    }

    public var description: String { "\(code): \(reason)" }
}
