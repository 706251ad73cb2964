/// The engine's state in the byte form of `BinaryWriter`, written straight from the engine and read straight into one:
/// no intermediate array of incidents, no tree of values. What it holds is what `EngineSnapshot` holds.
extension EscalationEngine {
    /// The engine's part of a snapshot, format 5: incidents with stations, owners, grace, arrival, reminders, drills
    /// and shelves, the duty-change timer, the shelves and the stations out of service. Formats 2 (the 0.3 builds), 3
    /// (0.4) and 4 (0.5, 0.6) still read.
    public static let stateFormat = 5

    /// Writes the whole state apart from the configuration. Incidents go in the map's own order; restoring does not
    /// depend on it.
    public func encodeState(into writer: inout BinaryWriter) {
        writer.write(now)
        writer.write(nextNumber)
        writer.write(UInt64(incidents.count))
        for incident in incidents.values { incident.encode(into: &writer) }
        writer.write(each: heartbeats.sorted { $0.key < $1.key }) { writer, element in
            writer.write(element.key)
            writer.write(element.value.within)
            writer.write(element.value.quietSince)
            writer.write(element.value.armedAt) { $0.write($1) }
        }
        let live = queue.liveEntries {
            Self.isLive($0, incidents: incidents, heartbeats: heartbeats, engine: engineTimers)
        }
        writer.write(live.sequence)
        writer.write(each: live.entries) { writer, entry in
            writer.write(entry.at)
            writer.write(entry.sequence)
            switch entry.target {
            case .incident(let id, let generation):
                writer.write(byte: 0)
                writer.write(id.number)
                writer.write(generation)
            case .heartbeat(let line):
                writer.write(byte: 1)
                writer.write(line)
            case .dutyChange:
                writer.write(byte: 2)
            case .handoverChunk:
                writer.write(byte: 3)
            case .shelfEnd(let shelf):
                writer.write(byte: 4)
                writer.write(shelf)
            }
        }
        writer.write(sweep) { writer, sweep in
            writer.write(sweep.at)
            writer.write(sweep.next)
            writer.write(sweep.after) { $0.write($1.number) }
        }
        writer.write(nextShelf)
        writer.write(each: standingShelves) { writer, shelf in
            writer.write(shelf.id)
            writer.write(shelf.line)
            writer.write(shelf.station) { $0.write($1) }
            writer.write(shelf.category) { $0.write($1.rawValue) }
            writer.write(shelf.until) { $0.write($1) }
            writer.write(each: shelf.calls) { $0.write($1.number) }
            writer.write(shelf.reason)
            writer.write(actor: shelf.by)
            writer.write(shelf.at)
        }
        writer.write(each: stationsOutOfService) { writer, entry in
            writer.write(entry.line)
            writer.write(entry.station)
            writer.write(entry.reason)
            writer.write(actor: entry.by)
            writer.write(entry.at)
            writer.write(entry.signals)
        }
    }

