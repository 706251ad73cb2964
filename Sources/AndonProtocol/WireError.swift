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
        /// The daemon could not do it (shutting down, overloaded).
        public static let unavailable = Code(rawValue: "unavailable")
    }

    public var code: Code
    public var reason: String
    /// Lines a person should see, such as every positioned error of a rejected configuration.
    public var details: [String]

    public init(_ code: Code, _ reason: String, details: [String] = []) {
        self.code = code
        self.reason = reason
        self.details = details
    }

    public var description: String { "\(code): \(reason)" }
}
