import AndonCore
import Foundation
import Yams

/// A loaded, validated configuration.
public struct Configuration: Sendable {
    /// Where it was read from, as given.
    public var file: String
    public var plant: Plant
    /// Where the daemon listens (command-line flags override it).
    public var listen: ListenSettings
    /// Warnings found while loading (a configuration with errors does not load).
    public var warnings: [Diagnostic]
    /// The text it was read from: the durable state records it, so a restore or a replay runs under exactly the
    /// configuration that was in force.
    public var text: String = ""
    /// Per line, who may send over UDP (lines with neither `senders:` nor `key_file:` are not here).
    public var security: [LineID: LineSecurity] = [:]
    public var signing = SigningSettings()
    /// The lines' keys, once `loadKeys()` read them.
    public var keys: [LineID: SigningKey] = [:]
    /// `channels:` with everything andon-notify sends with.
    public var channels: [ChannelID: ChannelSettings] = [:]
    public var notify = NotifySettings()
    /// The acknowledge links' key, once `loadKeys()` read it.
    public var ackKey: SigningKey?
    /// Where and how often the lines hear what became of their calls.
    public var feedback = FeedbackSettings()
}

/// What a KPO gap within `ConfigurationLoader.coverageWindow` does to a load.
public enum KPOGapCheck: Sendable {
    /// An error: the configuration does not load (`check-config`, `reload`: a person can mend it now).
    case refuse
    /// Not checked here: the caller reports it (andond at start and restore, where refusing would leave the open
    /// calls on disk unfollowed; replays and `who`, which read what was in force).
    case leaveToCaller
}

/// Reads the YAML configuration into a validated `Plant`, reporting every problem at once as
/// `file:line:column: severity: message` with a hint.
public enum ConfigurationLoader {
    /// How far ahead rota coverage is checked: KPO gaps in this window are errors, other gaps warnings.
    public static let coverageWindow: Duration = .seconds(14 * 86_400)

    /// Reads and validates the file at `path`. `now` anchors the coverage check.
    public static func load(
        path: String,
        now: Instant,
        kpoGaps: KPOGapCheck = .refuse
    ) throws(ConfigurationError) -> Configuration {
        try load(path: path, now: { _ in now }, kpoGaps: kpoGaps)
    }