    /// An engine in the state `encodeState` wrote, under `plant` (the configuration it was written under).
    public init(plant: Plant, decoding reader: inout BinaryReader, format: Int = stateFormat) throws(BinaryFormatError)
    {
        self.plant = plant
        self.now = try reader.readInstant()
        self.nextNumber = try reader.readUInt64()
        let count = try reader.readCount()
        var incidents = IncidentTable()
        var index = IncidentIndex()
        for _ in 0..<count {
            let incident = try Incident(decoding: &reader, format: format)
            guard incidents.updateValue(incident, forKey: incident.id) == nil else {
                throw reader.failure("incident \(incident.id) twice")
            }
            index.insert(incident)
        }
        index.rebuildOrder(Array(incidents.keys))
        self.incidents = incidents
        self.index = index
        let heartbeatCount = try reader.readCount()
        for _ in 0..<heartbeatCount {
            let line: LineID = try reader.readName()
            heartbeats[line] = Heartbeat(
                within: try reader.readDuration(),
                quietSince: try reader.readInstant(),
                armedAt: try reader.readOptional { (reader) throws(BinaryFormatError) in try reader.readInstant() }
            )
        }
        let sequence = try reader.readUInt64()
        let entries = try reader.readArray { (reader) throws(BinaryFormatError) -> DeadlineQueue.Entry in
            let at = try reader.readInstant()
            let sequence = try reader.readUInt64()
            let target: DeadlineQueue.Target
            switch try reader.readByte() {
            case 0: target = .incident(IncidentID(try reader.readUInt64()), generation: try reader.readUInt64())
            case 1: target = .heartbeat(try reader.readName())
            case 2: target = .dutyChange
            case 3: target = .handoverChunk
            case 4: target = .shelfEnd(try reader.readUInt64())
            case let other: throw reader.failure("\(other) is not a timer target")
            }
            return DeadlineQueue.Entry(at: at, sequence: sequence, target: target)
        }
        self.queue = DeadlineQueue(entries: entries, sequence: sequence)
        self.dutyChangeAt = entries.last { $0.target == .dutyChange }?.at
        if format >= 3 {
            self.sweep = try reader.readOptional { (reader) throws(BinaryFormatError) -> HandoverSweep in
                HandoverSweep(
                    at: try reader.readInstant(),
                    next: try reader.readInstant(),
                    after: try reader.readOptional { (reader) throws(BinaryFormatError) in
                        IncidentID(try reader.readUInt64())
                    }
                )
            }
        }
        if format >= 5 {
            self.nextShelf = try reader.readUInt64()
            let shelves = try reader.readArray { (reader) throws(BinaryFormatError) -> Shelf in
                Shelf(
                    id: try reader.readUInt64(),
                    line: try reader.readName(),
                    station: try reader.readOptional { (reader) throws(BinaryFormatError) in try reader.readName() },
                    category: try reader.readOptional { (reader) throws(BinaryFormatError) in
                        let raw = try reader.readString()
                        guard let category = Category(rawValue: raw) else {
                            throw reader.failure("\(raw) is not a category")
                        }
                        return category
                    },
                    until: try reader.readOptional { (reader) throws(BinaryFormatError) in try reader.readInstant() },
                    calls: try reader.readArray { (reader) throws(BinaryFormatError) in
                        IncidentID(try reader.readUInt64())
                    },
                    reason: try reader.readString(),
                    by: try reader.readActor(),
                    at: try reader.readInstant()
                )
            }
            self.shelves = Dictionary(uniqueKeysWithValues: shelves.map { ($0.id, $0) })
            let stations = try reader.readArray { (reader) throws(BinaryFormatError) -> OutOfService in
                OutOfService(
                    line: try reader.readName(),
                    station: try reader.readName(),
                    reason: try reader.readString(),
                    by: try reader.readActor(),
                    at: try reader.readInstant(),
                    signals: try reader.readInt()
                )
            }
            self.outOfService = Dictionary(
                stations.map { (StationRef(line: $0.line, station: $0.station), $0) },
                uniquingKeysWith: { $1 }
            )
        }
        // State from before handovers has no duty-change timer.
        if dutyChangeAt == nil { armDutyChange(after: now) }
    }
}

extension Incident {
    func encode(into writer: inout BinaryWriter) {
        writer.write(id.number)
        writer.write(byte: kind.code)
        writer.write(line)
        writer.write(station) { $0.write($1) }
        writer.write(category) { $0.write($1.rawValue) }
        writer.write(text) { $0.write($1) }
        writer.write(reason) { $0.write($1) }
        writer.write(raisedAt)
        writer.write(origin.source) { $0.write($1) }
        writer.write(origin.sequence) { $0.write($1) }
        writer.write(byte: origin.drill ? 1 : 0)
        writer.write(policy)
        writer.write(tierIndex)
        writer.write(tierName)
        writer.write(rota)
        writer.write(tierEnteredAt)
        writer.write(notifiedAt)
        writer.write(each: responders) { $0.write($1) }
        writer.write(each: notified) { $0.write($1) }
        writer.write(acknowledgedBy) { $0.write(actor: $1) }
        writer.write(acknowledgedAt) { $0.write($1) }
        writer.write(unansweredCount)
        writer.write(signalCount)
        writer.write(lastRepeatLoggedAt) { $0.write($1) }
        writer.write(stoppedAt) { $0.write($1) }
        writer.write(deadline) { writer, deadline in
            writer.write(deadline.at)
            writer.write(byte: deadline.purpose.code)
        }
        writer.write(generation)
        writer.write(each: stations) { $0.write($1) }
        writer.write(each: owners) { $0.write($1) }
        writer.write(each: grace) { writer, right in
            writer.write(right.responder)
            writer.write(right.until)
        }
        writer.write(firstAcknowledgedAt) { $0.write($1) }
        writer.write(arrivedAt) { $0.write($1) }
        writer.write(arrivedBy) { $0.write(actor: $1) }
        writer.write(reminderCount)
        writer.write(lastReminderAt) { $0.write($1) }
        writer.write(byte: pagesEveryone ? 1 : 0)
        writer.write(lineStop) { $0.write($1.number) }
        writer.write(shelf) { $0.write($1) }
    }

