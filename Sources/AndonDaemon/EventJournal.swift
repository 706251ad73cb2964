import AndonCore
import AndonProtocol
import AndonSystemd

/// The journal's view of andond: one MESSAGE_ID per event type (the catalog in systemd/andond.catalog explains each),
/// and the fields every entry carries.
public enum MessageID {
    public static func of(_ kind: Event.Kind) -> String {
        switch kind {
        case .raised: "58476d10d29440bcaeb1cf5033ff779f"
        case .escalated: "ac37a5b64e5348b79ef43c3463781c5a"
        case .skipped: "9239b0cfe62c460ca80fb2e65562f1f1"
        case .acknowledged: "46a2b6f0b3584c2b900bada52bfaaeac"
        case .overdue: "567e6189345b4721b9b3ee9c384f0792"
        case .unanswered: "d5d9ca641d444a24aa32c6906c71219f"
        case .repeated: "1e1da32524b9422483f45f9adee3c5d6"
        case .promoted: "3883817449224ba58077a49413faeb5a"
        case .resolved: "d3627a091b4149d789385bf6a0ff403a"
        case .cleared: "7f17cd3cc4694398aabb1eace7226180"
        case .resumed: "2c330e1b8c3744fdacde212bcda0bf6c"
        case .silent: "84b822dbe6114d13b48a4f187b50ab3a"
        case .heard: "7413256ee3334f878ddb103a628a9c0c"
        case .handedOver: "0889004c628443a5be549b70024b3e58"
        case .arrived: "a4fa4fb242aa487abbc3c467a98682e7"
        case .reminder: "3fa4f1caabfc4d70a5e1fc9b5ffe0483"
        case .joined: "feade95ddf46445c9a481e3fbd9c7119"
        }
    }

    public static let started = "b10e75c33f344915952a3729bd4288b7"
    public static let stopping = "3e8684b2af1e48c9ac1af65708518105"
    public static let reloaded = "900fb62edb004a9ebdc8aa237df0f7c4"
    public static let reloadRejected = "f53e0ea12fa5428da9f266dd3f68fcf1"
    public static let rejectedInput = "f63ee7b1f2f14ddfb0b473b3b6130fa0"
    /// The journal writer's own: entries dropped (queue full), and journald answering again after an outage.
    public static let journalDropped = JournalWriter.droppedMessageID
    public static let journalBack = JournalWriter.journalBackMessageID
    /// journald answers again after durable entries waited for it in the state directory.
    public static let journalGap = JournalWriter.journalGapMessageID
    /// Open calls restored from the state directory at start.
    public static let restored = "9c425f3e0a754554815f734031948540"
    /// The state database could not be read: moved aside, andond starts empty.
    public static let stateMovedAside = "076e58d94f2f41ee8d4eb916e7b504c7"
    /// andond refuses to start: its state directory is locked by another andond, from a newer andond, or unusable.
    public static let stateRefused = "f3250407b5d34818860876674aa2ab7d"
    /// A commit of the state failed (and when it works again).
    public static let stateWriteFailed = "ded753b6a5d04fb9b8cb722c2afdce0f"
    /// The journal outbox is full: entries are not kept until journald takes some (and when it has room again).
    public static let outboxFull = "078148c9e9734c4fb9a60b446fd17c76"
    /// The daily coverage check: KPO will have nobody on duty within 14 days.
    public static let kpoGapAhead = "dab6251384e645e2a2cc598d4a56b16d"
    /// The daily coverage check: another rota a tier calls will have nobody on duty within 14 days.
    public static let rotaGapAhead = "d9719c8f76aa47f485a2500e41bc1e79"
    /// An error of one datagram or connection (a reply that could not be sent, a failed read).
    public static let peerError = "d2e49cef92004096a0ee81a4ad930291"
    /// Datagrams from one source over its budget were dropped unread (one entry per source per 10 s).
    public static let floodDropped = "accf0ba3349a4256ae6993e65d57e760"
    /// A warning of the configuration andond started with (one entry per warning, positioned).
    public static let configurationWarning = "de5c69f26e2545488172a7e8197429e5"
    /// The UNIX socket's mode or group could not be set as configured (a missing group, say).
    public static let socketSetup = "0f931ae54c424e848908571da1d92782"

    /// Every MESSAGE_ID andond writes, for the catalog and the docs.
    public static var all: [String] {
        Event.Kind.allCases.map(of) + [
            started, stopping, reloaded, reloadRejected, rejectedInput, journalDropped, journalBack, journalGap,
            restored, stateMovedAside, stateRefused, stateWriteFailed, outboxFull, kpoGapAhead, rotaGapAhead,
            peerError, floodDropped, configurationWarning, socketSetup,
        ]
    }
}

