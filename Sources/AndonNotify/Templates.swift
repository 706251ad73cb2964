import AndonConfig
import AndonCore
import AndonProtocol
import Foundation
import Mustache

/// JSON string content: what a `{{value}}` in a JSON template becomes (quotes, backslashes and control characters
/// escaped), so that no text a sender gives can break a body or add a field.
struct JSONContentType: MustacheContentType {
    func escapeText(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20 || scalar.value == 0x2028 || scalar.value == 0x2029:
                out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}

/// A URL's parameter: percent-encoded, so that a topic or a name cannot change the URL's shape.
struct URLComponentContentType: MustacheContentType {
    func escapeText(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~")))
            ?? ""
    }
}

/// The bodies andon-notify sends, one default per format (a channel's `template:` file replaces it). Rendered with
/// swift-mustache; JSON templates escape every value as JSON text.
public enum NotificationTemplates {
    static let registered: Void = {
        MustacheContentTypes.register(JSONContentType(), named: "JSON")
        MustacheContentTypes.register(URLComponentContentType(), named: "URL")
    }()

    public static func defaultTemplate(for format: ChannelFormat) -> String {
        switch format {
        case .alertmanager:
            """
            {{% CONTENT_TYPE: JSON}}{"version":"4","groupKey":"andond/{{site}}/{{incident}}","truncatedAlerts":0,\
            "status":"{{status}}","receiver":"{{channel}}","groupLabels":{"incident":"{{incident}}"},\
            "commonLabels":{"alertname":"andon","site":"{{site}}","line":"{{line}}"},"commonAnnotations":{},\
            "externalURL":"","alerts":[{"status":"{{status}}","labels":{"alertname":"andon","site":"{{site}}",\
            "line":"{{line}}","station":"{{station}}","category":"{{category}}","kind":"{{kind}}",\
            "incident":"{{incident}}","tier":"{{tier}}","severity":"{{severityName}}"{{#drill}},"drill":"1"{{/drill}}},\
            "annotations":{"summary":"{{summary}}","event":"{{event}}","purpose":"{{purpose}}",\
            "recipient":"{{recipient}}"{{#ackURL}},"ack_url":"{{ackURL}}"{{/ackURL}}},"startsAt":"{{raisedAt}}",\
            "endsAt":"{{endsAt}}","generatorURL":"","fingerprint":"{{fingerprint}}"}]}
            """
        case .ntfy:
            """
            {{% CONTENT_TYPE: JSON}}{"topic":"{{topic}}","title":"{{title}}","message":"{{summary}}",\
            "priority":{{priority}},"tags":["{{tag}}","{{line}}"{{#drill}},"drill"{{/drill}}]\
            {{#ackURL}},"actions":[{"action":"http","label":"Acknowledge","url":"{{ackURL}}","method":"POST",\
            "clear":true}]{{/ackURL}}}
            """
        case .slack:
            """
            {{% CONTENT_TYPE: JSON}}{"text":"{{title}}: {{summary}}{{#ackURL}} <{{ackURL}}|Acknowledge>{{/ackURL}}"}
            """
        case .plain:
            """
            {{% CONTENT_TYPE: TEXT}}{{title}}
            {{summary}}
            {{#ackURL}}Acknowledge: {{ackURL}}
            {{/ackURL}}
            """
        }
    }

    public static func contentType(for format: ChannelFormat) -> String {
        format == .plain ? "text/plain; charset=utf-8" : "application/json"
    }

    /// What a template sees of one delivery: the notification's fields, the recipient, the channel's parameters.
    public static func context(for delivery: DeliveryPayload, ackURL: String? = nil) -> [String: Any] {
        let content = delivery.content
        let ends = content.purpose == .taken || content.purpose == .ended
        let place = content.station.map { "\(content.line)/\($0)" } ?? content.line.rawValue
        let what =
            content.incidentKind == IncidentKind.andon.rawValue
            ? "\((content.category ?? "andon").capitalized) andon"
            : content.incidentKind == "stop"
                ? "Line stop" : "Controller silent"
        let headline: String =
            switch content.purpose {
            case .call: "\(what) on \(place)"
            case .taken: "Taken: \(what.lowercased()) on \(place)"
            case .ended: "Over: \(what.lowercased()) on \(place)"
            case .update: "\(what) on \(place): \(content.event)"
            case .test: "andond test"
            }
        var context: [String: Any] = [
            "site": content.site, "event": content.event, "purpose": content.purpose.rawValue,
            "incident": content.incident.description, "kind": content.incidentKind, "line": content.line.rawValue,
            "station": content.station?.rawValue ?? "", "category": content.category ?? "", "tier": content.tier ?? "",
            "responders": content.responders.joined(separator: ", "), "by": content.by ?? "",
            "text": content.text ?? "", "state": content.state, "drill": content.drill,
            "severity": content.severity, "severityName": Severity(rawValue: content.severity)?.description ?? "info",
            "summary": content.summary, "title": (content.drill ? "DRILL: " : "") + headline,
            "at": rfc3339(content.at), "raisedAt": rfc3339(content.raisedAt),
            "endsAt": ends ? rfc3339(content.at) : "0001-01-01T00:00:00Z", "status": ends ? "resolved" : "firing",
            "recipient": delivery.recipient, "channel": delivery.channel, "key": delivery.key,
            "eventID": delivery.eventID, "fingerprint": delivery.eventID,
            "priority": ends ? 2 : content.purpose == .update ? 3 : content.severity <= 2 ? 5 : 4,
            "tag": ends ? "white_check_mark" : content.severity <= 2 ? "rotating_light" : "warning",
            "topic": delivery.parameters["topic"] ?? "andon",
        ]
        if let ackURL { context["ackURL"] = ackURL }
        for (key, value) in delivery.parameters { context[key] = value }
        return context
    }

    static func rfc3339(_ instant: Instant) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: Date(timeIntervalSince1970: Double(instant.millisecondsSinceEpoch) / 1000))
    }
}
