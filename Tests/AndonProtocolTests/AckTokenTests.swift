import AndonCore
import AndonProtocol
import Foundation
import Testing

/// The acknowledge link's token: the vectors of docs/protocol.md, and what is refused.
@Suite struct AckTokenTests {
    static let key = Hex.decode(Array(String(repeating: "0123456789abcdef", count: 4).utf8))!
    static let vectors = [
        (
            AckToken(incident: IncidentID(7), recipient: "ben", expires: 1_796_036_400, delivery: 42),
            "1.7.1796036400.42.ben~5jC-_ipKLtZTkROELkDskQoAQmTsStueHPA0bSI6xRg"
        ),
        (
            AckToken(incident: IncidentID(12), recipient: "felix.maier", expires: 1_796_036_400, delivery: 7),
            "1.12.1796036400.7.felix.maier~EKWGTYyQma04JFJ8J49nSkr-lnOTfAkgVolQ0fd7FDY"
        ),
    ]

    @Test func theDocumentedVectorsEncodeAndDecode() throws {
        for (token, text) in Self.vectors {
            #expect(token.encoded(key: Self.key) == text)
            #expect(try AckToken.decode(text, key: Self.key, now: 1_796_036_399).get() == token)
        }
    }

    @Test func anAlteredAnExpiredOrAnotherKeysTokenIsRefused() {
        let text = Self.vectors[0].1
        let altered = text.replacingOccurrences(of: ".ben~", with: ".bea~")
        #expect(throws: WireError.self) { try AckToken.decode(altered, key: Self.key, now: 0).get() }
        #expect(throws: WireError.self) { try AckToken.decode(text, key: Self.key, now: 1_796_036_400).get() }
        #expect(throws: WireError.self) {
            try AckToken.decode(text, key: [UInt8](repeating: 1, count: 32), now: 0).get()
        }
        for junk in ["", "~", "1.7~", text + "x", String(repeating: "a", count: 300)] {
            #expect(throws: WireError.self) { try AckToken.decode(junk, key: Self.key, now: 0).get() }
        }
    }

    @Test func ackTakesAnIdOrATokenAlone() throws {
        #expect(
            try Request.parse(Array("ack token=\(Self.vectors[0].1)".utf8)).get()
                == .acknowledgeByToken(Self.vectors[0].1)
        )
        #expect(try Request.parse(Array("ack id=7".utf8)).get() == .acknowledge(IncidentID(7), note: nil))
        #expect(throws: WireError.self) { try Request.parse(Array("ack token=x id=7".utf8)).get() }
        #expect(throws: WireError.self) { try Request.parse(Array("ack".utf8)).get() }
        let report = try Request.parse(
            Array("report id=3 attempt=2 outcome=retry status=429 retry_after=2000 error=\"HTTP 429\"".utf8)
        ).get()
        #expect(
            report
                == .report(
                    DeliveryReport(
                        id: 3,
                        attempt: 2,
                        outcome: .retry,
                        status: 429,
                        retryAfter: .seconds(2),
                        error: "HTTP 429"
                    )
                )
        )
        #expect(
            Request.report(
                DeliveryReport(
                    id: 3,
                    attempt: 2,
                    outcome: .retry,
                    status: 429,
                    retryAfter: .seconds(2),
                    error: "HTTP 429"
                )
            ).message.rendered
                == "report id=3 attempt=2 outcome=retry status=429 retry_after=2000 error=\"HTTP 429\""
        )
        #expect(throws: WireError.self) { try Request.parse(Array("report id=3 attempt=1 outcome=maybe".utf8)).get() }
        #expect(throws: WireError.self) { try Request.parse(Array("claim limit=0".utf8)).get() }
    }
}
