/// A compact byte form for durable state: LEB128 integers (zig-zag for signed ones), length-prefixed UTF-8 strings,
/// a presence byte before each optional, a count before each collection. Fields are written and read in a fixed
/// order, with no keys and no intermediate tree, so a snapshot of 100,000 open calls encodes and decodes in well
/// under a second and takes about a tenth of its JSON size. The container (magic, version) is the caller's.
public struct BinaryWriter: Sendable {
    public private(set) var bytes: [UInt8] = []

    public init(reservingCapacity capacity: Int = 0) {
        bytes.reserveCapacity(capacity)
    }

    public mutating func write(byte: UInt8) { bytes.append(byte) }

    public mutating func write(bytes more: some Collection<UInt8>) { bytes.append(contentsOf: more) }

    public mutating func write(_ value: UInt64) {
        var value = value
        while value >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
    }

    public mutating func write(_ value: Int64) {
        write(UInt64(bitPattern: (value << 1) ^ (value >> 63)))
    }

    public mutating func write(_ value: Int) { write(Int64(value)) }

    public mutating func write(_ value: Bool) { bytes.append(value ? 1 : 0) }

    public mutating func write(_ value: String) {
        var value = value
        value.withUTF8 { utf8 in
            write(UInt64(utf8.count))
            bytes.append(contentsOf: utf8)
        }
    }

    public mutating func write(_ value: some AndonName) { write(value.rawValue) }

    public mutating func write(_ value: Instant) { write(value.millisecondsSinceEpoch) }

    /// Exact: seconds and attoseconds.
    public mutating func write(_ value: Duration) {
        write(value.components.seconds)
        write(value.components.attoseconds)
    }

    /// A presence byte, then the value when there is one.
    public mutating func write<T>(_ value: T?, _ body: (inout BinaryWriter, T) -> Void) {
        guard let value else { return bytes.append(0) }
        bytes.append(1)
        body(&self, value)
    }

    /// A count, then each element.
    public mutating func write<C: Collection>(each elements: C, _ body: (inout BinaryWriter, C.Element) -> Void) {
        write(UInt64(elements.count))
        for element in elements { body(&self, element) }
    }
}

/// What a byte form that cannot be read says: what was expected and where.
public struct BinaryFormatError: Error, Sendable, CustomStringConvertible {
    public var offset: Int
    public var reason: String

    public init(offset: Int, reason: String) {
        self.offset = offset
        self.reason = reason
    }

    public var description: String { "\(reason) at byte \(offset)" }
}

/// Reads what `BinaryWriter` wrote, checking every length against what is left: a truncated or damaged form throws,
/// it never traps and never allocates more than its own size.
public struct BinaryReader {
    private let buffer: UnsafeRawBufferPointer
    public private(set) var offset = 0

    /// Reads `bytes` with `body` (the reader must not escape it).
    public static func read<T>(
        _ bytes: UnsafeRawBufferPointer,
        _ body: (inout BinaryReader) throws(BinaryFormatError) -> T
    ) throws(BinaryFormatError) -> T {
        var reader = BinaryReader(buffer: bytes)
        return try body(&reader)
    }

    private init(buffer: UnsafeRawBufferPointer) { self.buffer = buffer }

    public var remaining: Int { buffer.count - offset }

    public func failure(_ reason: String) -> BinaryFormatError { BinaryFormatError(offset: offset, reason: reason) }

    public mutating func readByte() throws(BinaryFormatError) -> UInt8 {
        guard offset < buffer.count else { throw failure("unexpected end") }
        defer { offset += 1 }
        return buffer[offset]
    }

    public mutating func readBytes(_ count: Int) throws(BinaryFormatError) -> UnsafeRawBufferPointer {
        guard count >= 0, count <= remaining else { throw failure("unexpected end (\(count) bytes wanted)") }
        defer { offset += count }
        return UnsafeRawBufferPointer(rebasing: buffer[offset..<offset + count])
    }

    public mutating func readUInt64() throws(BinaryFormatError) -> UInt64 {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let byte = try readByte()
            guard shift < 64, shift < 63 || byte <= 1 else { throw failure("integer too long") }
            value |= UInt64(byte & 0x7f) << shift
            if byte < 0x80 { return value }
            shift += 7
        }
    }

    public mutating func readInt64() throws(BinaryFormatError) -> Int64 {
        let raw = try readUInt64()
        return Int64(bitPattern: (raw >> 1) ^ (0 &- (raw & 1)))
    }

    public mutating func readInt() throws(BinaryFormatError) -> Int {
        let value = try readInt64()
        guard let int = Int(exactly: value) else { throw failure("integer out of range") }
        return int
    }

    public mutating func readBool() throws(BinaryFormatError) -> Bool {
        switch try readByte() {
        case 0: false
        case 1: true
        case let other: throw failure("\(other) is not a boolean")
        }
    }

    /// A count of elements that each take at least one byte: never more than what is left.
    public mutating func readCount() throws(BinaryFormatError) -> Int {
        let count = try readUInt64()
        guard count <= UInt64(remaining) else { throw failure("a count of \(count) with \(remaining) bytes left") }
        return Int(count)
    }

    public mutating func readString() throws(BinaryFormatError) -> String {
        let bytes = try readBytes(readCount())
        guard let string = String(validating: bytes, as: UTF8.self) else { throw failure("invalid UTF-8") }
        return string
    }

    public mutating func readName<Name: AndonName>(_: Name.Type = Name.self) throws(BinaryFormatError) -> Name {
        Name(rawValue: try readString())
    }

    public mutating func readInstant() throws(BinaryFormatError) -> Instant {
        Instant(millisecondsSinceEpoch: try readInt64())
    }

    public mutating func readDuration() throws(BinaryFormatError) -> Duration {
        Duration(secondsComponent: try readInt64(), attosecondsComponent: try readInt64())
    }

    public mutating func readOptional<T>(
        _ body: (inout BinaryReader) throws(BinaryFormatError) -> T
    ) throws(BinaryFormatError) -> T? {
        try readBool() ? try body(&self) : nil
    }

    public mutating func readArray<T>(
        _ body: (inout BinaryReader) throws(BinaryFormatError) -> T
    ) throws(BinaryFormatError) -> [T] {
        let count = try readCount()
        var elements: [T] = []
        elements.reserveCapacity(count)
        for _ in 0..<count { elements.append(try body(&self)) }
        return elements
    }
}
