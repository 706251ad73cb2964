import AndonCore

/// How a channel's body is shaped: what its receiver takes.
public enum ChannelFormat: String, Sendable, Hashable, CaseIterable {
    /// The Alertmanager webhook v4 body: every Alertmanager receiver (SMS gateways, Teams bridges, ...) takes it.
    case alertmanager
    /// An ntfy publish (JSON to the server's root): title, priority, tags and an acknowledge button.
    case ntfy
    /// `{"text": ...}`: Slack, Mattermost and Rocket.Chat incoming webhooks, Teams workflows.
    case slack
    /// The summary as plain text.
    case plain
}

/// A header's value: written in the configuration, or read from a file (a secret) by andon-notify at start.
public enum HeaderValue: Sendable, Hashable {
    case text(String)
    case file(String)
}

/// One outbound webhook from `channels:`. andond needs only its name and `giveUpAfter`; andon-notify sends with
/// the rest.
public struct ChannelSettings: Sendable, Hashable {
    public var id: ChannelID
    /// The URL, a template: `{{topic}}` and the other parameters of a responder's reference are substituted
    /// (percent-encoded).
    public var url: String
    public var format: ChannelFormat
    public var headers: [(name: String, value: HeaderValue)]
    public var timeout: Duration
    /// A key file: the body's HMAC-SHA256 goes in `X-Andon-Signature` (hex).
    public var signingKeyFile: String?
    public var giveUpAfter: Duration
    /// A Mustache template file that replaces the format's default body.
    public var templateFile: String?

    public static let defaultTimeout = Duration.seconds(10)

    public init(
        id: ChannelID,
        url: String,
        format: ChannelFormat,
        headers: [(name: String, value: HeaderValue)] = [],
        timeout: Duration = Self.defaultTimeout,
        signingKeyFile: String? = nil,
        giveUpAfter: Duration = ChannelPolicy.defaultGiveUpAfter,
        templateFile: String? = nil
    ) {
        self.id = id
        self.url = url
        self.format = format
        self.headers = headers
        self.timeout = timeout
        self.signingKeyFile = signingKeyFile
        self.giveUpAfter = giveUpAfter
        self.templateFile = templateFile
    }

    public static func == (lhs: ChannelSettings, rhs: ChannelSettings) -> Bool {
        lhs.id == rhs.id && lhs.url == rhs.url && lhs.format == rhs.format
            && lhs.headers.map(\.name) == rhs.headers.map(\.name)
            && lhs.headers.map(\.value) == rhs.headers.map(\.value)
            && lhs.timeout == rhs.timeout && lhs.signingKeyFile == rhs.signingKeyFile
            && lhs.giveUpAfter == rhs.giveUpAfter && lhs.templateFile == rhs.templateFile
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(id)
        hasher.combine(url)
    }
}

/// `notify:` settings for the acknowledge link and the notifier.
public struct NotifySettings: Sendable, Hashable {
    /// The Unix user andon-notify runs as: it may claim and report deliveries on the UNIX socket.
    public var user = "andon-notify"
    /// The acknowledge link's base (`https://andon.plant.example/ack/`): the token is appended. None: no link.
    public var ackURL: String?
    /// The key that signs acknowledge tokens: andond reads it (`loadKeys()`), issues tokens and checks them.
    public var ackKeyFile: KeyFile?
    /// How long an acknowledge token is good for.
    public var ackValidFor: Duration = .seconds(12 * 3600)

    public init() {}
}

struct RawChannel: Decodable {
    enum Key: String, CodingKey, CaseIterable {
        case url, format, headers, timeout, template
        case signingKeyFile = "signing_key_file"
        case giveUpAfter = "give_up_after"
    }

    var url: String?
    var format: String?
    var headers: [String: RawHeaderValue]?
    var timeout: String?
    var template: String?
    var signingKeyFile: String?
    var giveUpAfter: String?
    var path: ConfigPath

