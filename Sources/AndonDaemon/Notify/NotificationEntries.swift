import AndonCore
import AndonProtocol
import AndonSystemd

/// The journal entries of the notification stage: `notified`, `notify-failed`, and nobody reached.
enum NotificationEntries {
    /// Attempts whose failure is journaled at info before a retried failure is a warning (the first few are weather).
    static let quietAttempts = 3

    static func entries(for reported: DeliveryQueue.Reported, at now: Instant) -> [JournalEntry] {
        let delivery = reported.delivery
        let content = delivery.content
        let who = "\(delivery.recipient) through \(delivery.channel.channel)"
        let call = content.purpose == .test ? "a test" : "call \(content.incident) (\(content.event))"
        let status = delivery.lastStatus.map { " (HTTP \($0))" } ?? ""
        var message: String
        var priority: Severity
        var id = MessageID.notifyFailed
        switch (delivery.state, reported.outcome) {
        case (.delivered, _):
            let latency = now.duration(since: delivery.createdAt).milliseconds
            message = "notified \(who) of \(call) after \(latency) ms, attempt \(reported.attempt)\(status)"
            priority = .info
            id = MessageID.notified
        case (.failed, _) where reported.gaveUp:
            message =
                "gave up notifying \(who) of \(call) after \(delivery.attempts) attempts: "
                + (delivery.lastError ?? "failed") + status
            priority = .critical
        case (.failed, _):
            message = "notifying \(who) of \(call) failed for good: \(delivery.lastError ?? "refused")\(status)"
            priority = .critical
        case (.pending, _):
            // Every failed attempt is an entry (the report counts them per channel); the first few are weather, not
            // yet a warning.
            message =
                "notifying \(who) of \(call) failed, attempt \(reported.attempt): \(delivery.lastError ?? "error")"
                + "\(status); next in \(delivery.nextAt.duration(since: now).compactDescription)"
            priority = reported.attempt > quietAttempts ? .warning : .info
        }
        var fields: [(JournalField, String)] = [
            (.incident, content.incident.description), (.line, content.line.rawValue), (.causeEventKind, content.event),
            (.channel, delivery.channel.channel.rawValue), (.recipient, delivery.recipient.description),
            (.purpose, content.purpose.rawValue), (.delivery, String(delivery.id)),
            (.attempt, String(reported.attempt)), (.causeEvent, delivery.eventID),
            (.deliveryState, delivery.state.description),
            (.at, String(now.millisecondsSinceEpoch)),
        ]
        if let station = content.station { fields.append((.station, station.rawValue)) }
        if let status = delivery.lastStatus { fields.append((.httpStatus, String(status))) }
        if delivery.state == .delivered {
            fields.append((.notifyLatency, String(now.duration(since: delivery.createdAt).milliseconds)))
        } else if let error = delivery.lastError {
            fields.append((.error, error))
        }
        if content.drill { message = "DRILL: " + message }
        return [.daemon(message, priority: priority, id: id, fields: fields)]
    }

    static func nobodyReached(_ delivery: Delivery, incident: IncidentID) -> JournalEntry {
        let content = delivery.content
        var fields: [(JournalField, String)] = [
            (.incident, incident.description), (.line, content.line.rawValue), (.causeEvent, delivery.eventID),
        ]
        if let station = content.station { fields.append((.station, station.rawValue)) }
        let place = content.station.map { "\(content.line)/\($0)" } ?? content.line.rawValue
        return .daemon(
            "nobody was reached for call \(incident) on \(place): every notification of its \(content.event) failed; "
                + "escalating it now",
            priority: .critical,
            id: MessageID.nobodyReached,
            fields: fields
        )
    }
}
