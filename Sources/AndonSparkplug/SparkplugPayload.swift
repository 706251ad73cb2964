/// A Sparkplug B payload (Eclipse Sparkplug 3.0, `Payload`): the fields andon-sparkplug reads and writes. Metric
/// values it does not use (data sets, templates, extensions) are kept as `.other` and ignored.
public struct SparkplugPayload: Sendable, Hashable {
    public var timestamp: UInt64?
    public var metrics: [Metric]
    public var seq: UInt64?

    public init(timestamp: UInt64? = nil, metrics: [Metric] = [], seq: UInt64? = nil) {
        self.timestamp = timestamp
        self.metrics = metrics
        self.seq = seq
    }

    public struct Metric: Sendable, Hashable {
        public var name: String?
        public var alias: UInt64?
        public var timestamp: UInt64?
        public var datatype: UInt64?
        public var value: Value

        public init(
            name: String? = nil,
            alias: UInt64? = nil,
            timestamp: UInt64? = nil,
            datatype: UInt64? = nil,
            value: Value
        ) {
            self.name = name
            self.alias = alias
            self.timestamp = timestamp
            self.datatype = datatype
            self.value = value
        }

        /// The value as a boolean: a Boolean, or a whole number (0 false, else true); nil for anything else.
        public var boolean: Bool? {
            switch value {
            case .boolean(let value): value
            case .integer(let value): value != 0
            default: nil
            }
        }
    }

    public enum Value: Sendable, Hashable {
        case boolean(Bool)
        case integer(UInt64)
        case double(Double)
        case string(String)
        case null
        case other
    }

    /// Sparkplug's DataType numbers used here.
    public enum DataType {
        public static let uint64: UInt64 = 8
        public static let boolean: UInt64 = 11
        public static let string: UInt64 = 12
    }

    public static func decode(_ bytes: [UInt8]) throws(ProtobufError) -> SparkplugPayload {
        var reader = ProtobufReader(bytes)
        var payload = SparkplugPayload()
        while let (field, wire) = try reader.key() {
            switch (field, wire) {
            case (1, 0): payload.timestamp = try reader.varint()
            case (2, 2):
                let range = try reader.delimited()
                payload.metrics.append(try Self.metric(bytes, range))
            case (3, 0): payload.seq = try reader.varint()
            default: try reader.skip(wire: wire)
            }
        }
        return payload
    }

    private static func metric(_ bytes: [UInt8], _ range: Range<Int>) throws(ProtobufError) -> Metric {
        var reader = ProtobufReader(bytes, from: range.lowerBound, to: range.upperBound)
        var metric = Metric(value: .other)
        var isNull = false
        while let (field, wire) = try reader.key() {
            switch (field, wire) {
            case (1, 2): metric.name = try reader.string(try reader.delimited())
            case (2, 0): metric.alias = try reader.varint()
            case (3, 0): metric.timestamp = try reader.varint()
            case (4, 0): metric.datatype = try reader.varint()
            case (7, 0): isNull = try reader.varint() != 0
            case (10, 0), (11, 0): metric.value = .integer(try reader.varint())
            case (12, 5): metric.value = .double(Double(Float(bitPattern: UInt32(try reader.fixed(4)))))
            case (13, 1): metric.value = .double(Double(bitPattern: try reader.fixed(8)))
            case (14, 0): metric.value = .boolean(try reader.varint() != 0)
            case (15, 2): metric.value = .string(try reader.string(try reader.delimited()))
            default: try reader.skip(wire: wire)
            }
        }
        if isNull { metric.value = .null }
        return metric
    }

    /// The payload's bytes (what NCMD and DCMD carry).
    public func encoded() -> [UInt8] {
        var writer = ProtobufWriter()
        if let timestamp { writer.varint(1, timestamp) }
        for metric in metrics {
            var inner = ProtobufWriter()
            if let name = metric.name { inner.delimited(1, Array(name.utf8)) }
            if let alias = metric.alias { inner.varint(2, alias) }
            if let timestamp = metric.timestamp { inner.varint(3, timestamp) }
            if let datatype = metric.datatype { inner.varint(4, datatype) }
            switch metric.value {
            case .boolean(let value): inner.varint(14, value ? 1 : 0)
            case .integer(let value): inner.varint(11, value)
            case .double(let value):
                inner.key(13, wire: 1)
                var bits = value.bitPattern
                for _ in 0..<8 {
                    inner.bytes.append(UInt8(bits & 0xFF))
                    bits >>= 8
                }
            case .string(let value): inner.delimited(15, Array(value.utf8))
            case .null: inner.varint(7, 1)
            case .other: break
            }
            writer.delimited(2, inner.bytes)
        }
        if let seq { writer.varint(3, seq) }
        return writer.bytes
    }
}

/// A Sparkplug topic: `spBv1.0/<group>/<type>/<edge node>[/<device>]`.
public struct SparkplugTopic: Sendable, Hashable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable {
        case nbirth = "NBIRTH"
        case ndeath = "NDEATH"
        case dbirth = "DBIRTH"
        case ddeath = "DDEATH"
        case ndata = "NDATA"
        case ddata = "DDATA"
        case ncmd = "NCMD"
        case dcmd = "DCMD"
    }

    public static let namespace = "spBv1.0"

    public var group: String
    public var kind: Kind
    public var node: String
    public var device: String?

    public init(group: String, kind: Kind, node: String, device: String? = nil) {
        self.group = group
        self.kind = kind
        self.node = node
        self.device = device
    }

    /// Nil for anything that is not a node or device topic of Sparkplug B.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 4 || parts.count == 5, parts[0] == Self.namespace, !parts[1].isEmpty,
            let kind = Kind(rawValue: parts[2]), !parts[3].isEmpty
        else { return nil }
        let isDevice = [.dbirth, .ddeath, .ddata, .dcmd].contains(kind)
        guard isDevice == (parts.count == 5), !isDevice || !parts[4].isEmpty else { return nil }
        self.init(group: parts[1], kind: kind, node: parts[3], device: isDevice ? parts[4] : nil)
    }

    public var description: String {
        ([Self.namespace, group, kind.rawValue, node] + (device.map { [$0] } ?? [])).joined(separator: "/")
    }
}
