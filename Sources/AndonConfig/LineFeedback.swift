import AndonCore

/// Where andond tells a line's stations what became of their calls (`state` messages, docs/protocol.md): the line's
/// `feedback:` addresses, or else the address its controller last sent from; and how often the open calls are
/// repeated so that a controller that rebooted relearns its lights.
public struct FeedbackSettings: Sendable, Hashable {
    public static let defaultEvery: Duration = .seconds(30)
    /// The shortest and longest `feedback_every` taken.
    public static let everyRange: ClosedRange<Duration> = .seconds(1)...(.seconds(3600))

    /// Plant-wide `feedback_every`.
    public var every: Duration = defaultEvery
    /// Per line: its `feedback:` addresses (`HOST:PORT`, numeric) and its own `feedback_every`.
    public var lines: [LineID: LineFeedback] = [:]

    public init() {}

    /// How often `line`'s open calls are repeated.
    public func every(for line: LineID) -> Duration { lines[line]?.every ?? every }

    /// `line`'s `feedback:` addresses; empty: the address its controller last sent from.
    public func addresses(of line: LineID) -> [String] { lines[line]?.addresses ?? [] }
}

public struct LineFeedback: Sendable, Hashable {
    public var addresses: [String] = []
    public var every: Duration?

    public init(addresses: [String] = [], every: Duration? = nil) {
        self.addresses = addresses
        self.every = every
    }
}

extension ConfigurationLoader {
    /// `feedback_every` (plant-wide and per line) and each line's `feedback:` addresses.
    static func feedback(_ raw: RawConfiguration, builder: PlantBuilder, sink: DiagnosticSink) -> FeedbackSettings {
        func every(_ text: String?, at path: ConfigPath) -> Duration? {
            guard let duration = builder.duration(text, at: path) else { return nil }
            guard FeedbackSettings.everyRange.contains(duration) else {
                sink.error(
                    path,
                    "feedback_every must be from 1s to 1h",
                    hint: "how often a line's open calls are sent again, such as 30s"
                )
                return nil
            }
            return duration
        }
        var settings = FeedbackSettings()
        if let plantWide = every(raw.feedbackEvery, at: raw.path + ["feedback_every"]) { settings.every = plantWide }
        for (name, line) in raw.lines ?? [:] where line.feedback != nil || line.feedbackEvery != nil {
            var entry = LineFeedback()
            entry.every = every(line.feedbackEvery, at: line.path + ["feedback_every"])
            for (index, address) in (line.feedback ?? []).enumerated() {
                guard let (host, port) = ListenSettings.splitHostPort(address), port > 0,
                    AddressRange.bytes(of: host) != nil
                else {
                    sink.error(
                        line.path + ["feedback", .index(index)],
                        "'\(address)' is not an IP address and port",
                        hint: "the station's controller, such as 10.1.0.5:4951 or [fd00::5]:4951 (no host names)"
                    )
                    continue
                }
                entry.addresses.append(address)
            }
            settings.lines[LineID(rawValue: name)] = entry
        }
        return settings
    }
}
