import AndonCore
import AndonProtocol
import Foundation

/// `andonctl tail`: which of andond's journal entries to show, and how.
public struct TailFilter: Sendable, Hashable {
    /// Only calls in which this Unix user takes part: notified, acting, or handed over from.
    public var user: String?
    public var tier: String?
    /// Only entries of calls at the KPO tier.
    public var kpo = false

    public init(user: String? = nil, tier: String? = nil, kpo: Bool = false) {
        self.user = user
        self.tier = tier
        self.kpo = kpo
    }

    /// Whether an entry passes. Entries of the daemon itself (no `ANDON_EVENT`) pass only when nothing is asked of
    /// calls.
    public func admits(_ fields: [String: [String]]) -> Bool {
        let isCall = fields[.event] != nil
        if user != nil || tier != nil || kpo, !isCall { return false }
        if let user {
            let involved = [JournalField.responder, .by, .from].contains { fields[$0]?.contains(user) == true }
            if !involved { return false }
        }
        if let tier, fields.first(.tier) != tier { return false }
        if kpo, fields.first(.rota) != "kpo" { return false }
        return true
    }
}

public enum TailFormatter {
    /// One readable line: time, incident, where, event, tier, who, then andond's own sentence.
    /// `15:23:35  #1  L1/S3  handed-over  team-leader  anna  Quality andon on L1/S3 handed over ...`
    public static func line(
        _ fields: [String: [String]],
        realtimeMicroseconds: UInt64,
        timeZone: TimeZone = .current,
        color: Bool
    ) -> String {
        let date = Date(timeIntervalSince1970: Double(realtimeMicroseconds) / 1_000_000)
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        let time = String(
            format: "%04d-%02d-%02d %02d:%02d:%02d",
            parts.year ?? 0,
            parts.month ?? 0,
            parts.day ?? 0,
            parts.hour ?? 0,
            parts.minute ?? 0,
            parts.second ?? 0
        )
        let first = { (field: JournalField) in fields.first(field) }
        var columns = [time]
        if let event = first(.event) {
            let place = (first(.line) ?? "-") + (first(.station).map { "/\($0)" } ?? "")
            let who = Self.who(event: event, fields)
            // A shelf's or a station's entry is no call's: it names its shelf, or nothing.
            let call = first(.incident).map { "#" + $0 } ?? first(.shelf).map { "shelf " + $0 } ?? "-"
            columns += [call, place, event, first(.tier) ?? "-", who.isEmpty ? "-" : who]
        } else if let incident = first(.incident), let kind = Self.notificationKind(first(.messageID)) {
            // A notification of a call: shown as a step of it, with the channel and whom it was for.
            let place = (first(.line) ?? "-") + (first(.station).map { "/\($0)" } ?? "")
            columns += ["#" + incident, place, kind, first(.channel) ?? "-", first(.recipient) ?? "-"]
        } else {
            columns.append("andond")
        }
        columns.append(first(.message) ?? "")
        // Anyone may write to the journal: whatever an entry holds is shown, never obeyed.
        let text = columns.joined(separator: "  ").escapingControlCharacters
        guard color, let priority = first(.priority).flatMap(Int.init) else { return text }
        return colored(text, priority: priority)
    }

    /// `notified`, `notify-failed` or `nobody-reached`, for those entries' MESSAGE_IDs.
    static func notificationKind(_ messageID: String?) -> String? {
        switch messageID {
        case MessageID.notified: "notified"
        case MessageID.notifyFailed: "notify-failed"
        case MessageID.nobodyReached: "nobody-reached"
        default: nil
        }
    }

    /// Who the entry is about: who acted for an answer (acknowledged, arrived, resolved, escalated by hand), else who
    /// was called (a reminder names the owner reminded, not the one who acknowledged it before).
    static func who(event: String, _ fields: [String: [String]]) -> String {
        // An automatic escalation has no ANDON_BY; one by hand has, and is the actor's.
        let acted: Set<String> = [
            Event.Kind.acknowledged.rawValue, Event.Kind.arrived.rawValue, Event.Kind.resolved.rawValue,
            Event.Kind.escalated.rawValue,
        ]
        let by = fields.first(.by)
        if let by, acted.contains(event) { return by }
        let called = (fields[.responder] ?? []).joined(separator: ",")
        return called.isEmpty ? (by ?? "") : called
    }

    /// ANSI colors by syslog priority: alert and crit bold red, err red, warning yellow, notice bold, info plain.
    static func colored(_ text: String, priority: Int) -> String {
        let code: String? =
            switch priority {
            case ...2: "1;31"
            case 3: "31"
            case 4: "33"
            case 5: "1"
            default: nil
            }
        return code.map { "\u{1B}[\($0)m\(text)\u{1B}[0m" } ?? text
    }

    /// One JSON object of the entry's fields, keys sorted: a field given once is a string, one given more often a
    /// list of strings (as `journalctl -o json` writes them), and `__REALTIME_TIMESTAMP` the receive time.
    public static func json(_ fields: [String: [String]], realtimeMicroseconds: UInt64) -> String {
        var all = fields
        all["__REALTIME_TIMESTAMP"] = [String(realtimeMicroseconds)]
        var writer = JSONWriter(reservingCapacity: 1024)
        writer.object { writer in
            for (name, values) in all.sorted(by: { $0.key < $1.key }) {
                if values.count == 1 { writer.field(name, values[0]) } else { writer.field(name, values) }
            }
        }
        return writer.text
    }
}
