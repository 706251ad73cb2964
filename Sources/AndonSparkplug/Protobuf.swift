/// The few protobuf wire rules a Sparkplug B payload needs (protobuf's encoding guide): varints, length-delimited
/// fields, fixed 32- and 64-bit values; unknown fields of any of those types are skipped. Bytes that do not follow
/// them are an error, never a crash (fuzzed: `andon-fuzz sparkplug`).
public struct ProtobufError: Error, Sendable, Hashable, CustomStringConvertible {
    public var reason: String
    public var description: String { reason }
}

struct ProtobufReader {
    let bytes: [UInt8]
    var index: Int
    let end: Int

    init(_ bytes: [UInt8], from start: Int = 0, to end: Int? = nil) {
        self.bytes = bytes
        index = start
        self.end = end ?? bytes.count
    }

    var isAtEnd: Bool { index >= end }

    mutating func varint() throws(ProtobufError) -> UInt64 {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard index < end else { throw ProtobufError(reason: "a varint runs past the end") }
            let byte = bytes[index]
            index += 1
            guard shift < 64 else { throw ProtobufError(reason: "a varint longer than 10 bytes") }
            value |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return value }
            shift += 7
        }
    }

    /// The next field's number and wire type; nil at the end.
    mutating func key() throws(ProtobufError) -> (field: UInt64, wire: UInt64)? {
        guard !isAtEnd else { return nil }
        let key = try varint()
        guard key >> 3 > 0 else { throw ProtobufError(reason: "field number 0") }
        return (key >> 3, key & 7)
    }

    /// A length-delimited value's bounds, skipped over.
    mutating func delimited() throws(ProtobufError) -> Range<Int> {
        let length = try varint()
        guard length <= UInt64(end - index) else { throw ProtobufError(reason: "a length runs past the end") }
        let range = index..<(index + Int(length))
        index = range.upperBound
        return range
    }

    mutating func fixed(_ size: Int) throws(ProtobufError) -> UInt64 {
        guard end - index >= size else { throw ProtobufError(reason: "a fixed value runs past the end") }
        var value: UInt64 = 0
        for offset in 0..<size { value |= UInt64(bytes[index + offset]) << (8 * UInt64(offset)) }
        index += size
        return value
    }

    mutating func skip(wire: UInt64) throws(ProtobufError) {
        switch wire {
        case 0: _ = try varint()
        case 1: _ = try fixed(8)
        case 2: _ = try delimited()
        case 5: _ = try fixed(4)
        default: throw ProtobufError(reason: "wire type \(wire) is not used by Sparkplug B")
        }
    }

    func string(_ range: Range<Int>) throws(ProtobufError) -> String {
        guard let text = String(validating: bytes[range], as: UTF8.self) else {
            throw ProtobufError(reason: "a string is not valid UTF-8")
        }
        return text
    }
}

struct ProtobufWriter {
    var bytes: [UInt8] = []

    mutating func varint(_ value: UInt64) {
        var value = value
        while value >= 0x80 {
            bytes.append(UInt8(value & 0x7F) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
    }

    mutating func key(_ field: UInt64, wire: UInt64) { varint(field << 3 | wire) }

    mutating func varint(_ field: UInt64, _ value: UInt64) {
        key(field, wire: 0)
        varint(value)
    }

    mutating func delimited(_ field: UInt64, _ content: [UInt8]) {
        key(field, wire: 2)
        varint(UInt64(content.count))
        bytes += content
    }
}
