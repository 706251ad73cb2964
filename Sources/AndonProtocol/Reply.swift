/// A reply: `ok key=value...` or `err code=CODE reason="..."`, one line.
public enum Reply: Sendable, Hashable {
    case ok([(key: String, value: String)])
    case error(WireError)

    public static func ok(_ fields: KeyValuePairs<String, String?>) -> Reply {
        .ok(fields.compactMap { key, value in value.map { (key: key, value: $0) } })
    }

    public static func == (lhs: Reply, rhs: Reply) -> Bool { lhs.rendered == rhs.rendered }
    public func hash(into hasher: inout Hasher) { hasher.combine(rendered) }

    /// The reply line, without the newline.
    public var rendered: String {
        switch self {
        case .ok(let fields): WireMessage(verb: "ok", fields: fields).rendered
        case .error(let error):
            WireMessage(verb: "err", fields: Self.fields(of: error)).rendered
        }
    }

    private static func fields(of error: WireError) -> [(key: String, value: String)] {
        var fields: [(key: String, value: String)] = [("code", error.code.rawValue), ("reason", error.reason)]
        if !error.details.isEmpty { fields.append(("details", encodeLines(error.details))) }
        if let sequence = error.sequence { fields.append(("seq", String(sequence))) }
        return fields
    }

    /// Parses a reply line (for clients).
    public static func parse(_ line: String) -> Result<Reply, WireError> {
        WireMessage.parse(line).flatMap { message in
            switch message.verb {
            case "ok": .success(.ok(message.fields))
            case "err":
                .success(
                    .error(
                        WireError(
                            WireError.Code(rawValue: message["code"] ?? "unknown"),
                            message["reason"] ?? "(no reason given)",
                            details: message["details"].map(decodeLines) ?? [],
                            sequence: message["seq"].flatMap { UInt64($0) }
                        )
                    )
                )
            default: .failure(WireError(.syntax, "a reply starts with ok or err"))
            }
        }
    }

    /// Lines in one field value: newlines and backslashes escaped as `\n` and `\\` (the wire format has no newlines).
    public static func encodeLines(_ lines: [String]) -> String {
        lines.map { $0.replacingBackslashesAndNewlines() }.joined(separator: "\\n")
    }

    /// The lines of a `details=` field.
    public static func decodeLines(_ text: String) -> [String] {
        var lines: [String] = [""]
        var escaped = false
        for character in text {
            if escaped {
                if character == "n" { lines.append("") } else { lines[lines.count - 1].append(character) }
                escaped = false
            } else if character == "\\" {
                escaped = true
            } else {
                lines[lines.count - 1].append(character)
            }
        }
        return lines
    }

    public subscript(key: String) -> String? {
        guard case .ok(let fields) = self else { return nil }
        return fields.first { $0.key == key }?.value
    }
}

extension String {
    fileprivate func replacingBackslashesAndNewlines() -> String {
        var out = ""
        for character in self {
            switch character {
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            default: out.append(character)
            }
        }
        return out
    }
}
