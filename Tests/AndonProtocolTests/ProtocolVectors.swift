import Foundation
import Testing

/// The wire-protocol test vectors (Fixtures/vectors.tsv, a copy of the shared set for the example configuration).
struct ProtocolVector: Sendable, CustomTestStringConvertible {
    /// The message's bytes, escapes decoded.
    var bytes: [UInt8]
    /// `ok`, or `err CODE`.
    var expected: String
    var line: Int
    var source: String

    var expectsOK: Bool { expected == "ok" }
    var expectedCode: String? { expectsOK ? nil : String(expected.dropFirst(4)) }
    var udpOnly: Bool
    var testDescription: String { "vectors.tsv:\(line): \(source.prefix(60))" }

    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/vectors.tsv")

    static let all: [ProtocolVector] = {
        // The fixture ships with the tests; failing to read it is a broken checkout.
        let text = try! String(contentsOf: fixture, encoding: .utf8)
        var vectors: [ProtocolVector] = []
        var udpOnly = false
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            if line.hasPrefix("#") {
                udpOnly = line.contains("UDP only")
                continue
            }
            guard let tab = line.lastIndex(of: "\t") else { continue }
            let message = line[..<tab]
            let expected = String(line[line.index(after: tab)...])
            vectors.append(
                ProtocolVector(
                    bytes: unescape(message),
                    expected: expected,
                    line: index + 1,
                    source: String(message),
                    udpOnly: udpOnly
                )
            )
            udpOnly = false
        }
        return vectors
    }()

    /// C-style escapes: \n \r \t \\ \" \xHH.
    static func unescape(_ text: Substring) -> [UInt8] {
        var out: [UInt8] = []
        var bytes = Array(text.utf8)[...]
        while let byte = bytes.popFirst() {
            guard byte == UInt8(ascii: "\\"), let next = bytes.popFirst() else {
                out.append(byte)
                continue
            }
            switch next {
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "x"):
                let hex = String(decoding: bytes.prefix(2), as: UTF8.self)
                bytes = bytes.dropFirst(2)
                out.append(UInt8(hex, radix: 16) ?? 0)
            default: out.append(next)
            }
        }
        return out
    }
}