    /// As `load(path:now:)`, with the coverage check's start resolved in the site's time zone once it is known
    /// (for a local time given by a person).
    public static func load(
        path: String,
        now: (SiteTimeZone) -> Instant,
        kpoGaps: KPOGapCheck = .refuse
    ) throws(ConfigurationError) -> Configuration {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            // Say it as the shell would ("No such file or directory", "Permission denied") when that is the cause.
            let reason =
                access(path, R_OK) != 0 ? String(cString: strerror(errno)) : (error as NSError).localizedDescription
            throw ConfigurationError(diagnostics: [
                Diagnostic(
                    severity: .error,
                    file: path,
                    line: 1,
                    column: 1,
                    message: "cannot read the configuration: \(reason)",
                    hint: "check the path and that the file is readable by this user (UTF-8 text)"
                )
            ])
        }
        return try parse(text, file: path, now: now, kpoGaps: kpoGaps)
    }

    /// Validates configuration text; `file` names it in diagnostics.
    public static func parse(
        _ text: String,
        file: String,
        now: Instant,
        kpoGaps: KPOGapCheck = .refuse
    ) throws(ConfigurationError) -> Configuration {
        try parse(text, file: file, now: { _ in now }, kpoGaps: kpoGaps)
    }

    /// As `parse(_:file:now:)`, with the coverage check's start resolved in the site's time zone.
    public static func parse(
        _ text: String,
        file: String,
        now: (SiteTimeZone) -> Instant,
        kpoGaps: KPOGapCheck = .refuse
    ) throws(ConfigurationError)
        -> Configuration
    {
        let root: Node
        do {
            guard let node = try Yams.compose(yaml: text) else {
                throw ConfigurationError(diagnostics: [
                    Diagnostic(
                        severity: .error,
                        file: file,
                        line: 1,
                        column: 1,
                        message: "the configuration is empty",
                        hint: "start from the example in etc/andond/andond.yaml"
                    )
                ])
            }
            root = node
        } catch let error as ConfigurationError {
            throw error
        } catch {
            throw ConfigurationError(diagnostics: [yamlDiagnostic(error, text: text, file: file)])
        }

        let sink = DiagnosticSink()
        let map = SourceMap(root: root)
        var plant: Plant?
        var listen = ListenSettings()
        var security: [LineID: LineSecurity] = [:]
        var signing = SigningSettings()
        var channels: [ChannelID: ChannelSettings] = [:]
        var notify = NotifySettings()
        var feedback = FeedbackSettings()
        do {
            let raw = try YAMLDecoder().decode(
                RawConfiguration.self,
                from: root,
                userInfo: [DiagnosticSink.userInfoKey: sink]
            )
            var builder = PlantBuilder(raw: raw, sink: sink, kpoGaps: kpoGaps)
            plant = builder.build(resolveNow: now)
            channels = builder.channelSettings
            notify = builder.notifySettings()
            if let rawNotify = raw.notify, let path = rawNotify.ackKeyFile {
                let (row, column) = map.position(of: rawNotify.path + ["ack_key_file"])
                notify.ackKeyFile = KeyFile(path: path, file: file, line: row, column: column)
            }
            listen = ListenSettings(raw: raw.listen, sink: sink)
            (security, signing) = Self.security(raw, builder: builder, map: map, file: file, sink: sink)
            Self.warnAboutOpenLines(raw, listen: listen, security: security, sink: sink)
            feedback = Self.feedback(raw, builder: builder, sink: sink)
        } catch let error as DecodingError {
            let path: ConfigPath
            let message: String
            switch error {
            case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
                path = context.codingPath.map(ConfigPathComponent.init)
                message = "the configuration must be a mapping of keys such as site, shifts, rotas, policies and lines"
            case .keyNotFound(_, let context):
                path = context.codingPath.map(ConfigPathComponent.init)
                message = "\(error)"
            @unknown default:
                path = []
                message = "\(error)"
            }
            sink.error(path, message)
        } catch {
            sink.error([], "\(error)")
        }

        let diagnostics = sink.entries.map { entry in
            let (line, column) = map.position(of: entry.path, key: entry.pointsAtKey)
            return Diagnostic(
                severity: entry.severity,
                file: file,
                line: line,
                column: column,
                message: entry.message,
                hint: entry.hint
            )
        }
        .sorted { ($0.line, $0.column, $0.message) < ($1.line, $1.column, $1.message) }

        guard let plant, !diagnostics.contains(where: { $0.severity == .error }) else {
            throw ConfigurationError(diagnostics: diagnostics)
        }
        return Configuration(
            file: file,
            plant: plant,
            listen: listen,
            warnings: diagnostics,
            text: text,
            security: security,
            signing: signing,
            channels: channels,
            notify: notify,
            feedback: feedback
        )
    }

    /// Each line's `senders:` and `key_file:`, and the `signing:` settings.
    private static func security(
        _ raw: RawConfiguration,
        builder: PlantBuilder,
        map: SourceMap,
        file: String,
        sink: DiagnosticSink
    ) -> ([LineID: LineSecurity], SigningSettings) {
        var signing = SigningSettings()
        if let raw = raw.signing {
            if let window = builder.duration(raw.window, at: raw.path + ["window"]) { signing.window = window }
            if let overlap = builder.duration(raw.overlap, at: raw.path + ["overlap"]) { signing.overlap = overlap }
        }
        var security: [LineID: LineSecurity] = [:]
        for (name, line) in raw.lines ?? [:] where line.senders != nil || line.keyFile != nil {
            var entry = LineSecurity()
            if let senders = line.senders {
                entry.senders = senders.enumerated().compactMap { index, text in
                    guard let range = AddressRange(text) else {
                        sink.error(
                            line.path + ["senders", .index(index)],
                            "'\(text)' is not an IP address or a CIDR range",
                            hint: "such as 10.1.0.0/24, 192.168.1.5 or fd00::/8"
                        )
                        return nil
                    }
                    return range
                }
                if senders.isEmpty {
                    sink.warning(
                        line.path + ["senders"],
                        "senders is empty: no UDP source may send for line \(name)",
                        hint: "list the controllers' addresses, or remove senders: to accept any"
                    )
                }
            }
            if let path = line.keyFile {
                if !path.hasPrefix("/") && !path.hasPrefix("%d/") {
                    sink.error(
                        line.path + ["key_file"],
                        "the key file must be an absolute path, or %d/NAME for a systemd credential",
                        hint: "such as /etc/andond/keys/\(name).key, or %d/\(name).key with LoadCredential="
                    )
                } else {
                    let (row, column) = map.position(of: line.path + ["key_file"])
                    entry.keyFile = KeyFile(path: path, file: file, line: row, column: column)
                }
            }
            security[LineID(rawValue: name)] = entry
        }
        return (security, signing)
    }

    private static func yamlDiagnostic(_ error: any Error, text: String, file: String) -> Diagnostic {
        var line = 1
        var column = 1
        var message = "not valid YAML: \(error)"
        if let error = error as? YamlError {
            switch error {
            case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
                .composer(let context, let problem, let mark, _):
                (line, column) = (mark.line, mark.column)
                message = "not valid YAML: \(problem)" + (context.map { " (\($0.text))" } ?? "")
            case .duplicatedKeysInMapping(let duplicates, let context):
                (line, column) = secondOccurrence(of: duplicates.first ?? "", after: context.mark, in: text)
                message =
                    "duplicate key\(duplicates.count == 1 ? "" : "s") \(duplicates.map { "'\($0)'" }.joined(separator: ", ")) in one mapping"
            case .reader(let problem, _, _, _):
                message = "not valid YAML: \(problem)"
            default:
                break
            }
        }
        return Diagnostic(
            severity: .error,
            file: file,
            line: line,
            column: column,
            message: message,
            hint: "quote values that contain ':' or '#', indent with spaces, and write each key once per mapping"
        )
    }

    /// Yams marks the first of two duplicate keys; the second is the one to point at. Found by the key at the same
    /// column on a later line (the usual block style); the first one's position otherwise.
    ///
    /// Lines are YAML's (`\n`, `\r\n`, a lone `\r`, NEL, LS, PS), so that the mark's line is found in them: a file
    /// with `\r` line ends once crashed the loader here (found by the `config` fuzz target).
    private static func secondOccurrence(of key: String, after mark: Mark, in text: String) -> (Int, Int) {
        let lines = yamlLines(text)
        guard mark.line >= 1, mark.column >= 1 else { return (max(1, mark.line), max(1, mark.column)) }
        for index in min(mark.line, lines.count)..<lines.count {
            let line = lines[index]
            guard line.count >= mark.column else { continue }
            let rest = String(String.UnicodeScalarView(line.dropFirst(mark.column - 1)))
            if rest.hasPrefix(key + ":") || rest.hasPrefix("\"\(key)\":") || rest.hasPrefix("'\(key)':") {
                return (index + 1, mark.column)
            }
        }
        return (mark.line, mark.column)
    }

    /// The text's lines as YAML counts them.
    static func yamlLines(_ text: String) -> [String.UnicodeScalarView] {
        var lines: [String.UnicodeScalarView] = [String.UnicodeScalarView()]
        var afterCarriageReturn = false
        for scalar in text.unicodeScalars {
            defer { afterCarriageReturn = scalar == "\r" }
            switch scalar {
            case "\n" where afterCarriageReturn: continue
            case "\n", "\r", "\u{85}", "\u{2028}", "\u{2029}": lines.append(String.UnicodeScalarView())
            default: lines[lines.count - 1].append(scalar)
            }
        }
        return lines
    }
}

