import AndonControl
import Foundation
import Testing

/// `andonctl tail`'s who column: the actor for an answer, who is called for everything else.
@Suite struct TailFormatterTests {
    static func line(_ fields: [String: String]) -> String {
        TailFormatter.line(
            fields.mapValues { [$0] },
            realtimeMicroseconds: 1_796_000_000_000_000,
            timeZone: TimeZone(identifier: "UTC")!,  // UTC is always known
            color: false
        )
    }

    @Test func aReminderNamesWhoIsRemindedNotWhoAcknowledged() {
        let base = ["ANDON_INCIDENT": "7", "ANDON_LINE": "L1", "ANDON_STATION": "S3", "ANDON_TIER": "team-leader"]
        var reminder = base.merging(["ANDON_EVENT": "reminder", "ANDON_BY": "anna", "ANDON_RESPONDER": "ben"]) { $1 }
        reminder["MESSAGE"] = "still open"
        #expect(Self.line(reminder).contains("  reminder  team-leader  ben  still open"))
        let acknowledged = base.merging(["ANDON_EVENT": "acknowledged", "ANDON_BY": "anna", "ANDON_RESPONDER": "ben"]) {
            $1
        }
        #expect(Self.line(acknowledged).contains("  acknowledged  team-leader  anna  "))
        let raised = base.merging(["ANDON_EVENT": "raised", "ANDON_RESPONDER": "ben"]) { $1 }
        #expect(Self.line(raised).contains("  raised  team-leader  ben  "))
    }
}
