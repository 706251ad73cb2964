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
        /// A digest of the message as received (its canonical form), to tell a retransmit from a new signal: the
        /// 64-bit FNV-1a of its UTF-8, stable across restarts. (The message itself would double the window's memory:
        /// 41,000 remembered seqs of 40 busy lines took 18 MB with it.)
        public var digest: UInt64
        public var reply: String
        public var at: Instant

        public init(message: String, reply: String, at: Instant) {
            self.init(digest: Self.digest(of: message), reply: reply, at: at)
        }

        init(digest: UInt64, reply: String, at: Instant) {
            self.digest = digest
            self.reply = reply
            self.at = at
        }

        public static func digest(of message: String) -> UInt64 {
            var hash: UInt64 = 0xcbf2_9ce4_8422_2325
            for byte in message.utf8 {
                hash ^= UInt64(byte)
                hash &*= 0x0000_0100_0000_01b3
            }
            return hash
        }

        private enum CodingKeys: String, CodingKey { case digest, message, reply, at }

        /// Also reads the JSON of the first 0.3 builds, which kept the message itself.
        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            let digest = try container.decodeIfPresent(UInt64.self, forKey: .digest)
            self.digest = try digest ?? Self.digest(of: container.decode(String.self, forKey: .message))
            self.reply = try container.decode(String.self, forKey: .reply)
            self.at = try container.decode(Instant.self, forKey: .at)
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(digest, forKey: .digest)
            try container.encode(reply, forKey: .reply)
            try container.encode(at, forKey: .at)
        }
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
        guard let remembered = lines[line]?.entries[sequence], remembered.digest == Remembered.digest(of: message),
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
                writer.write(entry.value.digest)
                writer.write(entry.value.reply)
                writer.write(entry.value.at)
            }
        }
    }

    /// - Parameter keepsMessages: the form of andond's first byte-form snapshots (format 1), with each message whole.
    public init(decoding reader: inout BinaryReader, keepsMessages: Bool = false) throws(BinaryFormatError) {
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
                    digest: keepsMessages ? Remembered.digest(of: try reader.readString()) : try reader.readUInt64(),
                    reply: try reader.readString(),
                    at: try reader.readInstant()
                )
            }
            lines[line] = window
        }
    }
}
