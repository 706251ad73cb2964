/// A person who answers calls. `user` is the Unix user name the daemon authorises them by.
public struct Responder: Sendable, Hashable {
    public var id: ResponderID
    public var name: String
    public var user: String
    /// The channels that reach them (`notify:`), in order.
    public var notify: [ChannelRef]

    public init(id: ResponderID, name: String? = nil, user: String? = nil, notify: [ChannelRef] = []) {
        self.id = id
        self.notify = notify
        self.name = name ?? id.rawValue
        self.user = user ?? id.rawValue
    }
}

/// One step of an escalation chain.
public struct Tier: Sendable, Hashable {
    /// The tier's name, as the policy writes it (`team-leader`, `quality`, `kpo`): a rota, or a role a line binds
    /// to one of its rotas. It is what the journal calls the tier (`ANDON_TIER`).
    public var name: String
    /// Escalate when nobody acknowledged within this time. For the KPO tier: the first `unanswered` repeat.
    public var ackWithin: Duration
    /// Once acknowledged, escalate on when not resolved within this time.
    public var resolveWithin: Duration?
    /// For the KPO tier: repeat `unanswered` this often until acknowledged.
    public var repeatEvery: Duration?
    /// Once acknowledged, escalate on when nobody arrived at the station within this time.
    public var arriveWithin: Duration?
    /// Remind the owner of a call acknowledged at this tier this often while it stays open (when the tier has no
    /// `resolveWithin`); nil: the plant's `remindEvery`.
    public var remindEvery: Duration?

    public init(
        name: String,
        ackWithin: Duration,
        resolveWithin: Duration? = nil,
        repeatEvery: Duration? = nil,
        arriveWithin: Duration? = nil,
        remindEvery: Duration? = nil
    ) {
        self.name = name
        self.ackWithin = ackWithin
        self.resolveWithin = resolveWithin
        self.repeatEvery = repeatEvery
        self.arriveWithin = arriveWithin
        self.remindEvery = remindEvery
    }

    public var isKPO: Bool { name == RotaID.kpo.rawValue }
}

/// An ordered escalation chain, ending at the KPO tier.
public struct Policy: Sendable, Hashable {
    public var id: PolicyID
    public var tiers: [Tier]
    /// This chain's reminder interval for acknowledged calls (a tier's own comes first, the plant's after).
    public var remindEvery: Duration?

    public init(id: PolicyID, tiers: [Tier], remindEvery: Duration? = nil) {
        precondition(tiers.last?.isKPO == true, "every chain ends at the KPO tier")
        self.id = id
        self.tiers = tiers
        self.remindEvery = remindEvery
    }
}

/// A production line and how its calls are routed.
public struct Line: Sendable, Hashable {
    public var id: LineID
    public var description: String?
    /// The categories this line accepts, each with the policy it follows.
    public var policies: [Category: PolicyID]
    /// The chain a line stop follows.
    public var stopPolicy: PolicyID
    /// Tier names this line binds to its own rotas (`team-leader` -> `tl-l1`); other tiers use the rota of that name.
    public var rotas: [String: RotaID]
    /// When set, the controller must be heard at least this often, or a `silent` incident opens.
    public var heartbeatWithin: Duration?
    /// When set, the only stations the line accepts.
    public var stations: Set<StationID>?
    /// When set, who may send this line's controller signals on the UNIX socket; nil: anyone who can connect.
    public var controllers: ControllerRule?
    /// Channels that get every event of this line (its tower light, its board).
    public var notify: [ChannelRef] = []

    public init(
        id: LineID,
        description: String? = nil,
        policies: [Category: PolicyID],
        stopPolicy: PolicyID,
        rotas: [String: RotaID] = [:],
        heartbeatWithin: Duration? = nil,
        stations: Set<StationID>? = nil,
        controllers: ControllerRule? = nil
    ) {
        self.controllers = controllers
        self.id = id
        self.description = description
        self.policies = policies
        self.stopPolicy = stopPolicy
        self.rotas = rotas
        self.heartbeatWithin = heartbeatWithin
        self.stations = stations
    }

