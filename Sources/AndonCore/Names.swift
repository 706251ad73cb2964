/// The character set every name in andond is restricted to: lines, stations, rotas, tiers, responders.
///
/// ASCII letters, digits, `.`, `_` and `-`, 1 to 64 characters, starting with a letter or digit. Names travel
/// into journal field values, terminal output and the wire protocol, so nothing a sender or an admin writes
/// can forge a journal field, a terminal escape or a protocol token.
public enum SafeName {
    public static let maximumLength = 64

    public static func isValid(_ text: some StringProtocol) -> Bool {
        let bytes = text.utf8
        guard let first = bytes.first, bytes.count <= maximumLength, isAlphanumeric(first) else { return false }
        return bytes.allSatisfy {
            isAlphanumeric($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-")
        }
    }

    /// Why `text` is not a valid name, or nil when it is.
    public static func problem(with text: some StringProtocol) -> String? {
        if text.isEmpty { return "is empty" }
        if text.utf8.count > maximumLength { return "is longer than \(maximumLength) characters" }
        if isValid(text) { return nil }
        return "may contain only letters, digits, '.', '_' and '-', and must start with a letter or digit"
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }
}

/// A name-like identifier whose raw value is a `SafeName`.
public protocol AndonName: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible,
    ExpressibleByStringLiteral, Codable
where RawValue == String {
    init(rawValue: String)
}

extension AndonName {
    public init(stringLiteral value: String) { self.init(rawValue: value) }
    public var description: String { rawValue }
    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }

    /// The name, or nil when `text` is not a valid `SafeName`.
    public init?(validating text: some StringProtocol) {
        guard SafeName.isValid(text) else { return nil }
        self.init(rawValue: String(text))
    }
}

/// A production line, such as `L1`.
public struct LineID: AndonName {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
}

/// A station on a line, such as `S3`.
public struct StationID: AndonName {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
}

/// A responder: a person on a rota. Each maps to a Unix user name.
public struct ResponderID: AndonName {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
}

/// A rota: who is on duty when.
public struct RotaID: AndonName {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }

    /// The Kaizen Promotion Office rota: the final tier of every escalation chain.
    public static let kpo: RotaID = "kpo"
}

/// A shift: a daily local-time window, such as `early`, `late`, `night`.
public struct ShiftID: AndonName {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
}

/// An escalation policy: an ordered chain of tiers.
public struct PolicyID: AndonName {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
}

/// An incident's identifier, unique for the life of the engine.
public struct IncidentID: Sendable, Hashable, Comparable, CustomStringConvertible, Codable {
    public var number: UInt64

    public init(_ number: UInt64) { self.number = number }

    public init?(_ text: some StringProtocol) {
        guard let number = UInt64(text) else { return nil }
        self.number = number
    }

    public var description: String { String(number) }
    public static func < (lhs: IncidentID, rhs: IncidentID) -> Bool { lhs.number < rhs.number }
}
