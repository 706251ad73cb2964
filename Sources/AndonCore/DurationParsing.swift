extension Duration {
    /// Parses a compact duration: one or more `<number><unit>` parts, units `ms`, `s`, `m`, `h`, `d`
    /// (`500ms`, `90s`, `3m`, `1h30m`, `7d`). Nil when malformed.
    public init?(compact text: some StringProtocol) {
        var total: Int64 = 0
        var digits = ""
        var sawPart = false
        var index = text.startIndex
        while index < text.endIndex {
            let character = text[index]
            if character.isASCII, character.isNumber {
                digits.append(character)
                index = text.index(after: index)
                continue
            }
            guard let value = Int64(digits) else { return nil }
            let rest = text[index...]
            let (unit, length): (Int64, Int) =
                if rest.hasPrefix("ms") { (1, 2) } else if rest.hasPrefix("s") { (1000, 1) } else if rest.hasPrefix("m")
                {
                    (60_000, 1)
                } else if rest.hasPrefix("h") { (3_600_000, 1) } else if rest.hasPrefix("d") { (86_400_000, 1) } else {
                    (0, 0)
                }
            guard length > 0 else { return nil }
            let (product, overflow) = value.multipliedReportingOverflow(by: unit)
            guard !overflow else { return nil }
            total += product
            digits = ""
            sawPart = true
            index = text.index(index, offsetBy: length)
        }
        guard sawPart, digits.isEmpty else { return nil }
        self = .milliseconds(total)
    }
}