    init(decoding reader: inout BinaryReader, format: Int) throws(BinaryFormatError) {
        typealias Read<T> = (inout BinaryReader) throws(BinaryFormatError) -> T
        let string: Read<String> = { (reader) throws(BinaryFormatError) in try reader.readString() }
        let instant: Read<Instant> = { (reader) throws(BinaryFormatError) in try reader.readInstant() }
        let responder: Read<ResponderID> = { (reader) throws(BinaryFormatError) in try reader.readName() }
        self.id = IncidentID(try reader.readUInt64())
        let code = try reader.readByte()
        guard let kind = IncidentKind(code: code) else { throw reader.failure("\(code) is not an incident kind") }
        self.kind = kind
        self.line = try reader.readName()
        self.station = try reader.readOptional { (reader) throws(BinaryFormatError) in try reader.readName() }
        self.category = try reader.readOptional { (reader) throws(BinaryFormatError) in
            let raw = try reader.readString()
            guard let category = Category(rawValue: raw) else { throw reader.failure("\(raw) is not a category") }
            return category
        }
        self.text = try reader.readOptional(string)
        self.reason = try reader.readOptional(string)
        self.raisedAt = try reader.readInstant()
        self.origin = SignalOrigin(
            source: try reader.readOptional(string),
            sequence: try reader.readOptional { (reader) throws(BinaryFormatError) in try reader.readUInt64() },
            drill: format >= 4 ? try reader.readByte() == 1 : false
        )
        self.policy = try reader.readName()
        self.tierIndex = try reader.readInt()
        self.tierName = try reader.readString()
        self.rota = try reader.readName()
        self.tierEnteredAt = try reader.readInstant()
        self.notifiedAt = try reader.readInstant()
        self.responders = try reader.readArray(responder)
        self.notified = try reader.readArray(responder)
        let actor: Read<Actor> = { (reader) throws(BinaryFormatError) in try reader.readActor() }
        self.acknowledgedBy = try reader.readOptional(actor)
        self.acknowledgedAt = try reader.readOptional(instant)
        self.unansweredCount = try reader.readInt()
        self.signalCount = try reader.readInt()
        self.lastRepeatLoggedAt = try reader.readOptional(instant)
        self.stoppedAt = try reader.readOptional(instant)
        self.deadline = try reader.readOptional { (reader) throws(BinaryFormatError) -> Deadline in
            let at = try reader.readInstant()
            switch try reader.readByte() {
            case 0: return Deadline(at: at, purpose: .acknowledge)
            case 1: return Deadline(at: at, purpose: .resolve)
            case 2: return Deadline(at: at, purpose: .arrive)
            case 3: return Deadline(at: at, purpose: .remind)
            case let other: throw reader.failure("\(other) is not a deadline purpose")
            }
        }
        self.generation = try reader.readUInt64()
        guard format >= 3 else {
            stations = station.map { [$0] } ?? []
            owners = responders
            firstAcknowledgedAt = acknowledgedAt
            return
        }
        self.stations = try reader.readArray { (reader) throws(BinaryFormatError) -> StationID in try reader.readName()
        }
        self.owners = try reader.readArray(responder)
        self.grace = try reader.readArray { (reader) throws(BinaryFormatError) -> GraceRight in
            GraceRight(responder: try reader.readName(), until: try reader.readInstant())
        }
        self.firstAcknowledgedAt = try reader.readOptional(instant)
        self.arrivedAt = try reader.readOptional(instant)
        self.arrivedBy = try reader.readOptional(actor)
        self.reminderCount = try reader.readInt()
        self.lastReminderAt = try reader.readOptional(instant)
        self.pagesEveryone = try reader.readByte() != 0
        self.lineStop = try reader.readOptional { (reader) throws(BinaryFormatError) in
            IncidentID(try reader.readUInt64())
        }
        if format >= 5 {
            self.shelf = try reader.readOptional { (reader) throws(BinaryFormatError) in try reader.readUInt64() }
        }
    }
}

extension IncidentKind {
    fileprivate var code: UInt8 {
        switch self {
        case .andon: 0
        case .stop: 1
        case .silent: 2
        }
    }

    fileprivate init?(code: UInt8) {
        switch code {
        case 0: self = .andon
        case 1: self = .stop
        case 2: self = .silent
        default: return nil
        }
    }
}

extension Deadline.Purpose {
    fileprivate var code: UInt8 {
        switch self {
        case .acknowledge: 0
        case .resolve: 1
        case .arrive: 2
        case .remind: 3
        }
    }
}

extension BinaryWriter {
    fileprivate mutating func write(actor: Actor) {
        switch actor {
        case .responder(let id):
            write(byte: 0)
            write(id)
        case .administrator(let user):
            write(byte: 1)
            write(user)
        case .station(let line, let station):
            write(byte: 2)
            write(line)
            write(station)
        }
    }
}

extension BinaryReader {
    fileprivate mutating func readActor() throws(BinaryFormatError) -> Actor {
        switch try readByte() {
        case 0: return .responder(try readName())
        case 1: return .administrator(user: try readString())
        case 2: return .station(try readName(), try readName())
        case let other: throw failure("\(other) is not an actor")
        }
    }
}
