/// One protocol message: `VERB key=value key="quoted value"`, UTF-8, at most 1024 bytes.
///
/// Values are unquoted (no spaces, quotes or backslashes) or double-quoted with `\"` and `\\` as the only escapes.
/// Keys are lower-case letters and `_`; each may appear once. Spaces (and tabs) separate tokens.
public struct WireMessage: Sendable, Hashable {
    /// The longest message, in bytes, not counting a terminating newline.
    public static let maximumLength = 1024

    public var verb: String
    public var fields: [(key: String, value: String)]

    public init(verb: String, fields: [(key: String, value: String)] = []) {
        self.verb = verb
        self.fields = fields
    }

    public subscript(key: String) -> String? { fields.first { $0.key == key }?.value }

    public static func == (lhs: WireMessage, rhs: WireMessage) -> Bool {
        lhs.verb == rhs.verb && lhs.fields.elementsEqual(rhs.fields) { $0 == $1 }
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(verb)
        for field in fields {
            hasher.combine(field.key)
            hasher.combine(field.value)
        }
    }

    /// Parses one message from its bytes. A datagram may end with one newline, which is dropped.
    public static func parse(_ bytes: some Collection<UInt8>) -> Result<WireMessage, WireError> {
        var bytes = Array(bytes)
        if bytes.last == UInt8(ascii: "\n") { bytes.removeLast() }
        if bytes.last == UInt8(ascii: "\r") { bytes.removeLast() }
        guard bytes.count <= maximumLength else {
            return .failure(
                WireError(.tooLong, "message of \(bytes.count) bytes; at most \(maximumLength) are allowed")
            )
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            return .failure(WireError(.syntax, "message is not valid UTF-8"))
        }
        return parse(text)
    }

