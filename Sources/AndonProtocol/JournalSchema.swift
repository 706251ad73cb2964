import AndonCore

/// The fields of andond's journal entries, defined once: andond writes them (`JournalEntry.add`), andonctl's `tail`,
/// `board`, `report` and `replay` read them, and docs/journal.md lists each (a test holds the three together).
/// Event names are `Event.Kind`'s raw values, a call's kind `IncidentKind`'s.
public enum JournalField: String, CaseIterable, Sendable {
    // systemd's own.
    case message = "MESSAGE"
    case priority = "PRIORITY"
    case messageID = "MESSAGE_ID"
    case syslogIdentifier = "SYSLOG_IDENTIFIER"

    // A step of a call.
    case event = "ANDON_EVENT"
    case incident = "ANDON_INCIDENT"
    case kind = "ANDON_KIND"
    case line = "ANDON_LINE"
    case station = "ANDON_STATION"
    case category = "ANDON_CATEGORY"
    case tier = "ANDON_TIER"
    case tierNumber = "ANDON_TIER_NUMBER"
    case rota = "ANDON_ROTA"
    case policy = "ANDON_POLICY"
    /// Once per responder notified: their Unix user.
    case responder = "ANDON_RESPONDER"
    case elapsed = "ANDON_ELAPSED_MS"
    case waited = "ANDON_WAITED_MS"
    case by = "ANDON_BY"
    case note = "ANDON_NOTE"
    case reason = "ANDON_REASON"
    case count = "ANDON_COUNT"
    case source = "ANDON_SOURCE"
    case sequence = "ANDON_SEQ"
    case at = "ANDON_AT_MS"
    case callState = "ANDON_CALL_STATE"
    case acknowledgedAfter = "ANDON_ACK_MS"
    case arrivedAfter = "ANDON_ARRIVE_MS"
    case resolvedAfter = "ANDON_RESOLVE_MS"
    /// Once per responder who held the call before a handover.
    case from = "ANDON_FROM"
    case graceUntil = "ANDON_GRACE_UNTIL_MS"
    case missed = "ANDON_MISSED"
    case kpoReview = "ANDON_KPO_REVIEW"
    case stations = "ANDON_STATIONS"
    case lineStop = "ANDON_LINE_STOP"
    case drill = "ANDON_DRILL"
    case drillEnded = "ANDON_DRILL_ENDED"
    case site = "ANDON_SITE"
    case timeZone = "ANDON_TIMEZONE"
    case shift = "ANDON_SHIFT"
    case shiftStart = "ANDON_SHIFT_START_MS"
    case shiftEnd = "ANDON_SHIFT_END_MS"
    case eventID = "ANDON_EVENT_ID"
    case late = "ANDON_LATE_MS"

    // andond's own entries.
    case error = "ANDON_ERROR"
    case state = "ANDON_STATE"
    case stateAside = "ANDON_STATE_ASIDE"
    case configuration = "ANDON_CONFIG"
    case configurationError = "ANDON_CONFIG_ERROR"
    case configurationWarning = "ANDON_CONFIG_WARNING"
    case change = "ANDON_CHANGE"
    case gaps = "ANDON_GAPS"
    case gapStart = "ANDON_GAP_START_MS"
    case gapEnd = "ANDON_GAP_END_MS"
    case restored = "ANDON_RESTORED"
    case down = "ANDON_DOWN_MS"
    case cleanStop = "ANDON_CLEAN_STOP"
    case replayed = "ANDON_REPLAYED"
    case lateEvents = "ANDON_LATE_EVENTS"
    case dropped = "ANDON_DROPPED"
    case journalUnkept = "ANDON_JOURNAL_UNKEPT"
    case journalMissed = "ANDON_JOURNAL_MISSED"
    case journalDelayed = "ANDON_JOURNAL_DELAYED"
    case journalGap = "ANDON_JOURNAL_GAP_MS"
    case journalFirstDelayed = "ANDON_JOURNAL_FIRST_DELAYED"
    case waitingInputs = "ANDON_WAITING_INPUTS"
    case refused = "ANDON_REFUSED"

    // Notifications (`notified`, `notify-failed`).
    /// The channel a delivery went through.
    case channel = "ANDON_CHANNEL"
    /// Whom it was for: a responder's id, or `line:L1`.
    case recipient = "ANDON_RECIPIENT"
    /// Why it was sent: `call`, `taken`, `ended`, `update`, `test`.
    case purpose = "ANDON_PURPOSE"
    case delivery = "ANDON_DELIVERY"
    case attempt = "ANDON_ATTEMPT"
    case httpStatus = "ANDON_HTTP_STATUS"
    /// From the event to the receiver's answer.
    case notifyLatency = "ANDON_NOTIFY_MS"
    /// The event the delivery was for, by name (not `ANDON_EVENT`: a notification is not a step of its call), and
    /// its `ANDON_EVENT_ID`.
    case causeEventKind = "ANDON_CAUSE_EVENT"
    case causeEvent = "ANDON_CAUSE_EVENT_ID"
    /// The delivery after the attempt: `delivered`, `pending` (tried again) or `failed` (for good).
    case deliveryState = "ANDON_DELIVERY_STATE"

