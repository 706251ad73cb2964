/// Remembers the replies to recent signals by `(line, seq)`, so that a controller's retransmit gets the same reply as
/// the first time and has no second effect.
///
/// Bounded: per line the `capacity` most recent sequence numbers, each for at most `lifetime`. A signal whose
/// `(line, seq)` is remembered but whose message differs is not a retransmit (a controller that restarted its
/// counter): it is handled as new and replaces the memory. Part of the durable state, so retransmits after a restart
/// are recognised too.
public struct SequenceWindow: Sendable, Hashable, Codable {
    public static let defaultCapacity = 1024
    public static let defaultLifetime: Duration = .seconds(3600)

    public struct Remembered: Sendable, Hashable, Codable {
        /// The message as received (its canonical form), to tell a retransmit from a new signal.
        public var message: String
        public var reply: String
        public var at: Instant
    }

    private struct LineWindow: Sendable, Hashable, Codable {
        var entries: [UInt64: Remembered] = [:]
        /// Sequence numbers in the order they were remembered, oldest first (may hold stale numbers).
        var order: [UInt64] = []
        var head = 0
    }

    public var capacity: Int
    public var lifetime: Duration
    private var lines: [LineID: LineWindow] = [:]

    public init(capacity: Int = defaultCapacity, lifetime: Duration = defaultLifetime) {
        self.capacity = capacity
        self.lifetime = lifetime
    }

    /// The reply remembered for this exact message, if it is a retransmit within the window.
    public func reply(line: LineID, sequence: UInt64, message: String, at now: Instant) -> String? {
        guard let remembered = lines[line]?.entries[sequence], remembered.message == message,
            now < remembered.at + lifetime
        else { return nil }
        return remembered.reply
    }

    /// Remembers the reply to a signal, forgetting the oldest of its line beyond the capacity or the lifetime.
    public mutating func remember(line: LineID, sequence: UInt64, message: String, reply: String, at now: Instant) {
        // In place: a copy of the line's window would copy all its entries on every signal.
        Self.remember(
            in: &lines[line, default: LineWindow()],
            Remembered(message: message, reply: reply, at: now),
            sequence: sequence,
            capacity: capacity,
            lifetime: lifetime
        )
    }

    private static func remember(
        in window: inout LineWindow,
        _ remembered: Remembered,
        sequence: UInt64,
        capacity: Int,
        lifetime: Duration
    ) {
        let now = remembered.at
        if window.entries.updateValue(remembered, forKey: sequence) == nil {
            window.order.append(sequence)
        }
        while window.head < window.order.count {
            let oldest = window.order[window.head]
            guard let entry = window.entries[oldest] else {
                window.head += 1
                continue
            }
            guard window.entries.count > capacity || now >= entry.at + lifetime else { break }
            window.entries[oldest] = nil
            window.head += 1
        }
        if window.head > 64 && window.head * 2 > window.order.count {
            window.order.removeFirst(window.head)
            window.head = 0
        }
    }

    /// Sequence numbers remembered, over all lines.
    public var count: Int { lines.values.reduce(0) { $0 + $1.entries.count } }
}

// MARK: Byte form

extension SequenceWindow {
    /// Writes the window in `BinaryWriter`'s form, exactly (order and stale numbers included).
    public func encode(into writer: inout BinaryWriter) {
        writer.write(capacity)
        writer.write(lifetime)
        writer.write(each: lines.sorted { $0.key < $1.key }) { writer, element in
            let (line, window) = element
            writer.write(line)
            writer.write(window.head)
            writer.write(each: window.order) { $0.write($1) }
            writer.write(each: window.entries.sorted { $0.key < $1.key }) { writer, entry in
                writer.write(entry.key)
                writer.write(entry.value.message)
                writer.write(entry.value.reply)
                writer.write(entry.value.at)
            }
        }
    }

    public init(decoding reader: inout BinaryReader) throws(BinaryFormatError) {
        self.init(capacity: try reader.readInt(), lifetime: try reader.readDuration())
        let count = try reader.readCount()
        for _ in 0..<count {
            let line: LineID = try reader.readName()
            var window = LineWindow()
            window.head = try reader.readInt()
            window.order = try reader.readArray { (reader) throws(BinaryFormatError) in try reader.readUInt64() }
            guard (0...window.order.count).contains(window.head) else { throw reader.failure("head out of range") }
            let entries = try reader.readCount()
            window.entries.reserveCapacity(entries)
            for _ in 0..<entries {
                let sequence = try reader.readUInt64()
                window.entries[sequence] = Remembered(
                    message: try reader.readString(),
                    reply: try reader.readString(),
                    at: try reader.readInstant()
                )
            }
            lines[line] = window
        }
    }
}
