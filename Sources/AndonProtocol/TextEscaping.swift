extension String {
    /// The text with every control character written as an escape: C0 controls and DEL as `\x1b`, C1 controls,
    /// direction overrides and isolates (which reorder what a terminal shows) and the byte-order mark as
    /// `\u{202e}`. What a sender's bytes become before they reach a reply, a journal message, `andonctl`'s output or
    /// the board, so that no sender can clear a screen, move the cursor, ring a bell or forge a line.
    ///
    /// Backslashes are left as they are: the result is for people to read, not to be decoded.
    public var escapingControlCharacters: String {
        // On UTF-8 bytes first: every character that needs it starts with a byte below 0x20, 0x7f, 0xc2 (C1),
        // 0xe2 (U+2000 to U+2FFF) or 0xef (U+FEFF); most text has none and is returned as it is.
        guard utf8.contains(where: { $0 < 0x20 || Self.mayStartInvisible($0) }),
            unicodeScalars.contains(where: Self.needsEscape)
        else { return self }
        return escaping(where: Self.needsEscape)
    }

    /// The text with only C0 controls, DEL and C1 controls escaped (`\x0a`, `\u{009b}`): what keeps a wire message
    /// one line whatever a caller puts in it. Direction overrides and separators stay: on the wire they are the
    /// sender's data (a request parses back to itself), and every view escapes them (`escapingControlCharacters`).
    public var escapingControlBytes: String {
        guard utf8.contains(where: { $0 < 0x20 || $0 == 0x7f || $0 == 0xc2 }),
            unicodeScalars.contains(where: Self.isControl)
        else { return self }
        return escaping(where: Self.isControl)
    }

    private func escaping(where needsEscape: (Unicode.Scalar) -> Bool) -> String {
        var out = String.UnicodeScalarView()
        for scalar in unicodeScalars {
            guard needsEscape(scalar) else {
                out.append(scalar)
                continue
            }
            let escape =
                scalar.value < 0x80
                ? "\\x" + Self.hex(scalar.value, digits: 2) : "\\u{" + Self.hex(scalar.value, digits: 4) + "}"
            out.append(contentsOf: escape.unicodeScalars)
        }
        return String(out)
    }

    /// Whether a UTF-8 byte may begin a character above U+007E that `needsEscape`: DEL, 0xc2 (C1), 0xe2 (U+2000 to
    /// U+2FFF) or 0xef (U+FEFF).
    static func mayStartInvisible(_ byte: UInt8) -> Bool {
        byte == 0x7f || byte == 0xc2 || byte == 0xe2 || byte == 0xef
    }

    static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7f...0x9f).contains(scalar.value)
    }

    static func needsEscape(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0..<0x20, 0x7f...0x9f: true
        // Marks, embeddings, overrides and isolates of the bidirectional algorithm; line and paragraph separators.
        case 0x200e, 0x200f, 0x2028...0x202e, 0x2066...0x2069: true
        case 0xfeff: true
        default: false
        }
    }

    private static func hex(_ value: UInt32, digits: Int) -> String {
        let text = String(value, radix: 16)
        return String(repeating: "0", count: Swift.max(0, digits - text.count)) + text
    }
}
