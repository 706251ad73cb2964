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
        var scanner = Scanner(text.unicodeScalars)
        scanner.skipSpaces()
        guard !scanner.isAtEnd else { return .failure(WireError(.syntax, "empty message")) }
        let verb = scanner.take { isWordCharacter($0) || $0 == "-" }
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
            guard !key.isEmpty, scanner.peek == "=" else {
                return .failure(WireError(.syntax, "expected key=value at column \(scanner.column)"))
            }
            scanner.advance()
            let value: String
            if scanner.peek == "\"" {
                scanner.advance()
                guard let quoted = scanner.takeQuoted() else {
                    return .failure(WireError(.syntax, "unterminated or badly escaped quoted value for \(key)"))
                }
                value = quoted
            } else {
                value = scanner.take { !isSpace($0) }
                if value.unicodeScalars.contains(where: { $0 == "\"" || $0 == "\\" }) {
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

    public static func quoteIfNeeded(_ value: String) -> String {
        let plain = !value.isEmpty && !value.unicodeScalars.contains { isSpace($0) || $0 == "\"" || $0 == "\\" }
        if plain { return value }
        var out = "\""
        for scalar in value.unicodeScalars {
            if scalar == "\"" || scalar == "\\" { out.append("\\") }
            out.unicodeScalars.append(scalar)
        }
        return out + "\""
    }
}

private func isSpace(_ scalar: Unicode.Scalar?) -> Bool { scalar == " " || scalar == "\t" }

private func isWordCharacter(_ scalar: Unicode.Scalar) -> Bool {
    ("a"..."z").contains(scalar) || ("0"..."9").contains(scalar) || scalar == "_"
}

private struct Scanner {
    let scalars: [Unicode.Scalar]
    var index = 0

    init(_ view: String.UnicodeScalarView) { scalars = Array(view) }

    var isAtEnd: Bool { index >= scalars.count }
    var peek: Unicode.Scalar? { isAtEnd ? nil : scalars[index] }
    var column: Int { index + 1 }

    mutating func advance() { index += 1 }

    mutating func skipSpaces() { while isSpace(peek) { advance() } }

    mutating func take(while predicate: (Unicode.Scalar) -> Bool) -> String {
        var out = String.UnicodeScalarView()
        while let scalar = peek, predicate(scalar) {
            out.append(scalar)
            advance()
        }
        return String(out)
    }

    /// After an opening quote: the value up to the closing quote, unescaped; nil when unterminated or badly escaped.
    mutating func takeQuoted() -> String? {
        var out = String.UnicodeScalarView()
        while let scalar = peek {
            advance()
            switch scalar {
            case "\"":
                return String(out)
            case "\\":
                guard let next = peek, next == "\"" || next == "\\" else { return nil }
                out.append(next)
                advance()
            default:
                out.append(scalar)
            }
        }
        return nil
    }
}
