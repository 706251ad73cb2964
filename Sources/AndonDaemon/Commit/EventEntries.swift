import AndonCore
import AndonProtocol
import AndonStore
import AndonSystemd

extension JournalEntry {
    /// The entry for a core event; `shift` is the shift running at the event (`Plant.calendar.occurrence(at:)`), which
    /// reports group by and split stop minutes at.
    public init(event: Event, plant: Plant, shift: ShiftOccurrence?) {
        self.init()
        // The sentence quotes what senders wrote (a text, a reason, a note): its invisible characters are escaped
        // here, for journalctl's readers; the ANDON_ fields keep the text as it was sent.
        let message = event.message(in: plant).escapingControlCharacters
        add(.message, event.drill ? "DRILL: " + message : message)
        add(.priority, event.severity.rawValue)
        add(.messageID, MessageID.of(event.kind))
        add(.syslogIdentifier, JournalSchema.identifier)
        add(.event, event.kind.rawValue)
        add(.incident, event.incident)
        add(.kind, event.incidentKind.rawValue)
        add(.line, event.line)
        add(.station, event.station)
        add(.category, event.category)
        add(.tier, event.tier?.name)
        add(.tierNumber, event.tier.map { "\($0.number)/\($0.of)" })
        add(.rota, event.tier?.rota)
        add(.policy, event.tier?.policy)
        // Unix user names, so that `journalctl -f ANDON_RESPONDER=$USER` finds a responder's own calls.
        for responder in event.responders {
            add(.responder, plant.user(of: responder))
        }
        add(.elapsed, event.elapsed.milliseconds)
        add(.waited, event.waited?.milliseconds)
        add(.by, event.by.map { plant.userName(of: $0) })
        add(.note, event.note)
        add(.reason, event.reason)
        add(.count, event.count)
        add(.source, event.origin?.source)
        add(.sequence, event.origin?.sequence)
        add(.at, event.at.millisecondsSinceEpoch)
        add(.callState, event.state)
        // The three response times, apart, for reports: raised to acknowledged, to arrived, to closed.
        add(.acknowledgedAfter, event.acknowledgedAfter?.milliseconds)
        add(.arrivedAfter, event.arrivedAfter?.milliseconds)
        if event.closes { add(.resolvedAfter, event.elapsed.milliseconds) }
        for responder in event.previous {
            add(.from, plant.user(of: responder))
        }
        add(.graceUntil, event.graceUntil?.millisecondsSinceEpoch)
        add(.missed, event.missed?.rawValue)
        if event.needsReview { add(.kpoReview, JournalSchema.noCountermeasure) }
        if event.incidentKind == .stop, !event.stations.isEmpty {
            add(.stations, event.stations.map(\.rawValue).joined(separator: ","))
        }
        add(.lineStop, event.lineStop)
        add(.shelf, event.shelf)
        if event.drill { add(.drill, JournalSchema.flagSet) }
        if event.madeReal { add(.drillEnded, JournalSchema.flagSet) }
        // Where and when, for reports read from the journal alone (a central journal holds many plants).
        add(.site, plant.name)
        add(.timeZone, plant.timeZone.identifier)
        if let shift {
            add(.shift, shift.shift.rawValue)
            add(.shiftStart, shift.start.millisecondsSinceEpoch)
            add(.shiftEnd, shift.end.millisecondsSinceEpoch)
        }
    }

    /// The entry for a change of the plant's shelves or stations out of service.
    public init(notice: PlantNotice, plant: Plant) {
        self.init()
        add(.message, notice.message(in: plant).escapingControlCharacters)
        add(.priority, notice.severity.rawValue)
        add(.messageID, MessageID.of(notice.kind))
        add(.syslogIdentifier, JournalSchema.identifier)
        add(.event, notice.kind.rawValue)
        add(.line, notice.line)
        add(.station, notice.station)
        add(.category, notice.category)
        add(.shelf, notice.shelf)
        add(.until, notice.until?.millisecondsSinceEpoch)
        if notice.oneShot { add(.oneShot, JournalSchema.flagSet) }
        add(.reason, notice.reason)
        add(.by, notice.by.map { plant.userName(of: $0) })
        if !notice.calls.isEmpty { add(.incidents, notice.calls.map(\.description).joined(separator: ",")) }
        add(.lasted, notice.lasted?.milliseconds)
        add(.count, notice.count)
        if notice.expired { add(.expired, JournalSchema.flagSet) }
        add(.at, notice.at.millisecondsSinceEpoch)
        add(.site, plant.name)
        add(.timeZone, plant.timeZone.identifier)
    }

    /// A lifecycle or warning entry of the daemon itself.
    public static func daemon(
        _ message: String,
        priority: Severity,
        id: String? = nil,
        fields: [(JournalField, String)] = []
    )
        -> JournalEntry
    {
        var entry = JournalEntry()
        entry.add(.message, message)
        entry.add(.priority, priority.rawValue)
        entry.add(.messageID, id)
        entry.add(.syslogIdentifier, JournalSchema.identifier)
        for (name, value) in fields { entry.add(name, value) }
        return entry
    }
}

extension JournalEntry {
    /// The journal entries of one input's events, in order, with how late each was handled (`ANDON_LATE_MS`, on
    /// every entry of a tick): `at` is when the input was applied. Built off the escalation lock.
    static func entries(of events: [Event], plant: Plant, at: Instant, tick: Bool) -> [JournalEntry] {
        // Events of one input share an instant, mostly: the shift is looked up once, not per entry.
        var shift: ShiftOccurrence?
        return events.map { event in
            if shift.map({ !$0.contains(event.at) }) ?? true { shift = plant.calendar.occurrence(at: event.at) }
            var entry = JournalEntry(event: event, plant: plant, shift: shift)
            let late = at.duration(since: event.at)
            if late > .zero || tick {
                entry.add(.late, late.milliseconds)
            }
            return entry
        }
    }
}
