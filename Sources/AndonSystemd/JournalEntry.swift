import AndonProtocol
import Foundation

/// One native journal entry: `FIELD=value` pairs. Field names must be `[A-Z0-9_]`, not starting with `_` or a digit,
/// at most 64 characters (journald drops others silently); `init` enforces it. A field may repeat.
public struct JournalEntry: Sendable, Hashable {
    public private(set) var fields: [Field]

    public struct Field: Sendable, Hashable {
        public var name: String
        public var value: String
    }

    public init() { fields = [] }

    /// Adds a field; a nil value adds nothing. Invalid names are a programming error.
    public mutating func add(_ name: String, _ value: (any CustomStringConvertible)?) {
        guard let value else { return }
        precondition(Self.isValidFieldName(name), "invalid journal field name \(name)")
        fields.append(Field(name: name, value: value.description))
    }

    /// Adds one of andond's fields (`JournalField`, the schema readers use too); a nil value adds nothing.
    public mutating func add(_ field: JournalField, _ value: (any CustomStringConvertible)?) {
        add(field.rawValue, value)
    }

    public subscript(name: String) -> String? { fields.first { $0.name == name }?.value }

    public subscript(field: JournalField) -> String? { self[field.rawValue] }

    public func values(_ field: JournalField) -> [String] { values(field.rawValue) }

    public func values(_ name: String) -> [String] { fields.filter { $0.name == name }.map(\.value) }

    /// The syslog priority (0-7) in `PRIORITY`, 6 (info) when absent.
    public var priority: Int { self[.priority].flatMap(Int.init) ?? 6 }

    public static func isValidFieldName(_ name: String) -> Bool {
        let bytes = name.utf8
        guard let first = bytes.first, bytes.count <= 64, first != UInt8(ascii: "_"),
            !(UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first)
        else { return false }
        return bytes.allSatisfy {
            (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0)
                || $0 == UInt8(ascii: "_")
        }
    }

    /// The entry as one readable line for standard error (daemon(7) `<N>` prefix), when there is no journal.
    /// The entry for a person at a terminal: the time, the priority's name, andond's sentence.
    /// `14:03:27 warning  Quality andon on L2/S3: calling team-leader Felix Maier (felix)`
    public var echoLine: String {
        var now = time(nil)
        var parts = tm()
        localtime_r(&now, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let names = ["emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"]
        let name = names[min(max(priority, 0), 7)]
        let clock = "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))"
        return "\(clock) \(name.padding(toLength: 7, withPad: " ", startingAt: 0))  \(self[.message] ?? "")"
    }

    public var fallbackLine: String {
        let message = self[.message] ?? ""
        let rest = fields.filter {
            $0.name != JournalField.message.rawValue && $0.name != JournalField.priority.rawValue
        }
        .map { "\($0.name)=\($0.value.contains(" ") ? "\"\($0.value)\"" : $0.value)" }
        let flat = message.replacingOccurrences(of: "\n", with: " ")
        return "<\(priority)>\(flat)" + (rest.isEmpty ? "" : " [" + rest.joined(separator: " ") + "]")
    }
}

extension JournalEntry {
    /// The entry as bytes for the durable outbox: per field, the name's and the value's UTF-8 lengths (32-bit, little
    /// endian) followed by their bytes.
    public var serialized: [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(fields.reduce(0) { $0 + $1.name.utf8.count + $1.value.utf8.count + 8 })
        func append(_ text: String) {
            let utf8 = text.utf8
            withUnsafeBytes(of: UInt32(utf8.count).littleEndian) { bytes.append(contentsOf: $0) }
            bytes.append(contentsOf: utf8)
        }
        for field in fields {
            append(field.name)
            append(field.value)
        }
        return bytes
    }

    /// Reads `serialized` back; nil when the bytes are not such an entry.
    public init?(serialized bytes: some Collection<UInt8>) {
        self.init()
        let bytes = Array(bytes)
        var offset = 0
        func next() -> String? {
            guard offset + 4 <= bytes.count else { return nil }
            let length = Int(
                UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2]) << 16
                    | UInt32(bytes[offset + 3]) << 24
            )
            offset += 4
            guard length <= bytes.count - offset else { return nil }
            defer { offset += length }
            return String(decoding: bytes[offset..<offset + length], as: UTF8.self)
        }
        while offset < bytes.count {
            guard let name = next(), let value = next(), Self.isValidFieldName(name) else { return nil }
            fields.append(Field(name: name, value: value))
        }
    }
}