extension JournalEntry {
    /// The entry for a core event; `shift` is the shift running at the event (`Plant.calendar.occurrence(at:)`), which
    /// reports group by and split stop minutes at.
    public init(event: Event, plant: Plant, shift: ShiftOccurrence?) {
        self.init()
        // The sentence quotes what senders wrote (a text, a reason, a note): its invisible characters are escaped
        // here, for journalctl's readers; the ANDON_ fields keep the text as it was sent.
        let message = event.message(in: plant).escapingControlCharacters
        add("MESSAGE", event.drill ? "DRILL: " + message : message)
        add("PRIORITY", event.severity.rawValue)
        add("MESSAGE_ID", MessageID.of(event.kind))
        add("SYSLOG_IDENTIFIER", "andond")
        add("ANDON_EVENT", event.kind.rawValue)
        add("ANDON_INCIDENT", event.incident)
        add("ANDON_KIND", event.incidentKind.rawValue)
        add("ANDON_LINE", event.line)
        add("ANDON_STATION", event.station)
        add("ANDON_CATEGORY", event.category)
        add("ANDON_TIER", event.tier?.name)
        add("ANDON_TIER_NUMBER", event.tier.map { "\($0.number)/\($0.of)" })
        add("ANDON_ROTA", event.tier?.rota)
        add("ANDON_POLICY", event.tier?.policy)
        // Unix user names, so that `journalctl -f ANDON_RESPONDER=$USER` finds a responder's own calls.
        for responder in event.responders {
            add("ANDON_RESPONDER", plant.responders[responder]?.user ?? responder.rawValue)
        }
        add("ANDON_ELAPSED_MS", event.elapsed.milliseconds)
        add("ANDON_WAITED_MS", event.waited?.milliseconds)
        add("ANDON_BY", event.by.map { plant.responderUser(of: $0) })
        add("ANDON_NOTE", event.note)
        add("ANDON_REASON", event.reason)
        add("ANDON_COUNT", event.count)
        add("ANDON_SOURCE", event.origin?.source)
        add("ANDON_SEQ", event.origin?.sequence)
        add("ANDON_AT_MS", event.at.millisecondsSinceEpoch)
        add("ANDON_CALL_STATE", event.state)
        // The three response times, apart, for reports: raised to acknowledged, to arrived, to closed.
        add("ANDON_ACK_MS", event.acknowledgedAfter?.milliseconds)
        add("ANDON_ARRIVE_MS", event.arrivedAfter?.milliseconds)
        if event.closes { add("ANDON_RESOLVE_MS", event.elapsed.milliseconds) }
        for responder in event.previous {
            add("ANDON_FROM", plant.responders[responder]?.user ?? responder.rawValue)
        }
        add("ANDON_GRACE_UNTIL_MS", event.graceUntil?.millisecondsSinceEpoch)
        add("ANDON_MISSED", event.missed?.rawValue)
        if event.needsReview { add("ANDON_KPO_REVIEW", "no-countermeasure") }
        if event.incidentKind == .stop, !event.stations.isEmpty {
            add("ANDON_STATIONS", event.stations.map(\.rawValue).joined(separator: ","))
        }
        add("ANDON_LINE_STOP", event.lineStop)
        if event.drill { add("ANDON_DRILL", "1") }
        if event.madeReal { add("ANDON_DRILL_ENDED", "1") }
        // Where and when, for reports read from the journal alone (a central journal holds many plants).
        add("ANDON_SITE", plant.name)
        add("ANDON_TIMEZONE", plant.timeZone.identifier)
        if let shift {
            add("ANDON_SHIFT", shift.shift.rawValue)
            add("ANDON_SHIFT_START_MS", shift.start.millisecondsSinceEpoch)
            add("ANDON_SHIFT_END_MS", shift.end.millisecondsSinceEpoch)
        }
    }

    /// A lifecycle or warning entry of the daemon itself.
    public static func daemon(
        _ message: String,
        priority: Severity,
        id: String? = nil,
        fields: [(String, String)] = []
    )
        -> JournalEntry
    {
        var entry = JournalEntry()
        entry.add("MESSAGE", message)
        entry.add("PRIORITY", priority.rawValue)
        entry.add("MESSAGE_ID", id)
        entry.add("SYSLOG_IDENTIFIER", "andond")
        for (name, value) in fields { entry.add(name, value) }
        return entry
    }
}

extension Plant {
    /// The Unix user of an actor, as `ANDON_BY` records it.
    func responderUser(of actor: Actor) -> String { userName(of: actor) }
}
