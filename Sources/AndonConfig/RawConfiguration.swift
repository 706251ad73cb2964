/// The configuration file as written, before validation. Every field is optional here so that one pass can report
/// every missing or malformed value with its position; `ConfigurationLoader` turns it into a core `Plant`.
struct RawConfiguration: Decodable {
    enum Key: String, CodingKey, CaseIterable {
        case site, shifts, responders, rotas, policies, routes, lines, listen, signing, channels, notify
        case coalesceWithin = "coalesce_within"
        case handoverGrace = "handover_grace"
        case remindEvery = "remind_every"
        case pageEveryone = "page_everyone"
        case kpoWidenAfter = "kpo_widen_after"
        case feedbackEvery = "feedback_every"
        case maxShelve = "max_shelve"
    }

    var site: RawSite?
    var coalesceWithin: String?
    var handoverGrace: String?
    var remindEvery: String?
    var pageEveryone: [String]?
    var kpoWidenAfter: Int?
    var feedbackEvery: String?
    var maxShelve: String?
    var shifts: [String: RawShift]?
    var responders: [String: RawResponder]?
    var rotas: [String: RawRota]?
    var policies: [String: RawPolicy]?
    var routes: [String: String]?
    var lines: [String: RawLine]?
    var listen: RawListen?
    var signing: RawSigning?
    var channels: [String: RawChannel]?
    var notify: RawNotify?
    var path: ConfigPath

    init(from decoder: any Decoder) throws {
        let fields = try Fields(decoder, Key.self, what: "the configuration")
        listen = fields.optional(.listen)
        signing = fields.optional(.signing)
        channels = fields.optional(.channels)
        notify = fields.optional(.notify)
        site = fields.required(.site, what: "the configuration", hint: "add a 'site:' with 'time_zone:'")
        coalesceWithin = fields.optional(.coalesceWithin)
        handoverGrace = fields.optional(.handoverGrace)
        remindEvery = fields.optional(.remindEvery)
        pageEveryone = fields.optional(.pageEveryone)
        kpoWidenAfter = fields.optional(.kpoWidenAfter)
        feedbackEvery = fields.optional(.feedbackEvery)
        maxShelve = fields.optional(.maxShelve)
        shifts = fields.required(.shifts, what: "the configuration")
        responders = fields.required(.responders, what: "the configuration")
        rotas = fields.required(.rotas, what: "the configuration")
        policies = fields.required(.policies, what: "the configuration")
        routes = fields.optional(.routes)
        lines = fields.required(.lines, what: "the configuration")
        path = fields.path
    }
}

struct RawSite: Decodable {
    enum Key: String, CodingKey, CaseIterable {
        case name
        case timeZone = "time_zone"
    }

    var name: String?
    var timeZone: String?
    var path: ConfigPath

    init(from decoder: any Decoder) throws {
        let fields = try Fields(decoder, Key.self, what: "site")
        name = fields.optional(.name)
        timeZone = fields.required(.timeZone, what: "site", hint: "an IANA name such as Europe/Berlin")
        path = fields.path
    }
}

struct RawShift: Decodable {
    enum Key: String, CodingKey, CaseIterable { case start, end }

    var start: String?
    var end: String?
    var path: ConfigPath

    init(from decoder: any Decoder) throws {
        let fields = try Fields(decoder, Key.self, what: "a shift")
        start = fields.required(.start, what: "a shift", hint: "local time as \"HH:MM\"")
        end = fields.required(.end, what: "a shift", hint: "local time as \"HH:MM\"")
        path = fields.path
    }
}

struct RawResponder: Decodable {
    enum Key: String, CodingKey, CaseIterable { case name, user, notify }

    var name: String?
    var user: String?
    var notify: [RawChannelRef]?
    var path: ConfigPath

    init(from decoder: any Decoder) throws {
        let fields = try Fields(decoder, Key.self, what: "a responder")
        name = fields.optional(.name)
        user = fields.optional(.user)
        notify = fields.optional(.notify)
        path = fields.path
    }
}

struct RawRota: Decodable {
    enum Key: String, CodingKey, CaseIterable {
        case rotation, overrides
        case byShift = "by_shift"
    }

    var byShift: [String: [String]]?
    var rotation: RawRotation?
    var overrides: [RawOverride]?
    var path: ConfigPath

    init(from decoder: any Decoder) throws {
        let fields = try Fields(decoder, Key.self, what: "a rota")
        byShift = fields.optional(.byShift)
        rotation = fields.optional(.rotation)
        overrides = fields.optional(.overrides)
        path = fields.path
        if byShift == nil && rotation == nil && !fields.has(.byShift) && !fields.has(.rotation) {
            fields.sink.error(
                path,
                key: true,
                "a rota needs 'by_shift', 'rotation' or both",
                hint: "see etc/andond/andond.yaml"
            )
        }
    }
}

struct RawRotation: Decodable {
    enum Key: String, CodingKey, CaseIterable {
        case members, every, from, during
        case onDuty = "on_duty"
    }

    var members: [String]?
    var every: String?
    var from: String?
    var onDuty: Int?
    var during: [String]?
    var path: ConfigPath

    init(from decoder: any Decoder) throws {
        let fields = try Fields(decoder, Key.self, what: "a rotation")
        members = fields.required(.members, what: "a rotation")
        every = fields.required(.every, what: "a rotation", hint: "whole days, such as 7d")
        from = fields.required(.from, what: "a rotation", hint: "the first handover, local time: \"2026-01-05 06:00\"")
        onDuty = fields.optional(.onDuty)
        during = fields.optional(.during)
        path = fields.path
    }
}

struct RawOverride: Decodable {
    enum Key: String, CodingKey, CaseIterable { case from, until, responder, replaces, note }

