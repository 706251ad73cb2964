import AndonCore
import AndonProtocol
import Foundation
import Testing

/// The signed-message form of docs/protocol.md, its test vectors, and the escaping of what senders send.
@Suite struct SigningTests {
    static let key = Array(0..<4).flatMap { _ in [0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef] as [UInt8] }

    /// docs/protocol.md, "Signed messages" (cross-checked with Python's hmac).
    static let vectors = [
        "stop line=L1 reason=jam seq=7 ts=1796032800 sig=28805c0af092a8bdd077926c8a97c9d0c004abd03d65232937210cfdafe1047a",
        #"andon line=L1 station=S3 category=quality text="hydraulic leak" ts=1796032800 sig=32d1f68e890f85cb30d46be37b34895528d3a95c6630037c33d0c51dbfc21401"#,
        "resume line=L1 ts=1796032800 sig=227423d6007b836f8765b9c57f269f396e92de8e43e039bf20b4df3c7ec69391",
    ]

    @Test(arguments: vectors) func theVectorsVerifyAndSigningMakesThem(_ vector: String) throws {
        let signed = try #require(MessageSigning.split(Array(vector.utf8)))
        #expect(signed.timestamp == 1_796_032_800)
        #expect(MessageSigning.isValid(signed, key: Self.key))
        let unsigned = String(vector[..<vector.range(of: " sig=")!.lowerBound])  // Every vector has one.
        #expect(MessageSigning.sign(unsigned, key: Self.key, at: 0) == vector, "ts= present: kept")
        let bare = unsigned.replacingOccurrences(of: " ts=1796032800", with: "")
        #expect(MessageSigning.sign(bare, key: Self.key, at: 1_796_032_800) == vector)
        // The message parses as the signal it is, ts= and sig= taken.
        guard case .success(.signal) = Request.parse(Array(vector.utf8)) else {
            Issue.record("\(vector) does not parse as a signal")
            return
        }
        // A trailing newline is not part of the message.
        #expect(MessageSigning.split(Array((vector + "\r\n").utf8)) == signed)
    }

    @Test func anyChangedByteOrAnotherKeyFailsTheSignature() throws {
        let vector = Array(Self.vectors[0].utf8)
        let sigStart = vector.count - 64
        for index in stride(from: 0, to: sigStart - 5, by: 3) {
            var altered = vector
            altered[index] ^= 0x01
            guard let signed = MessageSigning.split(altered) else { continue }  // ts= itself altered away
            #expect(!MessageSigning.isValid(signed, key: Self.key), "byte \(index) changed")
        }
        var otherKey = Self.key
        otherKey[0] ^= 0x80
        #expect(!MessageSigning.isValid(try #require(MessageSigning.split(vector)), key: otherKey))
    }

    @Test(arguments: [
        ("stop line=L1 sig=" + String(repeating: "0", count: 64), "bad-value"),  // no ts=
        ("stop line=L1 ts=1 sig=abc", "bad-value"),  // not 64 digits
        ("stop line=L1 sig=" + String(repeating: "0", count: 64) + " ts=1", "bad-value"),  // sig= not last
        ("stop line=L1 ts=soon", "bad-value"),
    ])
    func aMalformedSignatureIsRefusedWhenParsed(_ message: String, _ code: String) {
        guard case .failure(let error) = Request.parse(Array(message.utf8)) else {
            Issue.record("\(message) parsed")
            return
        }
        #expect(error.code.rawValue == code)
    }

    @Test func everyControlCharacterIsEscaped() {
        for value in UInt32(0)..<0x20 {
            let text = "a" + String(Character(Unicode.Scalar(value)!)) + "b"  // Below 0x20: all valid scalars.
            let hex = String(value, radix: 16)
            #expect(text.escapingControlCharacters == "a\\x" + (hex.count == 1 ? "0" : "") + hex + "b")
        }
        #expect("\u{7f}".escapingControlCharacters == "\\x7f")
        #expect("\u{9b}2J".escapingControlCharacters == "\\u{009b}2J")
        #expect("abc\u{202e}def".escapingControlCharacters == "abc\\u{202e}def")
        #expect("Grüße, 工場".escapingControlCharacters == "Grüße, 工場", "printable text is left alone")
        let reply = Reply.error(WireError(.badValue, "unknown category '\u{1b}[2Jhelp'")).rendered
        #expect(
            reply == #"err code=bad-value reason="unknown category '\\x1b[2Jhelp'""#,
            "the wire quotes the escape's backslash"
        )
    }
}