    // Shelves and stations out of service (`shelve`, `unshelve`, `out-of-service`, `in-service`, `ignored`,
    // `standing`; a call's `shelved` and `unshelved`, and a `raised` a shelf took).
    /// The shelf's number.
    case shelf = "ANDON_SHELF"
    /// A timed shelf's end.
    case until = "ANDON_UNTIL_MS"
    /// `1` for a one-shot shelf (until its calls are over).
    case oneShot = "ANDON_ONE_SHOT"
    /// The calls shelved, or announced again, by number, comma-separated.
    case incidents = "ANDON_INCIDENTS"
    /// How long a shelf, or a station out of service, stood.
    case lasted = "ANDON_LASTED_MS"
    /// `1` when a timed shelf ended at its time.
    case expired = "ANDON_EXPIRED"

    /// The prefix of andond's own fields: what a reader asks the journal for.
    public static let prefix = "ANDON_"

    /// `FIELD=value`, a journal match.
    public func match(_ value: some CustomStringConvertible) -> String { "\(rawValue)=\(value)" }
}

/// The journal's constants besides the fields.
public enum JournalSchema {
    /// `SYSLOG_IDENTIFIER` of every entry andond writes.
    public static let identifier = "andond"
    /// The value of `ANDON_DRILL` and `ANDON_DRILL_ENDED`, when present.
    public static let flagSet = "1"
    /// The value of `ANDON_KPO_REVIEW`.
    public static let noCountermeasure = "no-countermeasure"
}

/// One MESSAGE_ID per event type and per kind of andond's own entry (systemd/andond.catalog explains each).
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
        case .shelved: "38e425a83fd948c0942462b5ee462104"
        case .unshelved: "f7c38462356e4fd2b54bf7895fc444a6"
        }
    }

    public static func of(_ kind: PlantNotice.Kind) -> String {
        switch kind {
        case .shelve: "7e1005b2f65749b1b2d97e9087827753"
        case .unshelve: "43beff20e8e2481589e60a2ba6b4f86e"
        case .outOfService: "7a8b00b9d9854e998c8bf482b73c9b6a"
        case .inService: "d3a4c710fe9a4b97b5c0e169212f0618"
        case .ignored: "561105b0b1984d0f8993986a14118fa5"
        case .standing: "96bb3f6b18824c31bea4c0c478a5ab54"
        }
    }

    public static let started = "b10e75c33f344915952a3729bd4288b7"
    public static let stopping = "3e8684b2af1e48c9ac1af65708518105"
    public static let reloaded = "900fb62edb004a9ebdc8aa237df0f7c4"
    public static let reloadRejected = "f53e0ea12fa5428da9f266dd3f68fcf1"
    public static let rejectedInput = "f63ee7b1f2f14ddfb0b473b3b6130fa0"
    /// The journal writer's own: entries dropped (queue full).
    public static let journalDropped = "b1c71e9a669d426eabe6438ac7996121"
    /// journald answering again after an outage.
    public static let journalBack = "0b36e554c38245389c479dc14c60dd1e"
    /// journald answers again after durable entries waited for it in the state directory.
    public static let journalGap = "4f3e0b93b0f14b7f9e73061b713e41ee"
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
    /// While the state cannot be written and as many inputs wait as may, signals and answers are refused (and when
    /// they are taken again).
    public static let inputsRefused = "e85e24db7cc8432daa41414de00e72b6"
    /// The daily coverage check: KPO will have nobody on duty within 14 days.
    public static let kpoGapAhead = "dab6251384e645e2a2cc598d4a56b16d"
    /// The daily coverage check: another rota a tier calls will have nobody on duty within 14 days.
    public static let rotaGapAhead = "d9719c8f76aa47f485a2500e41bc1e79"
    /// An error of one datagram or connection (a reply that could not be sent, a failed read).
    public static let peerError = "d2e49cef92004096a0ee81a4ad930291"
    /// A line's `state` message (the feedback to its stations) could not be sent to an address.
    public static let feedbackFailed = "7b1f3c9a5e2d4f60a8c4b2e19d3f5a71"
    /// Datagrams from one source over its budget were dropped unread (one entry per source per 10 s).
    public static let floodDropped = "accf0ba3349a4256ae6993e65d57e760"
    /// A warning of the configuration andond started with (one entry per warning, positioned).
    public static let configurationWarning = "de5c69f26e2545488172a7e8197429e5"
    /// The UNIX socket's mode or group could not be set as configured (a missing group, say).
    public static let socketSetup = "0f931ae54c424e848908571da1d92782"
    /// A notification reached its receiver.
    public static let notified = "5a3c2d1e0f9b4c7a8e6d5b4a39281706"
    /// An attempt to notify failed (a warning after the first few), or a delivery was given up (crit).
    public static let notifyFailed = "c81f0e2d3b4a4958a7c6d5e4f3a2b190"
    /// Every notification of a call failed: nobody was reached, and the call escalates at once.
    public static let nobodyReached = "e4d3c2b1a0f94e8d9c7b6a5f4e3d2c1b"

    /// Every MESSAGE_ID andond writes, for the catalog and the docs.
    public static var all: [String] {
        Event.Kind.allCases.map(of) + PlantNotice.Kind.allCases.map(of) + [
            started, stopping, reloaded, reloadRejected, rejectedInput, journalDropped, journalBack, journalGap,
            restored, stateMovedAside, stateRefused, stateWriteFailed, outboxFull, inputsRefused, kpoGapAhead,
            rotaGapAhead,
            peerError, feedbackFailed, floodDropped, configurationWarning, socketSetup, notified, notifyFailed,
            nobodyReached,
        ]
    }
}

extension Dictionary where Key == String, Value == [String] {
    /// A journal entry's values of `field` (journald keeps a field given more than once as several values).
    public subscript(field: JournalField) -> [String]? { self[field.rawValue] }

    /// The first value of `field`.
    public func first(_ field: JournalField) -> String? { self[field.rawValue]?.first }
}
