/// The engine's whole state apart from its configuration, as a value that can be stored and restored.
///
/// Restoring a snapshot with the plant it was taken under gives an engine that behaves exactly like the one it was
/// taken from: same incidents, same heartbeat watches, same queued deadlines in the same order (equal instants
/// included), same next incident number.
public struct EngineSnapshot: Sendable, Equatable, Codable {
    var now: Instant
    var nextNumber: UInt64
    var incidents: [Incident]
    var heartbeats: [LineID: EscalationEngine.Heartbeat]
    var timers: [DeadlineQueue.Entry]
    var timerSequence: UInt64
    /// A handover under way (absent in snapshots from before 0.4).
    var sweep: HandoverSweep?
    /// Shelves and stations out of service (absent before 0.7).
    var shelves: [Shelf]?
    var nextShelf: UInt64?
    var outOfService: [OutOfService]?

    /// When it was taken (the engine's latest instant).
    public var takenAt: Instant { now }
    public var openIncidentCount: Int { incidents.count }
}

extension EscalationEngine {
    /// The state to store. Cheap to take: the engine is a value; the copy is made when either side changes.
    public var snapshot: EngineSnapshot {
        let live = queue.liveEntries {
            Self.isLive($0, incidents: incidents, heartbeats: heartbeats, engine: engineTimers)
        }
        return EngineSnapshot(
            now: now,
            nextNumber: nextNumber,
            incidents: incidents.values.sorted { $0.id < $1.id },
            heartbeats: heartbeats,
            timers: live.entries,
            timerSequence: live.sequence,
            sweep: sweep,
            shelves: standingShelves,
            nextShelf: nextShelf,
            outOfService: stationsOutOfService
        )
    }

    /// An engine in the state of `snapshot`, under `plant` (the configuration it was taken under).
    public init(plant: Plant, restoring snapshot: EngineSnapshot) {
        self.plant = plant
        self.now = snapshot.now
        self.nextNumber = snapshot.nextNumber
        self.incidents = IncidentTable(uniqueKeysWithValues: snapshot.incidents.map { ($0.id, $0) })
        self.index = IncidentIndex(rebuildingFrom: snapshot.incidents)
        self.heartbeats = snapshot.heartbeats
        self.queue = DeadlineQueue(entries: snapshot.timers, sequence: snapshot.timerSequence)
        self.dutyChangeAt = snapshot.timers.last { $0.target == .dutyChange }?.at
        self.sweep = snapshot.sweep
        self.shelves = Dictionary(uniqueKeysWithValues: (snapshot.shelves ?? []).map { ($0.id, $0) })
        self.nextShelf = snapshot.nextShelf ?? 1
        self.outOfService = Dictionary(
            (snapshot.outOfService ?? []).map { (StationRef(line: $0.line, station: $0.station), $0) },
            uniquingKeysWith: { $1 }
        )
        if dutyChangeAt == nil { armDutyChange(after: now) }
    }

    /// Raises the next incident number to at least `number` (numbers handed out before durable state existed).
    public mutating func reserveIncidentNumbers(below number: UInt64) {
        nextNumber = max(nextNumber, number)
    }
}
