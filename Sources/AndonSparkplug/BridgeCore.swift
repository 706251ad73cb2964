import AndonCore
import AndonProtocol

/// What andon-sparkplug does with each Sparkplug message, and with andond's feedback: pure, on values, so that it is
/// tested without a broker. Per edge node it keeps the last `seq` (a gap asks the node for a rebirth, NCMD
/// `Node Control/Rebirth`), the metric aliases its births named, and which node a station's device is on.
public struct BridgeCore: Sendable {
    public enum Action: Sendable, Hashable {
        /// A message for andond, as the node's line's controller.
        case send(Request)
        /// A message for the broker: NCMD (a rebirth) or DCMD (feedback).
        case publish(topic: String, payload: [UInt8])
        /// Something worth a line in the log (a malformed payload, an unmapped station).
        case warn(String)
    }

    public let configuration: BridgeConfiguration
    /// High bits of andond's `seq`: the bridge's start, in seconds (a restarted bridge never reuses a `seq` andond
    /// still remembers).
    let epoch: UInt64
    private var nodes: [String: NodeState] = [:]
    /// The node a line's station was last heard on (its device).
    private var stations: [String: String] = [:]

    /// Asks a node for a rebirth at most this often.
    public static let rebirthEvery: Int64 = 5_000

    struct NodeState {
        var expected: UInt64?
        var wraps: UInt64 = 0
        var aliases: [UInt64: String] = [:]
        var lastRebirth: Int64?
    }

    public init(configuration: BridgeConfiguration, startedAt seconds: UInt64) {
        self.configuration = configuration
        epoch = seconds & 0xFFFF_FFFF
    }

    /// One message from the broker, at `now` (milliseconds since 1970).
    public mutating func handle(topic text: String, payload bytes: [UInt8], now: Int64) -> [Action] {
        guard let topic = SparkplugTopic(text), topic.group == configuration.group,
            let node = configuration.nodes[topic.node]
        else { return [] }
        var actions: [Action] = []
        if topic.kind == .ndeath || topic.kind == .ddeath {
            // A death certificate: the broker saw the node (or the device) go. Its seq says nothing then.
            let what = topic.device.map { "device \($0) of edge node \(topic.node)" } ?? "edge node \(topic.node)"
            nodes[topic.node]?.expected = nil
            return [
                .send(
                    .signal(
                        .lost(line: node.line, reason: "Sparkplug: \(what) died (\(topic.kind.rawValue))"),
                        sequence: nil
                    )
                )
            ]
        }
        let payload: SparkplugPayload
        do {
            payload = try SparkplugPayload.decode(bytes)
        } catch {
            return [.warn("\(topic): not a Sparkplug B payload (\(error.reason)); ignored")]
        }
        var state = nodes[topic.node] ?? NodeState()
        let seq = (payload.seq ?? 0) & 0xFF
        if topic.kind == .nbirth {
            state = NodeState(expected: (seq + 1) & 0xFF, wraps: state.wraps, lastRebirth: state.lastRebirth)
            actions.append(.send(.signal(.heartbeat(line: node.line), sequence: nil)))
        } else if let expected = state.expected {
            let last = (expected + 255) & 0xFF
            // The same seq again is a duplicate delivery (QoS 1): it gets the same seq for andond, which answers it
            // as a retransmit. Anything else but the next is a gap: lost messages, ask for the whole state.
            if seq != last {
                if seq != expected {
                    actions.append(.warn("\(topic): seq \(seq) where \(expected) was next: asking for a rebirth"))
                    actions += rebirth(topic.node, state: &state, now: now)
                }
                if seq < last { state.wraps += 1 }
                state.expected = (seq + 1) & 0xFF
            }
        } else {
            // Data from a node whose birth this bridge did not see: its aliases and state are unknown.
            actions += rebirth(topic.node, state: &state, now: now)
            state.expected = (seq + 1) & 0xFF
        }
        if topic.kind == .nbirth || topic.kind == .dbirth {
            for metric in payload.metrics {
                if let alias = metric.alias, let name = metric.name { state.aliases[alias] = name }
            }
        }
        let sequence = epoch << 32 | UInt64(node.index & 0xFF) << 24 | (state.wraps & 0xFFFF) << 8 | seq
        nodes[topic.node] = state
        let station: StationID?
        if let device = topic.device {
            station = StationID(validating: device)
            if station == nil {
                actions.append(.warn("\(topic): device id '\(device)' is not a station name; ignored"))
                return actions
            }
            stations[node.line.rawValue + "/" + device] = topic.node
        } else {
            station = node.station
        }
        for metric in payload.metrics {
            guard let name = metric.name ?? metric.alias.flatMap({ state.aliases[$0] }),
                let mapping = node.metrics[name], let value = metric.boolean
            else { continue }
            switch (mapping.signal, value) {
            case (.andon, _):
                guard let station, let category = mapping.category else {
                    actions.append(.warn("\(topic): \(name) has no station (a device, or the node's station:)"))
                    continue
                }
                let signal: Signal =
                    value
                    ? .andon(line: node.line, station: station, category: category, text: nil)
                    : .clear(line: node.line, station: station, category: category)
                actions.append(.send(.signal(signal, sequence: sequence)))
            case (.stop, true):
                actions.append(
                    .send(
                        .signal(
                            .stop(line: node.line, station: station, reason: "Sparkplug \(name)"),
                            sequence: sequence
                        )
                    )
                )
            case (.stop, false):
                actions.append(.send(.signal(.resume(line: node.line), sequence: sequence)))
            case (.arrived, true):
                guard let station else { continue }
                actions.append(
                    .send(.signal(.arrived(line: node.line, station: station, responder: nil), sequence: sequence))
                )
            case (.arrived, false):
                continue
            }
        }
        return actions
    }

