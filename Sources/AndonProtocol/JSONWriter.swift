/// Writes JSON text straight into bytes, for large answers (`andonctl status` of 100,000 calls), where `JSONEncoder`
/// would first build a tree of every value and leave the daemon's heap full of small freed pieces.
///
/// Object keys are written in the order the caller gives them; callers give them sorted, as `JSONEncoder` with
/// `.sortedKeys` would, and leave out nil values, as it does. Anything `JSONDecoder` reads back is fine: tests
/// decode what this writes into the same `Codable` types.
public struct JSONWriter: Sendable {
    public private(set) var bytes: [UInt8] = []
    /// Per open container: whether it has an element yet (for the commas).
    private var started: [Bool] = []

    public init(reservingCapacity capacity: Int = 0) {
        bytes.reserveCapacity(capacity)
    }

    public var text: String { String(decoding: bytes, as: UTF8.self) }

    /// Appends bytes that are JSON text already (a piece another writer wrote), as they are.
    public mutating func raw(_ json: some Sequence<UInt8>) {
        bytes.append(contentsOf: json)
    }

    /// Starts again empty, keeping the room (for writing a large answer in pieces).
    public mutating func removeAll() {
        bytes.removeAll(keepingCapacity: true)
    }

    /// An object: `body` writes its fields.
    public mutating func object(_ body: (inout JSONWriter) -> Void) {
        container(opening: "{", closing: "}", body)
    }

    /// An array: `body` writes its elements (objects, strings, numbers).
    public mutating func array(_ body: (inout JSONWriter) -> Void) {
        container(opening: "[", closing: "]", body)
    }

    private mutating func container(
        opening: Unicode.Scalar,
        closing: Unicode.Scalar,
        _ body: (inout JSONWriter) -> Void
    ) {
        separate()
        bytes.append(UInt8(ascii: opening))
        started.append(false)
        body(&self)
        started.removeLast()
        bytes.append(UInt8(ascii: closing))
    }

    /// A key of the open object; its value follows (`string`, `number`, `object`, `array`).
    public mutating func key(_ key: String) {
        separate()
        writeString(key)
        bytes.append(UInt8(ascii: ":"))
        // The value after a key takes no comma.
        started[started.count - 1] = false
    }

    public mutating func string(_ value: String) {
        separate()
        writeString(value)
    }

    public mutating func number(_ value: Int64) {
        separate()
        bytes.append(contentsOf: String(value).utf8)
    }

    public mutating func number(_ value: UInt64) {
        separate()
        bytes.append(contentsOf: String(value).utf8)
    }

    public mutating func number(_ value: Int) { number(Int64(value)) }

    public mutating func field(_ name: String, _ value: String?) {
        guard let value else { return }
        key(name)
        string(value)
    }

    public mutating func field(_ name: String, _ value: Bool?) {
        guard let value else { return }
        key(name)
        separate()
        bytes.append(contentsOf: (value ? "true" : "false").utf8)
    }

    public mutating func field(_ name: String, _ value: Int64?) {
        guard let value else { return }
        key(name)
        number(value)
    }

    public mutating func field(_ name: String, _ value: Int?) {
        guard let value else { return }
        key(name)
        number(value)
    }

    public mutating func field(_ name: String, _ value: UInt64) {
        key(name)
        number(value)
    }

    public mutating func field(_ name: String, _ value: UInt64?) {
        guard let value else { return }
        field(name, value)
    }

    public mutating func field(_ name: String, _ values: [String]?) {
        guard let values else { return }
        field(name, values)
    }

    public mutating func field(_ name: String, _ values: [String]) {
        key(name)
        array { writer in
            for value in values { writer.string(value) }
        }
    }

    private mutating func separate() {
        guard let last = started.last else { return }
        if last { bytes.append(UInt8(ascii: ",")) } else { started[started.count - 1] = true }
    }

    private mutating func writeString(_ value: String) {
        bytes.append(UInt8(ascii: "\""))
        // Invisible characters (DEL, C1, bidi controls, line and paragraph separators, BOM) as \uXXXX: the JSON
        // stays valid and one line in every transport and view, and decodes to the same text.
        if value.utf8.contains(where: String.mayStartInvisible) {
            for scalar in value.unicodeScalars {
                if scalar.value >= 0x7f, String.needsEscape(scalar) {
                    bytes.append(contentsOf: Self.unicodeEscape(scalar.value))
                } else {
                    writeEscaped(Array(String(scalar).utf8))
                }
            }
        } else {
            writeEscaped(value.utf8)
        }
        bytes.append(UInt8(ascii: "\""))
    }

    /// `\u202e` for one scalar of the Basic Multilingual Plane (every character `needsEscape` names is there).
    static func unicodeEscape(_ value: UInt32) -> [UInt8] {
        let hex = Array("0123456789abcdef".utf8)
        return Array("\\u".utf8) + [12, 8, 4, 0].map { hex[Int((value >> $0) & 0xf)] }
    }

    private mutating func writeEscaped(_ utf8: some Sequence<UInt8>) {
        for byte in utf8 {
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"):
                bytes.append(UInt8(ascii: "\\"))
                bytes.append(byte)
            case UInt8(ascii: "\n"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case UInt8(ascii: "\r"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case UInt8(ascii: "\t"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0x08: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "b")])
            case 0x0c: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "f")])
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                bytes.append(contentsOf: Array("\\u00".utf8))
                bytes.append(hex[Int(byte >> 4)])
                bytes.append(hex[Int(byte & 0xf)])
            default:
                bytes.append(byte)
            }
        }
    }
}

extension JSONWriter {
    /// JSON text from an encoder (`JSONEncoder`) with its invisible characters written as `\uXXXX`, as
    /// `JSONWriter` writes them. Such characters can only stand inside strings, where the escape means the same.
    public static func escapingInvisibles(_ json: String) -> String {
        guard json.utf8.contains(where: String.mayStartInvisible),
            json.unicodeScalars.contains(where: { $0.value >= 0x7f && String.needsEscape($0) })
        else { return json }
        var out: [UInt8] = []
        out.reserveCapacity(json.utf8.count + 16)
        for scalar in json.unicodeScalars {
            if scalar.value >= 0x7f, String.needsEscape(scalar) {
                out.append(contentsOf: unicodeEscape(scalar.value))
            } else {
                out.append(contentsOf: String(scalar).utf8)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
