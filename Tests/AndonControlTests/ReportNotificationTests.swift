import AndonCore
import Testing

@testable import AndonControl

/// The report's notification figures: time from raising to the first notification delivered, and per channel what
/// was delivered, tried again and failed, for the window's calls only.
@Suite struct ReportNotificationTests {
    typealias T = ReportBuilderTests

    @Test func firstNotificationAndFailuresPerChannel() {
        var builder = ReportBuilder(since: T.day, until: T.day + 24 * T.hour)
        let first = T.raised(1, at: T.day + T.hour)
        let second = T.raised(2, station: "S2", at: T.day + 2 * T.hour)
        let before = T.raised(3, station: "S3", at: T.day - T.hour)
        for call in [first, second, before] { builder.add(call) }
        let at = T.day + 3 * T.hour
        for entry in [
            NotificationEntry(
                incident: "1",
                channel: "pager",
                recipient: "tl",
                state: .delivered,
                latency: 120,
                at: at
            ),
            NotificationEntry(incident: "1", channel: "sms", recipient: "tl", state: .delivered, latency: 80, at: at),
            NotificationEntry(incident: "2", channel: "pager", recipient: "tl", state: .pending, at: at),
            NotificationEntry(
                incident: "2",
                channel: "pager",
                recipient: "tl",
                state: .delivered,
                latency: 2_400,
                at: at
            ),
            NotificationEntry(
                incident: "2",
                channel: "tower",
                recipient: "line:L1",
                purpose: "update",
                state: .failed,
                at: at
            ),
            // An escalation's notification is not the first one of its call.
            NotificationEntry(
                incident: "1",
                channel: "pager",
                recipient: "gl",
                event: "escalated",
                state: .delivered,
                latency: 10,
                at: at
            ),
            // A call raised before the window does not count.
            NotificationEntry(incident: "3", channel: "pager", recipient: "tl", state: .failed, at: at),
        ] {
            builder.add(entry)
        }
        let figures = builder.report().notifications
        #expect(figures?.delivered == 4)
        #expect(figures?.failedAttempts == 1)
        #expect(figures?.failed == 1)
        #expect(figures?.firstNotification?.count == 2)
        #expect(figures?.firstNotification?.median == 1_240)
        #expect(figures?.byChannel.map(\.channel) == ["pager", "sms", "tower"])
        #expect(figures?.byChannel.first?.delivered == 3)
        #expect(figures?.byChannel.first?.failedAttempts == 1)
        #expect(figures?.byChannel.last?.failed == 1)
        let text = builder.report().text()
        #expect(text.contains("Notifications: 4 delivered, 1 failed for good, 1 attempts tried again"))
        #expect(builder.report().html().contains("<h2>Notifications</h2>"))
    }

    @Test func aNotificationsEntryIsReadAsOneAndNeverAsAStepOfItsCall() {
        let fields: [String: [String]] = [
            "ANDON_INCIDENT": ["7"], "ANDON_CHANNEL": ["pager"], "ANDON_RECIPIENT": ["tl"],
            "ANDON_DELIVERY_STATE": ["delivered"], "ANDON_AT_MS": ["1796000000000"], "ANDON_NOTIFY_MS": ["230"],
            "ANDON_DELIVERY": ["3"], "ANDON_PURPOSE": ["call"], "ANDON_CAUSE_EVENT": ["raised"], "ANDON_LINE": ["L1"],
        ]
        let entry = NotificationEntry(fields: fields)
        #expect(entry?.latency == 230)
        #expect(entry?.state == .delivered)
        #expect(entry?.event == "raised")
        #expect(ReportEntry(fields: fields) == nil, "a notification is not a step of its call")
        #expect(NotificationEntry(fields: ["ANDON_EVENT": ["raised"], "ANDON_INCIDENT": ["7"]]) == nil)
    }
}