    /// Parses one message from text (no terminating newline).
    public static func parse(_ text: String) -> Result<WireMessage, WireError> {
        var scanner = Scanner(text)
        scanner.skipSpaces()
        guard !scanner.isAtEnd else { return .failure(WireError(.syntax, "empty message")) }
        var verb = scanner.take { isWordCharacter($0) || $0 == UInt8(ascii: "-") }
        // A question ends in `?` (`state?`).
        if !verb.isEmpty, scanner.peek == UInt8(ascii: "?") {
            scanner.advance()
            verb += "?"
        }
        guard !verb.isEmpty, scanner.isAtEnd || isSpace(scanner.peek) else {
            return .failure(
                WireError(.syntax, "a message starts with a verb such as andon, stop, clear, resume or heartbeat")
            )
        }
        var message = WireMessage(verb: verb)
        while true {
            scanner.skipSpaces()
            if scanner.isAtEnd { return .success(message) }
            let key = scanner.take(while: isWordCharacter)
            guard !key.isEmpty, scanner.peek == UInt8(ascii: "=") else {
                return .failure(WireError(.syntax, "expected key=value at column \(scanner.column)"))
            }
            scanner.advance()
            let value: String
            if scanner.peek == UInt8(ascii: "\"") {
                scanner.advance()
                guard let quoted = scanner.takeQuoted() else {
                    return .failure(WireError(.syntax, "unterminated or badly escaped quoted value for \(key)"))
                }
                value = quoted
            } else {
                value = scanner.take { !isSpace($0) }
                if value.utf8.contains(where: { $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
                    return .failure(
                        WireError(.syntax, "value of \(key) contains a quote or backslash; quote the whole value")
                    )
                }
            }
            guard scanner.isAtEnd || isSpace(scanner.peek) else {
                return .failure(WireError(.syntax, "expected a space after the value of \(key)"))
            }
            if message[key] != nil {
                return .failure(WireError(.syntax, "field \(key) given twice"))
            }
            message.fields.append((key, value))
        }
    }

    /// The message as one line of text (without the newline), quoting values where needed.
    public var rendered: String {
        ([verb] + fields.map { "\($0.key)=\(Self.quoteIfNeeded($0.value))" }).joined(separator: " ")
    }

    /// The value as a message carries it: quoted where needed, its control characters escaped (`\x1b`), so that a
    /// rendered message is always one line. Nothing else is changed: a request andond took renders as what parses
    /// back to the same request (the input log and a restore rely on it), so direction overrides and separators in
    /// a sender's text are data here, escaped by every view that shows them.
    public static func quoteIfNeeded(_ value: String) -> String {
        let value = value.escapingControlBytes
        // On UTF-8 bytes: every character that matters is ASCII, and a large value (a status of many calls) must
        // not take a scalar-by-scalar pass.
        let utf8 = value.utf8
        let needsQuotes: (UInt8) -> Bool = {
            $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\")
        }
        if !utf8.isEmpty && !utf8.contains(where: needsQuotes) { return value }
        var out: [UInt8] = []
        out.reserveCapacity(utf8.count + utf8.count / 8 + 2)
        out.append(UInt8(ascii: "\""))
        for byte in utf8 {
            if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") { out.append(UInt8(ascii: "\\")) }
            out.append(byte)
        }
        out.append(UInt8(ascii: "\""))
        return String(decoding: out, as: UTF8.self)
    }
}

extension WireMessage {
    /// Appends a piece of a quoted value as a message carries it (`\"` and `\\` escaped), for a reply written in
    /// pieces; the caller writes the quotes around the whole value. The piece must hold no character that
    /// `escapingControlBytes` would change (JSON from `JSONWriter` holds none): then the pieces together are
    /// exactly what `quoteIfNeeded` gives for the whole value.
    public static func appendQuoted(_ piece: [UInt8], to out: inout [UInt8]) {
        piece.withUnsafeBufferPointer { bytes in
            var start = 0
            for index in bytes.indices where bytes[index] == UInt8(ascii: "\"") || bytes[index] == UInt8(ascii: "\\") {
                out.append(contentsOf: bytes[start..<index])
                out.append(UInt8(ascii: "\\"))
                start = index
            }
            out.append(contentsOf: bytes[start...])
        }
    }
}

private func isSpace(_ byte: UInt8?) -> Bool { byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }

private func isWordCharacter(_ byte: UInt8) -> Bool {
    (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
        || byte == UInt8(ascii: "_")
}

/// Scans UTF-8 bytes: every character with a meaning here is ASCII, which never occurs inside a multi-byte
/// character, so values are cut on the right boundaries and a large reply is scanned in one pass.
private struct Scanner {
    let bytes: [UInt8]
    var index = 0

    init(_ text: String) { bytes = Array(text.utf8) }

    var isAtEnd: Bool { index >= bytes.count }
    var peek: UInt8? { isAtEnd ? nil : bytes[index] }
    /// In characters (Unicode scalars), counted only when an error needs it.
    var column: Int { bytes[..<index].reduce(1) { $1 & 0xC0 == 0x80 ? $0 : $0 + 1 } }

    mutating func advance() { index += 1 }

    mutating func skipSpaces() { while isSpace(peek) { advance() } }

    mutating func take(while predicate: (UInt8) -> Bool) -> String {
        let start = index
        while let byte = peek, predicate(byte) { advance() }
        return String(decoding: bytes[start..<index], as: UTF8.self)
    }

    /// After an opening quote: the value up to the closing quote, unescaped; nil when unterminated or badly escaped.
    mutating func takeQuoted() -> String? {
        var out: [UInt8] = []
        while let byte = peek {
            advance()
            switch byte {
            case UInt8(ascii: "\""):
                return String(decoding: out, as: UTF8.self)
            case UInt8(ascii: "\\"):
                guard let next = peek, next == UInt8(ascii: "\"") || next == UInt8(ascii: "\\") else { return nil }
                out.append(next)
                advance()
            default:
                out.append(byte)
            }
        }
        return nil
    }
}
