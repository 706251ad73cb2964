import AndonCore
import Yams

/// andon-sparkplug's configuration (etc/andond/sparkplug.yaml): the broker, the Sparkplug group, andond's socket, and
/// per edge node the line it is the controller of and which metrics mean what.
public struct BridgeConfiguration: Sendable, Hashable {
    public var brokerHost: String
    public var brokerPort: Int
    public var clientID: String
    public var group: String
    public var socket: String?
    /// Edge nodes by their Sparkplug id, in the order configured.
    public var nodes: [String: Node]

    public struct Node: Sendable, Hashable {
        public var line: LineID
        /// The station of the node's own metrics (NDATA); a device's metrics (DDATA) are its station's.
        public var station: StationID?
        public var metrics: [String: Mapping]
        /// The metric a station's device gets in a DCMD with its call's state (`open`, `acknowledged`, `arrived`,
        /// `over`); nil: no feedback.
        public var feedback: String?
        /// The node's place, for andond's `seq` (the order in the file).
        public var index: Int
    }

    /// What a boolean metric means.
    public struct Mapping: Sendable, Hashable {
        public enum Signal: String, Sendable, Hashable, CaseIterable {
            /// true: `andon` of `category`; false: `clear` of it.
            case andon
            /// true: `stop`; false: `resume`.
            case stop
            /// true: `arrived`.
            case arrived
        }

        public var signal: Signal
        public var category: AndonCore.Category?
    }

    public struct Invalid: Error, Sendable, CustomStringConvertible {
        public var problems: [String]
        public var description: String { problems.joined(separator: "\n") }
    }

    public static func parse(_ text: String) throws(Invalid) -> BridgeConfiguration {
        let root: [String: Any]
        do {
            guard let loaded = try Yams.load(yaml: text) as? [String: Any] else {
                throw Invalid(problems: ["the configuration must be a mapping (broker, group, nodes)"])
            }
            root = loaded
        } catch let error as Invalid {
            throw error
        } catch {
            throw Invalid(problems: ["not valid YAML: \(error)"])
        }
        var problems: [String] = []
        let known: Set<String> = ["broker", "client_id", "group", "socket", "nodes"]
        for key in root.keys.sorted() where !known.contains(key) {
            problems.append("unknown key '\(key)'; the keys are \(known.sorted().joined(separator: ", "))")
        }
        let broker = root["broker"] as? String ?? "127.0.0.1:1883"
        var host = "127.0.0.1"
        var port = 1883
        if let colon = broker.lastIndex(of: ":"), let parsed = Int(broker[broker.index(after: colon)...]),
            (1...65535).contains(parsed)
        {
            host = String(broker[..<colon].filter { $0 != "[" && $0 != "]" })
            port = parsed
        } else {
            problems.append("broker: '\(broker)' is not HOST:PORT (such as 127.0.0.1:1883)")
        }
        guard let group = root["group"] as? String, !group.isEmpty, !group.contains("/"), !group.contains("+"),
            !group.contains("#")
        else {
            throw Invalid(problems: problems + ["group: the Sparkplug group id is required (no '/', '+' or '#')"])
        }
        var nodes: [String: Node] = [:]
        let rawNodes = root["nodes"] as? [String: Any] ?? [:]
        if rawNodes.isEmpty { problems.append("nodes: name at least one edge node and its line") }
        for (index, name) in rawNodes.keys.sorted().enumerated() {
            let at = "nodes.\(name)"
            guard !name.contains("/"), !name.contains("+"), !name.contains("#"),
                let raw = rawNodes[name] as? [String: Any]
            else {
                problems.append("\(at): an edge node id with no '/', '+' or '#', mapping to its line and metrics")
                continue
            }
            for key in raw.keys.sorted() where !["line", "station", "metrics", "feedback"].contains(key) {
                problems.append("\(at): unknown key '\(key)'; a node takes line, station, metrics, feedback")
            }
            guard let lineText = raw["line"] as? String, let line = LineID(validating: lineText) else {
                problems.append("\(at).line: the andond line this node is the controller of (such as L1)")
                continue
            }
            var station: StationID?
            if let text = raw["station"] as? String {
                station = StationID(validating: text)
                if station == nil { problems.append("\(at).station: '\(text)' is not a station name") }
            }
            var metrics: [String: Mapping] = [:]
            for (metric, value) in raw["metrics"] as? [String: Any] ?? [:] {
                guard let fields = value as? [String: Any], let text = fields["signal"] as? String,
                    let signal = Mapping.Signal(rawValue: text)
                else {
                    problems.append(
                        "\(at).metrics.\(metric): { signal: andon, category: ... }, { signal: stop } or "
                            + "{ signal: arrived }"
                    )
                    continue
                }
                var category: AndonCore.Category?
                if let text = fields["category"] as? String {
                    category = AndonCore.Category(rawValue: text)
                    if category == nil {
                        problems.append("\(at).metrics.\(metric).category: '\(text)' is not one of \(Category.names)")
                    }
                }
                if signal == .andon, category == nil, fields["category"] == nil {
                    problems.append("\(at).metrics.\(metric): an andon metric needs its category")
                }
                metrics[metric] = Mapping(signal: signal, category: category)
            }
            if metrics.isEmpty { problems.append("\(at).metrics: map at least one boolean metric to a signal") }
            nodes[name] = Node(
                line: line,
                station: station,
                metrics: metrics,
                feedback: raw["feedback"] as? String,
                index: index
            )
        }
        guard problems.isEmpty else { throw Invalid(problems: problems) }
        return BridgeConfiguration(
            brokerHost: host,
            brokerPort: port,
            clientID: root["client_id"] as? String ?? "andon-sparkplug",
            group: group,
            socket: root["socket"] as? String,
            nodes: nodes
        )
    }

    /// The topics the bridge subscribes to: the group's births, deaths and data.
    public var subscriptions: [String] {
        ["NBIRTH/+", "NDEATH/+", "NDATA/+", "DBIRTH/+/+", "DDEATH/+/+", "DDATA/+/+"].map {
            "\(SparkplugTopic.namespace)/\(group)/\($0)"
        }
    }
}
