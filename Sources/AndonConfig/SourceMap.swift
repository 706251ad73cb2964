import Yams

/// A step into the YAML document: a mapping key or a sequence index.
public enum ConfigPathComponent: Sendable, Hashable, CustomStringConvertible, ExpressibleByStringLiteral,
    ExpressibleByIntegerLiteral
{
    case key(String)
    case index(Int)

    public init(stringLiteral value: String) { self = .key(value) }
    public init(integerLiteral value: Int) { self = .index(value) }

    init(_ codingKey: any CodingKey) {
        if let index = codingKey.intValue,
            codingKey.stringValue.hasPrefix("Index ") || codingKey.stringValue == "\(index)"
        {
            self = .index(index)
        } else {
            self = .key(codingKey.stringValue)
        }
    }

    public var description: String {
        switch self {
        case .key(let key): key
        case .index(let index): "[\(index)]"
        }
    }
}

public typealias ConfigPath = [ConfigPathComponent]

extension Array where Element == ConfigPathComponent {
    /// `rotas.tl-l1.by_shift[0]`.
    var dotted: String {
        var text = ""
        for component in self {
            switch component {
            case .key(let key): text += text.isEmpty ? key : ".\(key)"
            case .index: text += component.description
            }
        }
        return text
    }
}

/// Finds where a path of the document is written, for positioned diagnostics.
struct SourceMap {
    var root: Node?

    /// The line and column of the value at `path` (or of its key, with `key`), or of the deepest part of the path
    /// that exists.
    func position(of path: ConfigPath, key: Bool = false) -> (line: Int, column: Int) {
        guard var node = root else { return (1, 1) }
        var best = node.mark
        for (offset, component) in path.enumerated() {
            let isLast = offset == path.count - 1
            switch (component, node) {
            case (.key(let name), .mapping(let mapping)):
                guard let pair = mapping.first(where: { $0.key.string == name }) else { return Self.position(best) }
                if isLast && key { return Self.position(pair.key.mark ?? best) }
                node = pair.value
                best = node.mark ?? pair.key.mark ?? best
            case (.index(let index), .sequence(let sequence)):
                guard sequence.indices.contains(index) else { return Self.position(best) }
                node = sequence[index]
                best = node.mark ?? best
            default:
                return Self.position(best)
            }
        }
        return Self.position(best)
    }

    private static func position(_ mark: Mark?) -> (line: Int, column: Int) {
        (mark?.line ?? 1, mark?.column ?? 1)
    }
}