    /// The rota a tier resolves to on this line.
    public func rota(for tier: Tier) -> RotaID {
        if tier.isKPO { return .kpo }
        return rotas[tier.name] ?? RotaID(rawValue: tier.name)
    }

    /// A silent controller is routed like a maintenance andon, or the line's first category when it takes none.
    public var silentPolicy: PolicyID {
        policies[.maintenance] ?? policies.sorted { $0.key < $1.key }.first?.value ?? stopPolicy
    }
}

/// Everything the engine needs to know about the plant: the validated configuration.
public struct Plant: Sendable, Hashable {
    public var name: String
    public var calendar: ShiftCalendar
    public var responders: [ResponderID: Responder]
    public var rotas: [RotaID: Rota]
    public var policies: [PolicyID: Policy]
    public var lines: [LineID: Line]
    /// Repeated andons for an open station log at most one `repeated` event per this interval.
    public var coalesceWithin: Duration
    /// After a handover, the outgoing responders may still act on the call for this long.
    public var handoverGrace: Duration
    /// How often the owner of an acknowledged call with no `resolve_within` is reminded (a tier may say otherwise).
    public var remindEvery: Duration
    /// Categories whose calls notify every tier of their chain at once, KPO included (safety).
    public var pageEveryone: Set<Category>
    /// An unanswered call at KPO repeats to the KPO on duty this many times; from the next repeat on it calls every
    /// member of the KPO rota on duty or on call (all but those an override has away).
    public var kpoWidenAfter: Int
    /// The outbound channels by name, with how long a delivery through each is retried.
    public var channels: [ChannelID: ChannelPolicy] = [:]
    /// The longest a timed shelf may last (`max_shelve`): a shelf cannot be forgotten.
    public var maxShelve: Duration = Plant.defaultMaxShelve

    public static let defaultMaxShelve = Duration.seconds(8 * 3600)
    public static let defaultHandoverGrace = Duration.seconds(15 * 60)
    public static let defaultRemindEvery = Duration.seconds(30 * 60)
    public static let defaultKPOWidenAfter = 3

    public init(
        name: String,
        calendar: ShiftCalendar,
        responders: [ResponderID: Responder],
        rotas: [RotaID: Rota],
        policies: [PolicyID: Policy],
        lines: [LineID: Line],
        coalesceWithin: Duration = .seconds(60),
        handoverGrace: Duration = Plant.defaultHandoverGrace,
        remindEvery: Duration = Plant.defaultRemindEvery,
        pageEveryone: Set<Category> = [],
        kpoWidenAfter: Int = Plant.defaultKPOWidenAfter
    ) {
        self.kpoWidenAfter = kpoWidenAfter
        self.handoverGrace = handoverGrace
        self.remindEvery = remindEvery
        self.pageEveryone = pageEveryone
        self.name = name
        self.calendar = calendar
        self.responders = responders
        self.rotas = rotas
        self.policies = policies
        self.lines = lines
        self.coalesceWithin = coalesceWithin
    }

    public var timeZone: SiteTimeZone { calendar.timeZone }

    public func responder(forUser user: String) -> Responder? {
        responders.values.filter { $0.user == user }.min { $0.id < $1.id }
    }

    /// Whom the KPO tier calls on its `count`th unanswered repeat: the KPO on duty, and from repeat
    /// `kpoWidenAfter + 1` on every member of the KPO rota on duty or on call.
    public func kpoCall(repeat count: Int, at instant: Instant, shift: ShiftID?) -> Duty {
        guard count > kpoWidenAfter, let rota = rotas[.kpo] else { return duty(of: .kpo, at: instant, shift: shift) }
        return rota.reachable(at: instant, shift: shift, timeZone: timeZone)
    }

    /// Who is on duty on a rota at an instant; an unknown rota has nobody.
    public func duty(of rota: RotaID, at instant: Instant, shift: ShiftID?) -> Duty {
        guard let rota = rotas[rota] else {
            return Duty(rota: rota, responders: [], shift: shift, emptyReason: "rota \(rota) is not defined")
        }
        return rota.duty(at: instant, shift: shift, timeZone: timeZone)
    }
}

