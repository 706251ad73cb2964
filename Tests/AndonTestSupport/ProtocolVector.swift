import Foundation

/// One wire-protocol test vector (Fixtures/vectors.tsv: the shared vectors for the example configuration;
/// Fixtures/vectors-0.4.tsv and vectors-0.7.tsv: andond's own, for what 0.4 and 0.7 added).
public struct ProtocolVector: Sendable, CustomStringConvertible {
    /// The message's bytes, escapes decoded.
    public var bytes: [UInt8]
    /// `ok`, or `err CODE`.
    public var expected: String
    public var line: Int
    public var source: String
    public var file: String
    /// A vector that only makes sense as a datagram (a message ending in a newline).
    public var udpOnly: Bool

    public var expectsOK: Bool { expected == "ok" }
    public var expectedCode: String? { expectsOK ? nil : String(expected.dropFirst(4)) }
    public var description: String { "\(file):\(line): \(source.prefix(60))" }

    /// Whether a reply line is the expected one: `ok...`, or `err code=CODE ...`.
    public func matches(_ reply: String) -> Bool {
        guard let code = expectedCode else { return reply.hasPrefix("ok") }
        return reply.hasPrefix("err code=\(code) ")
    }

    public static let fixtures = ["vectors.tsv", "vectors-0.4.tsv", "vectors-0.7.tsv"].map {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/\($0)")
    }

    public static let all: [ProtocolVector] = fixtures.flatMap(read)

    static func read(_ fixture: URL) -> [ProtocolVector] {
        // The fixtures ship with the tests; failing to read one is a broken checkout.
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
            vectors.append(
                ProtocolVector(
                    bytes: unescape(message),
                    expected: String(line[line.index(after: tab)...]),
                    line: index + 1,
                    source: String(message),
                    file: fixture.lastPathComponent,
                    udpOnly: udpOnly
                )
            )
            udpOnly = false
        }
        return vectors
    }

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
                out.append(UInt8(String(decoding: bytes.prefix(2), as: UTF8.self), radix: 16) ?? 0)
                bytes = bytes.dropFirst(2)
            default: out.append(next)
            }
        }
        return out
    }
}
