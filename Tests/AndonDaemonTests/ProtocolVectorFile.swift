import Foundation

/// The shared protocol vectors, read from the protocol tests' fixture (one copy in the project).
struct ProtocolVectorFile {
    struct Vector {
        var bytes: [UInt8]
        var expected: String
        var source: String
        var udpOnly: Bool

        func matches(_ reply: String) -> Bool {
            expected == "ok" ? reply.hasPrefix("ok") : reply.hasPrefix("err code=\(expected.dropFirst(4)) ")
        }
    }

    static let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("AndonProtocolTests/Fixtures/vectors.tsv")

    static func load() throws -> [Vector] {
        let text = try String(contentsOf: path, encoding: .utf8)
        var vectors: [Vector] = []
        var udpOnly = false
        for line in text.split(separator: "\n") {
            if line.hasPrefix("#") {
                udpOnly = line.contains("UDP only")
                continue
            }
            guard let tab = line.lastIndex(of: "\t") else { continue }
            let message = line[..<tab]
            vectors.append(
                Vector(
                    bytes: unescape(message),
                    expected: String(line[line.index(after: tab)...]),
                    source: String(message),
                    udpOnly: udpOnly
                )
            )
            udpOnly = false
        }
        return vectors
    }

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