extension Plant {
    /// The configured line, or the refusal a sender gets for an unknown one.
    public func line(_ id: LineID) -> Result<Line, SignalRejection> {
        guard let line = lines[id] else {
            let known = lines.keys.sorted().map(\.rawValue).joined(separator: ", ")
            return .failure(
                SignalRejection(code: .unknownLine, message: "line \(id) is not configured (lines: \(known))")
            )
        }
        return .success(line)
    }

    /// The chain an andon of `category` follows on `line`, or the refusal when the line does not take it.
    public func policy(for category: Category, on line: Line) -> Result<PolicyID, SignalRejection> {
        guard let policy = line.policies[category] else {
            let accepted = line.policies.keys.sorted().map(\.rawValue).joined(separator: ", ")
            return .failure(
                SignalRejection(
                    code: .categoryNotAccepted,
                    message: "line \(line.id) does not take \(category) calls (it takes: \(accepted))"
                )
            )
        }
        return .success(policy)
    }

    /// The rota a tier calls on a line; on a line that is gone (it cannot be, with a validated plant), the rota the
    /// tier is named after.
    public func rota(for tier: Tier, on line: LineID) -> RotaID {
        lines[line]?.rota(for: tier) ?? (tier.isKPO ? .kpo : RotaID(rawValue: tier.name))
    }

    /// The chain `id`. One that is gone (it cannot be, with a validated plant) falls back to KPO alone, so that no
    /// call is ever dropped.
    public func policy(_ id: PolicyID) -> Policy {
        policies[id] ?? Policy(id: id, tiers: [Tier(name: RotaID.kpo.rawValue, ackWithin: .seconds(300))])
    }
}

/// Who may send a line's controller signals (`andon`, `stop`, `clear`, `resume`, `heartbeat`, `arrived`) on the
/// UNIX socket: Unix users and groups, by name. Root may always; responders may raise an `andon` by hand on any line.
/// (UDP senders are named by a later rule of their own.)
public struct ControllerRule: Sendable, Hashable {
    public var users: Set<String>
    public var groups: Set<String>

    public init(users: Set<String> = [], groups: Set<String> = []) {
        self.users = users
        self.groups = groups
    }

    /// `users plc-l2; groups andon-l2`, for messages.
    public var description: String {
        var parts: [String] = []
        if !users.isEmpty { parts.append("users " + users.sorted().joined(separator: ", ")) }
        if !groups.isEmpty { parts.append("groups " + groups.sorted().joined(separator: ", ")) }
        return parts.isEmpty ? "nobody but root" : parts.joined(separator: "; ")
    }
}

/// A local sender on the UNIX socket, as the daemon resolved its credentials: what `ControllerRule` matches.
public struct LocalSender: Sendable, Hashable {
    public var uid: UInt32
    public var user: String?
    public var groups: [String]

    public init(uid: UInt32, user: String?, groups: [String]) {
        self.uid = uid
        self.user = user
        self.groups = groups
    }
}

extension Plant {
    /// Whether `sender` may send `signal` on the UNIX socket: root always; the line's controllers; when the line names
    /// none, anyone who can connect; and any responder for an `andon` (raised by hand). Nil when allowed.
    public func authorize(_ signal: Signal, from sender: LocalSender) -> SignalRejection? {
        guard sender.uid != 0, let line = lines[signal.line], let rule = line.controllers else { return nil }
        if let user = sender.user, rule.users.contains(user) { return nil }
        if sender.groups.contains(where: rule.groups.contains) { return nil }
        let isResponder = sender.user.flatMap { self.responder(forUser: $0) } != nil
        if case .andon = signal, isResponder { return nil }
        let who = sender.user.map { "user \($0)" } ?? "uid \(sender.uid)"
        let hand = isResponder ? "; as a responder, \(who) may raise andons by hand only" : ""
        return SignalRejection(
            code: .notAuthorized,
            message: "\(who) may not send \(signal.verb) for line \(line.id): its controllers are "
                + "\(rule.description) (lines.\(line.id).controllers), and root\(hand)"
        )
    }
}