    private func rebirth(_ node: String, state: inout NodeState, now: Int64) -> [Action] {
        guard state.lastRebirth.map({ now - $0 >= Self.rebirthEvery }) ?? true else { return [] }
        state.lastRebirth = now
        let payload = SparkplugPayload(
            timestamp: UInt64(max(0, now)),
            metrics: [
                .init(
                    name: "Node Control/Rebirth",
                    timestamp: UInt64(max(0, now)),
                    datatype: SparkplugPayload.DataType.boolean,
                    value: .boolean(true)
                )
            ]
        )
        let topic = SparkplugTopic(group: configuration.group, kind: .ncmd, node: node)
        return [.publish(topic: topic.description, payload: payload.encoded())]
    }

    /// One line of andond's feedback (`state ...`, from a subscription): a DCMD to the station's device with its
    /// call's state, where the node has a `feedback:` metric. Summaries and other lines give nothing.
    public func feedback(_ line: String, now: Int64) -> [Action] {
        guard case .success(let message) = WireMessage.parse(line), message.verb == FeedbackMessage.verb,
            let lineID = message["line"], let station = message["station"], let state = message["state"]
        else { return [] }
        let candidates = configuration.nodes.filter { $0.value.line.rawValue == lineID && $0.value.feedback != nil }
        let owner = stations[lineID + "/" + station]
        return candidates.keys.sorted().filter { owner == nil || $0 == owner }.compactMap { name in
            guard let metric = candidates[name]?.feedback else { return nil }
            let payload = SparkplugPayload(
                timestamp: UInt64(max(0, now)),
                metrics: [
                    .init(
                        name: metric,
                        timestamp: UInt64(max(0, now)),
                        datatype: SparkplugPayload.DataType.string,
                        value: .string(state)
                    )
                ]
            )
            let topic = SparkplugTopic(group: configuration.group, kind: .dcmd, node: name, device: station)
            return .publish(topic: topic.description, payload: payload.encoded())
        }
    }
}