/// Where andond listens: UDP addresses for controllers and the UNIX stream socket for controllers and andonctl.
public struct ListenSettings: Sendable, Hashable {
    public static let defaultSocket = "/run/andond.sock"
    public static let defaultPort = 4950

    /// `HOST:PORT` (IPv6 as `[::1]:4950`).
    public var udp: [String] = []
    public var socket: String = defaultSocket
    /// `HOST:PORT` addresses of the web board, events, metrics and acknowledge links (none by default: under
    /// systemd, andond-http.socket passes its socket in instead).
    public var http: [String] = []
    /// File mode of the socket when andond binds it itself (socket activation sets its own).
    public var socketMode: UInt16 = 0o660
    /// Group of the socket when andond binds it itself: responders and controllers in it may connect.
    public var socketGroup: String?
    /// Each UDP source address's budget: datagrams a second on average, and at once. Over it, datagrams are dropped
    /// unread and without a reply (a safety andon or a line stop from a listed sender excepted).
    public var udpRate: Double = 200
    public var udpBurst: Double = 400

    public init() {}

    init(raw: RawListen?, sink: DiagnosticSink) {
        guard let raw else { return }
        func addresses(_ list: [String]?, _ key: String, example: String) -> [String] {
            for (index, address) in (list ?? []).enumerated() where Self.splitHostPort(address) == nil {
                sink.error(
                    raw.path + [.key(key), .index(index)],
                    "'\(address)' is not HOST:PORT",
                    hint: "such as \(example)"
                )
            }
            return list ?? []
        }
        udp = addresses(raw.udp, "udp", example: "127.0.0.1:4950, 0.0.0.0:4950 or [::]:4950")
        http = addresses(raw.http, "http", example: "127.0.0.1:8095 or [::]:8095")
        if let socket = raw.socket {
            if socket.hasPrefix("/") {
                self.socket = socket
            } else {
                sink.error(raw.path + ["socket"], "the socket path must be absolute", hint: "such as /run/andond.sock")
            }
        }
        if let mode = raw.socketMode {
            if let value = UInt16(mode, radix: 8), value <= 0o777 {
                socketMode = value
            } else {
                sink.error(raw.path + ["socket_mode"], "'\(mode)' is not an octal file mode", hint: "such as \"0660\"")
            }
        }
        socketGroup = raw.socketGroup
        if let group = raw.socketGroup, getgrnam(group) == nil {
            sink.warning(
                raw.path + ["socket_group"],
                "group '\(group)' does not exist on this machine: andond, binding the socket itself, would leave it "
                    + "with its own group, so that only its owner and root could connect",
                hint: "create it (systemd-sysusers creates andon from andond.sysusers), or name another group; "
                    + "under andond.socket, SocketGroup= applies instead"
            )
        }
        if let rate = raw.udpRate {
            if rate > 0 {
                udpRate = Double(rate)
            } else {
                sink.error(
                    raw.path + ["udp_rate"],
                    "udp_rate must be at least 1",
                    hint: "datagrams a second per source, such as 200"
                )
            }
        }
        if let burst = raw.udpBurst {
            if burst > 0 {
                udpBurst = Double(burst)
            } else {
                sink.error(raw.path + ["udp_burst"], "udp_burst must be at least 1", hint: "such as 400")
            }
        }
    }

    /// Whether a `HOST:PORT` is on the loopback interface (127.0.0.0/8, ::1, localhost): reachable from this machine
    /// only. A malformed one counts as loopback (it is an error of its own).
    public static func isLoopback(_ address: String) -> Bool {
        guard let (host, _) = splitHostPort(address) else { return true }
        if host == "localhost" || host == "::1" { return true }
        // A host name other than localhost may resolve anywhere: not loopback.
        guard let bytes = AddressRange.bytes(of: host) else { return false }
        return bytes.count == 4 ? bytes[0] == 127 : bytes == [UInt8](repeating: 0, count: 15) + [1]
    }

    /// Splits `HOST:PORT` / `[V6]:PORT`; nil when malformed.
    public static func splitHostPort(_ text: String) -> (host: String, port: Int)? {
        let host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else {
                return nil
            }
            host = text[text.index(after: text.startIndex)..<close]
            portText = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":") else { return nil }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
        }
        guard !host.isEmpty, let port = Int(portText), (0...65535).contains(port) else { return nil }
        return (String(host), port)
    }
}
