import AndonCore

/// What andond tells a line's controller about its calls (docs/protocol.md, "Feedback to the line"): one `state`
/// message per call that changed, or per open call when the line's lights are repeated, and a summary of the line's
/// open calls after a repeat or a `state?` answer, so that a light whose call ended unheard goes dark.
public enum FeedbackMessage {
    public static let verb = "state"

    /// One call: `state line=L1 station=S3 incident=7 kind=andon category=quality state=acknowledged
    /// event=acknowledged tier=team-leader tier_number=1/3 by=felix age=42 ts=...` (signed when `key` is given).
    public static func call(_ state: CallState, at now: Instant, key: [UInt8]? = nil) -> String {
        var fields: [(key: String, value: String)] = [("line", state.line.rawValue)]
        if let station = state.station { fields.append(("station", station.rawValue)) }
        fields.append(("incident", state.incident.description))
        fields.append(("kind", state.kind.rawValue))
        if let category = state.category { fields.append(("category", category.rawValue)) }
        fields.append(("state", state.progress.rawValue))
        if let event = state.event { fields.append(("event", event.rawValue)) }
        if !state.tier.isEmpty {
            fields.append(("tier", state.tier))
            fields.append(("tier_number", "\(state.tierNumber)/\(state.tiers)"))
        }
        if let by = state.by { fields.append(("by", by)) }
        fields.append(("age", String(max(0, now.duration(since: state.raisedAt).milliseconds / 1000))))
        if state.drill { fields.append(("drill", "1")) }
        if state.shelved { fields.append(("shelved", "1")) }
        return finish(fields, at: now, key: key)
    }

    /// A line's open calls: `state line=L1 calls=2 incidents=7,9 ts=...` (`incidents=-` when none). `calls` counts
    /// them all; `incidents` may list fewer (the oldest), when a line has more than a message holds.
    public static func summary(
        line: LineID,
        calls: Int,
        incidents: [IncidentID],
        at now: Instant,
        key: [UInt8]? = nil
    ) -> String {
        finish(
            [
                ("line", line.rawValue), ("calls", String(calls)),
                ("incidents", incidents.isEmpty ? "-" : incidents.map(\.description).joined(separator: ",")),
            ],
            at: now,
            key: key
        )
    }

    private static func finish(_ fields: [(key: String, value: String)], at now: Instant, key: [UInt8]?) -> String {
        let seconds = now.millisecondsSinceEpoch / 1000
        let text = WireMessage(verb: verb, fields: fields + [("ts", String(seconds))]).rendered
        guard let key else { return text }
        return MessageSigning.sign(text, key: key, at: seconds)
    }
}
