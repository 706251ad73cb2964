import HeapModule

/// One priority queue of every pending timer in the engine, whatever it belongs to.
///
/// Entries are never removed from the middle: a timer that no longer applies stays in the heap and is recognised
/// as stale by its owner when it reaches the top (`isLive`). Stale entries are pruned from the top after every
/// change, so `next` is always a live deadline, and the heap is rebuilt when stale entries outnumber live ones.
struct DeadlineQueue: Sendable {
    enum Target: Sendable, Hashable, Codable {
        case incident(IncidentID, generation: UInt64)
        case heartbeat(LineID)
        /// The next instant at which a rota's duty may change (the engine keeps one).
        case dutyChange
        /// The next chunk of a handover under way.
        case handoverChunk
        /// A timed shelf's end.
        case shelfEnd(UInt64)
    }

    struct Entry: Sendable, Comparable, Codable {
        var at: Instant
        var sequence: UInt64
        var target: Target

        static func < (lhs: Entry, rhs: Entry) -> Bool { (lhs.at, lhs.sequence) < (rhs.at, rhs.sequence) }
        static func == (lhs: Entry, rhs: Entry) -> Bool { lhs.at == rhs.at && lhs.sequence == rhs.sequence }
    }

    private var heap = Heap<Entry>()
    private var sequence: UInt64 = 0

    var count: Int { heap.count }

    /// The earliest entry, live or not.
    var first: Entry? { heap.min }

    mutating func schedule(_ target: Target, at instant: Instant) {
        sequence += 1
        heap.insert(Entry(at: instant, sequence: sequence, target: target))
    }

    mutating func popFirst() -> Entry? { heap.popMin() }

    /// The live entries and the sequence counter, for a snapshot: restoring them keeps the order of equal instants.
    func liveEntries(isLive: (Entry) -> Bool) -> (entries: [Entry], sequence: UInt64) {
        (heap.unordered.filter(isLive).sorted(), sequence)
    }

    init() {}

    init(entries: [Entry], sequence: UInt64) {
        self.heap = Heap(entries)
        self.sequence = sequence
    }

    /// Drops stale entries from the top, and rebuilds the heap when more than half of it is stale.
    mutating func prune(liveCount: Int, isLive: (Entry) -> Bool) {
        while let top = heap.min, !isLive(top) { _ = heap.popMin() }
        if heap.count > 2 * liveCount + 64 {
            heap = Heap(heap.unordered.filter(isLive))
        }
    }
}
