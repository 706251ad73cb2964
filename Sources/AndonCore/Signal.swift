/// What an operator calls for help with: the seven andon categories.
public enum Category: String, Sendable, Hashable, CaseIterable, Comparable, CustomStringConvertible, Codable {
    case safety
    case quality
    case maintenance
    case material
    case delivery
    case cost
    case help

    public var description: String { rawValue }

    public static func < (lhs: Category, rhs: Category) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!  // both are cases of allCases
    }

    /// The category names, for messages and hints.
    public static var names: String { allCases.map(\.rawValue).joined(separator: ", ") }
}

/// A signal from a line controller (a PLC or a line-side PC), already parsed and typed.
public enum Signal: Sendable, Hashable {
    /// The cord was pulled at a station.
    case andon(line: LineID, station: StationID, category: Category, text: String?)
    /// The line stopped; with a station, that station's andon becomes a line stop.
    case stop(line: LineID, station: StationID?, reason: String?)
    /// The station reset its cord: its andon calls (only the one of `category`, when given) are over.
    case clear(line: LineID, station: StationID, category: Category? = nil)
    /// Someone is at the station (a button or a badge reader), named when the reader knows them.
    case arrived(line: LineID, station: StationID, responder: ResponderID?)
    /// The line runs again: its stops end.
    case resume(line: LineID)
    /// The controller is alive.
    case heartbeat(line: LineID)
    /// The line's controller is gone (a bridge saw its death certificate, Sparkplug NDEATH): its `silent` call opens
    /// at once, whether or not the line has `heartbeat_within`; the next signal from the line ends it.
    case lost(line: LineID, reason: String?)

    public var line: LineID {
        switch self {
        case .andon(let line, _, _, _), .stop(let line, _, _), .clear(let line, _, _), .arrived(let line, _, _),
            .resume(let line), .heartbeat(let line), .lost(let line, _):
            return line
        }
    }

    /// The verb, as on the wire.
    public var verb: String {
        switch self {
        case .andon: "andon"
        case .stop: "stop"
        case .clear: "clear"
        case .arrived: "arrived"
        case .resume: "resume"
        case .heartbeat: "heartbeat"
        case .lost: "lost"
        }
    }
}

/// Where a signal came from, carried through to its events for the journal. Opaque to the core.
public struct SignalOrigin: Sendable, Hashable, Codable {
    /// The sender: a UDP address, or `uid=N` on the UNIX socket.
    public var source: String?
    /// The sender's own sequence number, when it gave one.
    public var sequence: UInt64?
    /// A drill: the call runs its whole chain for real, and every event of it says it is a drill.
    public var drill: Bool

    public init(source: String? = nil, sequence: UInt64? = nil, drill: Bool = false) {
        self.source = source
        self.sequence = sequence
        self.drill = drill
    }

    private enum CodingKeys: String, CodingKey { case source, sequence, drill }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        source = try container.decodeIfPresent(String.self, forKey: .source)
        sequence = try container.decodeIfPresent(UInt64.self, forKey: .sequence)
        // State written before drills has none.
        drill = try container.decodeIfPresent(Bool.self, forKey: .drill) ?? false
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(source, forKey: .source)
        try container.encodeIfPresent(sequence, forKey: .sequence)
        if drill { try container.encode(drill, forKey: .drill) }
    }
}