    init(from decoder: any Decoder) throws {
        let fields = try Fields(decoder, Key.self, what: "a channel")
        url = fields.required(.url, what: "a channel", hint: "such as url: https://ntfy.example/andon-{{topic}}")
        format = fields.optional(.format)
        headers = fields.optional(.headers)
        timeout = fields.optional(.timeout)
        template = fields.optional(.template)
        signingKeyFile = fields.optional(.signingKeyFile)
        giveUpAfter = fields.optional(.giveUpAfter)
        path = fields.path
    }
}

/// A header's value: text, or `{ file: PATH }`.
struct RawHeaderValue: Decodable {
    var value: HeaderValue?

    init(from decoder: any Decoder) throws {
        if let text = try? decoder.singleValueContainer().decode(String.self) {
            value = .text(text)
            return
        }
        let container = try decoder.container(keyedBy: AnyCodingKey.self)
        value = try container.decodeIfPresent(String.self, forKey: AnyCodingKey(stringValue: "file")).map(
            HeaderValue.file
        )
    }
}

/// One entry of a `notify:` list: a channel's name, or `{ channel: NAME, PARAMETER: VALUE, ... }`.
struct RawChannelRef: Decodable {
    var channel: String?
    var parameters: [String: String] = [:]
    var path: ConfigPath

    init(from decoder: any Decoder) throws {
        path = decoder.codingPath.map(ConfigPathComponent.init)
        if let name = try? decoder.singleValueContainer().decode(String.self) {
            channel = name
            return
        }
        let map = try decoder.singleValueContainer().decode([String: String].self)
        channel = map["channel"]
        parameters = map.filter { $0.key != "channel" }
    }
}

struct RawNotify: Decodable {
    enum Key: String, CodingKey, CaseIterable {
        case user
        case ackURL = "ack_url"
        case ackKeyFile = "ack_key_file"
        case ackValidFor = "ack_valid_for"
    }

    var user: String?
    var ackURL: String?
    var ackKeyFile: String?
    var ackValidFor: String?
    var path: ConfigPath

    init(from decoder: any Decoder) throws {
        let fields = try Fields(decoder, Key.self, what: "notify")
        user = fields.optional(.user)
        ackURL = fields.optional(.ackURL)
        ackKeyFile = fields.optional(.ackKeyFile)
        ackValidFor = fields.optional(.ackValidFor)
        path = fields.path
    }
}

