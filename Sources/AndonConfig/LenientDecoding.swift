import Foundation

/// Collects problems found while decoding, so that one pass reports them all instead of stopping at the first.
final class DiagnosticSink: @unchecked Sendable {
    // Only touched by the single thread running one decode; never shared.
    struct Entry {
        var severity: Diagnostic.Severity
        var path: ConfigPath
        var pointsAtKey: Bool
        var message: String
        var hint: String?
    }

    private(set) var entries: [Entry] = []

    var errorCount: Int { entries.count { $0.severity == .error } }

    func error(_ path: ConfigPath, key: Bool = false, _ message: String, hint: String? = nil) {
        entries.append(Entry(severity: .error, path: path, pointsAtKey: key, message: message, hint: hint))
    }

    func warning(_ path: ConfigPath, key: Bool = false, _ message: String, hint: String? = nil) {
        entries.append(Entry(severity: .warning, path: path, pointsAtKey: key, message: message, hint: hint))
    }

    static let userInfoKey = CodingUserInfoKey(rawValue: "andond.diagnostics")!  // a constant, valid key.
}

struct AnyCodingKey: CodingKey {
    var stringValue: String
    var intValue: Int?

    init(stringValue: String) { self.stringValue = stringValue }
    init(intValue: Int) {
        self.stringValue = "\(intValue)"
        self.intValue = intValue
    }
}

/// The fields of one YAML mapping, decoded leniently: an unknown key or a value of the wrong type is reported to the
/// sink with its path, and the field reads as nil, so that decoding carries on and finds every problem.
struct Fields<Key: CodingKey & CaseIterable & RawRepresentable> where Key.RawValue == String {
    let container: KeyedDecodingContainer<AnyCodingKey>
    let sink: DiagnosticSink
    let path: ConfigPath

    init(_ decoder: any Decoder, _ keys: Key.Type, what: String) throws {
        guard let sink = decoder.userInfo[DiagnosticSink.userInfoKey] as? DiagnosticSink else {
            preconditionFailure("configuration types decode only through ConfigurationLoader")
        }
        self.sink = sink
        self.path = decoder.codingPath.map(ConfigPathComponent.init)
        self.container = try decoder.container(keyedBy: AnyCodingKey.self)
        let known = Key.allCases.map(\.rawValue)
        for key in container.allKeys where !known.contains(key.stringValue) {
            var hint = "\(what) takes: \(known.joined(separator: ", "))"
            if let guess = closest(to: key.stringValue, in: known) { hint = "did you mean '\(guess)'? " + hint }
            sink.error(
                path + [.key(key.stringValue)],
                key: true,
                "unknown key '\(key.stringValue)' in \(what)",
                hint: hint
            )
        }
    }

    func has(_ key: Key) -> Bool { container.contains(AnyCodingKey(stringValue: key.rawValue)) }

    func path(_ key: Key) -> ConfigPath { path + [.key(key.rawValue)] }

    /// The value at `key`, or nil when it is absent, null or not a `T` (reported).
    func optional<T: Decodable>(_ key: Key, as type: T.Type = T.self) -> T? {
        let codingKey = AnyCodingKey(stringValue: key.rawValue)
        guard container.contains(codingKey) else { return nil }
        do {
            if try container.decodeNil(forKey: codingKey) { return nil }
            return try container.decode(T.self, forKey: codingKey)
        } catch let error as DecodingError {
            report(error, at: path(key))
            return nil
        } catch {
            sink.error(path(key), "\(error)")
            return nil
        }
    }

    /// As `optional`, and a missing key is reported as an error.
    func required<T: Decodable>(_ key: Key, as type: T.Type = T.self, what: String, hint: String? = nil) -> T? {
        if !has(key) {
            sink.error(path, key: true, "\(what) needs '\(key.rawValue)'", hint: hint)
            return nil
        }
        return optional(key, as: type)
    }

    private func report(_ error: DecodingError, at fallback: ConfigPath) {
        switch error {
        case .typeMismatch(let type, let context), .valueNotFound(let type, let context):
            let where_ = context.codingPath.isEmpty ? fallback : context.codingPath.map(ConfigPathComponent.init)
            sink.error(
                where_,
                "expected \(describe(type)) here",
                hint: "see etc/andond/andond.yaml for the layout of each section"
            )
        case .keyNotFound(let key, let context):
            sink.error(
                context.codingPath.map(ConfigPathComponent.init),
                key: true,
                "missing key '\(key.stringValue)'",
                hint: "see etc/andond/andond.yaml"
            )
        case .dataCorrupted(let context):
            let where_ = context.codingPath.isEmpty ? fallback : context.codingPath.map(ConfigPathComponent.init)
            sink.error(where_, context.debugDescription, hint: "see etc/andond/andond.yaml")
        @unknown default:
            sink.error(fallback, "\(error)", hint: "see etc/andond/andond.yaml")
        }
    }
}

private func describe(_ type: Any.Type) -> String {
    let name = String(describing: type)
    if name.hasPrefix("Array") || name.hasPrefix("[") && !name.contains(":") { return "a list" }
    if name.hasPrefix("Dictionary") || name.hasPrefix("[") { return "a mapping" }
    if name == "String" { return "a text value" }
    if name == "Int" { return "a whole number" }
    if name == "Bool" { return "true or false" }
    return "a mapping"
}

/// The known word closest to `word`, if it is close enough to be a likely typo.
func closest(to word: String, in candidates: [String]) -> String? {
    let scored = candidates.map { ($0, editDistance(word.lowercased(), $0.lowercased())) }
    guard let best = scored.min(by: { $0.1 < $1.1 }), best.1 <= max(2, word.count / 3) else { return nil }
    return best.0
}

private func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a)
    let b = Array(b)
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var previous = Array(0...b.count)
    for i in 1...a.count {
        var current = [i] + Array(repeating: 0, count: b.count)
        for j in 1...b.count {
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        previous = current
    }
    return previous[b.count]
}