    var from: String?
    var until: String?
    var responder: String?
    var replaces: String?
    var note: String?
    var path: ConfigPath

    init(from decoder: any Decoder) throws {
        let fields = try Fields(decoder, Key.self, what: "an override")
        from = fields.required(.from, what: "an override", hint: "local time: \"2026-12-24 06:00\"")
        until = fields.required(.until, what: "an override", hint: "local time: \"2026-12-24 14:00\"")
        responder = fields.optional(.responder)
        replaces = fields.optional(.replaces)
        note = fields.optional(.note)
        path = fields.path
    }
}

/// A chain: its list of tiers, or `{ remind_every: 20m, tiers: [...] }` to give the chain its own reminder interval.
struct RawPolicy: Decodable {
    enum Key: String, CodingKey, CaseIterable {
        case tiers
        case remindEvery = "remind_every"
    }

    var tiers: [RawTier]
    var remindEvery: String?
    var path: ConfigPath

    init(from decoder: any Decoder) throws {
        if (try? decoder.unkeyedContainer()) != nil {
            tiers = try [RawTier](from: decoder)
            path = decoder.codingPath.map(ConfigPathComponent.init)
            return
        }
        let fields = try Fields(decoder, Key.self, what: "a chain")
        tiers = fields.required(.tiers, what: "a chain", hint: "its tiers in order, ending with the kpo tier") ?? []
        remindEvery = fields.optional(.remindEvery)
        path = fields.path
    }
}

struct RawTier: Decodable {
    enum Key: String, CodingKey, CaseIterable {
        case tier
        case ackWithin = "ack_within"
        case resolveWithin = "resolve_within"
        case repeatEvery = "repeat_every"
        case arriveWithin = "arrive_within"
        case remindEvery = "remind_every"
    }

    var tier: String?
    var ackWithin: String?
    var resolveWithin: String?
    var repeatEvery: String?
    var arriveWithin: String?
    var remindEvery: String?
    var path: ConfigPath

    init(from decoder: any Decoder) throws {
        let fields = try Fields(decoder, Key.self, what: "a tier")
        tier = fields.required(
            .tier,
            what: "a tier",
            hint: "the rota (or line role) this tier calls, such as team-leader or kpo"
        )
        ackWithin = fields.optional(.ackWithin)
        resolveWithin = fields.optional(.resolveWithin)
        repeatEvery = fields.optional(.repeatEvery)
        arriveWithin = fields.optional(.arriveWithin)
        remindEvery = fields.optional(.remindEvery)
        path = fields.path
    }
}

struct RawLine: Decodable {
    enum Key: String, CodingKey, CaseIterable {
        case description, rotas, categories, routes, stations, controllers, senders, notify, feedback
        case feedbackEvery = "feedback_every"
        case stopPolicy = "stop_policy"
        case keyFile = "key_file"
        case heartbeatWithin = "heartbeat_within"
    }

    var description: String?
    var rotas: [String: String]?
    var categories: [String]?
    var routes: [String: String]?
    var stations: [String]?
    var controllers: RawControllers?
    var senders: [String]?
    var keyFile: String?
    var stopPolicy: String?
    var heartbeatWithin: String?
    var notify: [RawChannelRef]?
    var feedback: [String]?
    var feedbackEvery: String?
    var path: ConfigPath

    init(from decoder: any Decoder) throws {
        let fields = try Fields(decoder, Key.self, what: "a line")
        feedback = fields.optional(.feedback)
        feedbackEvery = fields.optional(.feedbackEvery)
        description = fields.optional(.description)
        rotas = fields.optional(.rotas)
        categories = fields.optional(.categories)
        routes = fields.optional(.routes)
        stations = fields.optional(.stations)
        controllers = fields.optional(.controllers)
        senders = fields.optional(.senders)
        keyFile = fields.optional(.keyFile)
        stopPolicy = fields.optional(.stopPolicy)
        heartbeatWithin = fields.optional(.heartbeatWithin)
        notify = fields.optional(.notify)
        path = fields.path
    }
}

struct RawListen: Decodable {
    enum Key: String, CodingKey, CaseIterable {
        case udp, socket, http
        case socketMode = "socket_mode"
        case socketGroup = "socket_group"
        case udpRate = "udp_rate"
        case udpBurst = "udp_burst"
    }

    var udp: [String]?
    var socket: String?
    var http: [String]?
    var socketMode: String?
    var socketGroup: String?
    var udpRate: Int?
    var udpBurst: Int?
    var path: ConfigPath

    init(from decoder: any Decoder) throws {
        let fields = try Fields(decoder, Key.self, what: "listen")
        udp = fields.optional(.udp)
        socket = fields.optional(.socket)
        http = fields.optional(.http)
        socketMode = fields.optional(.socketMode)
        socketGroup = fields.optional(.socketGroup)
        udpRate = fields.optional(.udpRate)
        udpBurst = fields.optional(.udpBurst)
        path = fields.path
    }
}

struct RawSigning: Decodable {
    enum Key: String, CodingKey, CaseIterable { case window, overlap }

    var window: String?
    var overlap: String?
    var path: ConfigPath

    init(from decoder: any Decoder) throws {
        let fields = try Fields(decoder, Key.self, what: "signing")
        window = fields.optional(.window)
        overlap = fields.optional(.overlap)
        path = fields.path
    }
}

struct RawControllers: Decodable {
    enum Key: String, CodingKey, CaseIterable { case users, groups }

    var users: [String]?
    var groups: [String]?
    var path: ConfigPath

    init(from decoder: any Decoder) throws {
        let fields = try Fields(decoder, Key.self, what: "controllers")
        users = fields.optional(.users)
        groups = fields.optional(.groups)
        path = fields.path
    }
}