extension PlantBuilder {
    /// `channels:`, each checked; what andond keeps of them goes into the plant.
    mutating func buildChannels() -> [ChannelID: ChannelSettings] {
        var settings: [ChannelID: ChannelSettings] = [:]
        for (key, raw) in (raw.channels ?? [:]).sorted(by: { $0.key < $1.key }) {
            guard let id = name(key, ChannelID.self, at: raw.path, what: "channel") else { continue }
            var format = ChannelFormat.plain
            if let text = raw.format {
                if let known = ChannelFormat(rawValue: text) {
                    format = known
                } else {
                    sink.error(
                        raw.path + ["format"],
                        "unknown format '\(text)'",
                        hint: "one of \(ChannelFormat.allCases.map(\.rawValue).joined(separator: ", "))"
                    )
                }
            }
            if let url = raw.url, !(url.hasPrefix("http://") || url.hasPrefix("https://")) {
                sink.error(raw.path + ["url"], "a channel's url must start with http:// or https://")
            }
            var headers: [(String, HeaderValue)] = []
            for (name, value) in (raw.headers ?? [:]).sorted(by: { $0.key < $1.key }) {
                let valid = !name.isEmpty && name.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: ":") }
                guard valid, let value = value.value else {
                    sink.error(
                        raw.path + ["headers", .key(name)],
                        "a header needs a name of printable characters and a value, or { file: PATH } for a secret"
                    )
                    continue
                }
                if case .file(let path) = value, !path.hasPrefix("/") && !path.hasPrefix("%d/") {
                    sink.error(raw.path + ["headers", .key(name)], "a header's file must be an absolute path")
                }
                headers.append((name, value))
            }
            let timeout = duration(raw.timeout, at: raw.path + ["timeout"]) ?? ChannelSettings.defaultTimeout
            let giveUpAfter =
                duration(raw.giveUpAfter, at: raw.path + ["give_up_after"]) ?? ChannelPolicy.defaultGiveUpAfter
            for (file, key) in [(raw.signingKeyFile, "signing_key_file"), (raw.template, "template")] {
                if let file, !file.hasPrefix("/") && !file.hasPrefix("%d/") {
                    sink.error(raw.path + [.key(key)], "\(key) must be an absolute path")
                }
            }
            settings[id] = ChannelSettings(
                id: id,
                url: raw.url ?? "",
                format: format,
                headers: headers.map { (name: $0.0, value: $0.1) },
                timeout: timeout,
                signingKeyFile: raw.signingKeyFile,
                giveUpAfter: giveUpAfter,
                templateFile: raw.template
            )
        }
        channels = settings.mapValues { ChannelPolicy(giveUpAfter: $0.giveUpAfter) }
        return settings
    }

    /// The `notify:` section.
    func notifySettings() -> NotifySettings {
        var settings = NotifySettings()
        guard let raw = raw.notify else { return settings }
        if let user = raw.user {
            if let problem = SafeName.problem(with: user) {
                sink.error(raw.path + ["user"], "user name '\(user)' \(problem)")
            } else {
                settings.user = user
            }
        }
        if let url = raw.ackURL {
            if !(url.hasPrefix("http://") || url.hasPrefix("https://")) {
                sink.error(raw.path + ["ack_url"], "ack_url must start with http:// or https://")
            }
            settings.ackURL = url
        }
        if let file = raw.ackKeyFile, !file.hasPrefix("/") && !file.hasPrefix("%d/") {
            sink.error(raw.path + ["ack_key_file"], "ack_key_file must be an absolute path, or %d/NAME")
        }
        if settings.ackURL != nil && raw.ackKeyFile == nil {
            sink.error(
                raw.path + ["ack_url"],
                "an acknowledge link needs ack_key_file: (the key its tokens are signed with)"
            )
        }
        if let valid = duration(raw.ackValidFor, at: raw.path + ["ack_valid_for"]) {
            if valid > .seconds(7 * 86_400) || valid <= .zero {
                sink.error(
                    raw.path + ["ack_valid_for"],
                    "ack_valid_for must be more than 0 and at most 7d (a used link is remembered for 7 days)"
                )
            }
            settings.ackValidFor = valid
        }
        return settings
    }

    /// A `notify:` list: each reference names a known channel (else an error with its position).
    func channelRefs(_ raw: [RawChannelRef]?) -> [ChannelRef] {
        (raw ?? []).compactMap { ref in
            guard let name = ref.channel else {
                sink.error(ref.path, "a notify entry needs 'channel:'", hint: "such as { channel: phone, topic: ben }")
                return nil
            }
            let id = ChannelID(rawValue: name)
            guard channels[id] != nil else {
                let known = (self.raw.channels ?? [:]).keys.sorted()
                sink.error(
                    ref.path,
                    "unknown channel '\(name)'",
                    hint: hint(name, among: known, kind: "channels")
                )
                return nil
            }
            return ChannelRef(channel: id, parameters: ref.parameters)
        }
    }

    /// A responder who will be on duty within the coverage window and has no channel is told of a call only by the
    /// journal: a warning, for each.
    func checkUnreachableResponders(calendar: ShiftCalendar) {
        guard timeZoneIsValid, raw.shifts?.count == shifts.count else { return }
        let end = now + ConfigurationLoader.coverageWindow
        var onDuty = Set<ResponderID>()
        for rota in rotas.values where !brokenRotas.contains(rota.id) {
            for point in rota.changePoints(from: now, to: end, calendar: calendar) {
                onDuty.formUnion(rota.duty(at: point, calendar: calendar).responders)
            }
        }
        // A plant with no channels has notifications off altogether: nothing to warn about per responder.
        guard !channels.isEmpty else { return }
        for id in onDuty.sorted() where responders[id]?.notify.isEmpty ?? false {
            sink.warning(
                raw.path + ["responders", .key(id.rawValue)],
                key: true,
                "responder '\(id)' is on duty in the next 14 days and has no notify: channel; only the journal and "
                    + "andonctl tell them of a call",
                hint: "add notify: [CHANNEL] (channels: defines them)"
            )
        }
    }
}
