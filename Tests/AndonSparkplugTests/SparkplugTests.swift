import AndonCore
import AndonProtocol
import AndonSparkplug
import Testing

/// The bridge's logic on values: the shared payload vector, topics, the configuration, what each message becomes,
/// a seq gap's rebirth, andond's feedback as DCMD.
@Suite struct SparkplugTests {
    static let yaml = """
        broker: "127.0.0.1:1883"
        group: PlantNord
        nodes:
          line-L1-plc:
            line: L1
            metrics:
              Andon/Pulled: { signal: andon, category: maintenance }
              Line/Stopped: { signal: stop }
            feedback: Andon/State
        """

    static func hex(_ text: String) -> [UInt8] {
        var bytes: [UInt8] = []
        var index = text.startIndex
        while index < text.endIndex {
            let next = text.index(index, offsetBy: 2)
            bytes.append(UInt8(text[index..<next], radix: 16)!)
            index = next
        }
        return bytes
    }

    /// integrations.md: a DDATA with `Andon/Pulled` = true and seq 7.
    static let vector = hex("08b8a3b6f4a33412190a0c416e646f6e2f50756c6c656418b8a3b6f4a334200b70011807")

    @Test func theSharedVectorDecodes() throws {
        let payload = try SparkplugPayload.decode(Self.vector)
        #expect(payload.seq == 7 && payload.timestamp == 1_796_345_795_000)
        #expect(payload.metrics.count == 1)
        let metric = try #require(payload.metrics.first)
        #expect(metric.name == "Andon/Pulled" && metric.datatype == 11 && metric.boolean == true)
        #expect(try SparkplugPayload.decode(payload.encoded()) == payload)
    }

    @Test func malformedPayloadsAreErrorsNotCrashes() {
        for bytes: [UInt8] in [
            [0x08], [0x12, 0x05, 0x0a], [0x0b], [0x12, 0xff, 0xff, 0xff, 0xff, 0x0f], Array(repeating: 0xff, count: 12),
            [0x00],
        ] {
            #expect(throws: ProtobufError.self) { try SparkplugPayload.decode(bytes) }
        }
        #expect((try? SparkplugPayload.decode([])) == SparkplugPayload())
    }

    @Test func topicsParseAndPrint() {
        let topic = SparkplugTopic("spBv1.0/PlantNord/DDATA/line-L1-plc/S3")
        #expect(topic == SparkplugTopic(group: "PlantNord", kind: .ddata, node: "line-L1-plc", device: "S3"))
        #expect(topic?.description == "spBv1.0/PlantNord/DDATA/line-L1-plc/S3")
        #expect(SparkplugTopic("spBv1.0/PlantNord/NDATA/line-L1-plc") != nil)
        for bad in [
            "spBv1.0/G/NDATA/n/d", "spBv1.0/G/DDATA/n", "spAv1.0/G/NDATA/n", "spBv1.0/G/STATE/n", "spBv1.0//NDATA/n",
        ] {
            #expect(SparkplugTopic(bad) == nil, "\(bad)")
        }
    }

    @Test func theConfigurationIsCheckedWhole() throws {
        let configuration = try BridgeConfiguration.parse(Self.yaml)
        #expect(configuration.brokerPort == 1883 && configuration.group == "PlantNord")
        #expect(configuration.subscriptions.contains("spBv1.0/PlantNord/DDATA/+/+"))
        #expect(throws: BridgeConfiguration.Invalid.self) {
            try BridgeConfiguration.parse(
                "group: G\nnodes: { n: { line: L1, metrics: { A: { signal: andon } } } }\nextra: 1"
            )
        }
    }

    @Test func dataBecomesSignalsWithTheNodesSeqAndAGapAsksForARebirth() throws {
        var core = BridgeCore(configuration: try BridgeConfiguration.parse(Self.yaml), startedAt: 1)
        let birth = SparkplugPayload(
            timestamp: 1,
            metrics: [.init(name: "Andon/Pulled", alias: 4, datatype: 11, value: .boolean(false))],
            seq: 0
        )
        let born = core.handle(topic: "spBv1.0/PlantNord/NBIRTH/line-L1-plc", payload: birth.encoded(), now: 0)
        #expect(born.first == .send(.signal(.heartbeat(line: "L1"), sequence: nil)))
        // A device's data by alias: the device is the station.
        let pulled = SparkplugPayload(metrics: [.init(alias: 4, value: .boolean(true))], seq: 1)
        let actions = core.handle(topic: "spBv1.0/PlantNord/DDATA/line-L1-plc/S3", payload: pulled.encoded(), now: 1)
        guard case .send(.signal(.andon(let line, let station, let category, _), let sequence, _)) = actions.first
        else {
            Issue.record("no andon: \(actions)")
            return
        }
        #expect(line == "L1" && station == "S3" && category == .maintenance)
        #expect(sequence.map { $0 & 0xFF } == 1 && sequence.map { $0 >> 32 } == 1)
        // The same message again (a duplicate delivery) gets the same seq for andond, and no rebirth.
        let again = core.handle(topic: "spBv1.0/PlantNord/DDATA/line-L1-plc/S3", payload: pulled.encoded(), now: 2)
        #expect(again == actions)
        let released = SparkplugPayload(metrics: [.init(name: "Andon/Pulled", value: .boolean(false))], seq: 2)
        #expect(
            core.handle(topic: "spBv1.0/PlantNord/DDATA/line-L1-plc/S3", payload: released.encoded(), now: 3).first
                == .send(.signal(.clear(line: "L1", station: "S3", category: .maintenance), sequence: 1 << 32 | 2))
        )
        // seq 5 after 2: messages were lost. A rebirth is asked for (NCMD), and the data still counts.
        let gap = SparkplugPayload(metrics: [.init(name: "Line/Stopped", value: .boolean(true))], seq: 5)
        let gapped = core.handle(topic: "spBv1.0/PlantNord/NDATA/line-L1-plc", payload: gap.encoded(), now: 4)
        let ncmd = gapped.compactMap { action -> [UInt8]? in
            if case .publish(let topic, let payload) = action, topic == "spBv1.0/PlantNord/NCMD/line-L1-plc" {
                return payload
            }
            return nil
        }
        #expect(ncmd.count == 1)
        let rebirth = try SparkplugPayload.decode(try #require(ncmd.first))
        #expect(rebirth.metrics.first?.name == "Node Control/Rebirth" && rebirth.metrics.first?.boolean == true)
        #expect(
            gapped.contains(
                .send(.signal(.stop(line: "L1", station: nil, reason: "Sparkplug Line/Stopped"), sequence: 1 << 32 | 5))
            )
        )
        // A death certificate opens the line's silent call.
        #expect(
            core.handle(topic: "spBv1.0/PlantNord/NDEATH/line-L1-plc", payload: [], now: 5)
                == [
                    .send(
                        .signal(
                            .lost(line: "L1", reason: "Sparkplug: edge node line-L1-plc died (NDEATH)"),
                            sequence: nil
                        )
                    )
                ]
        )
        // Other groups and unknown nodes are not ours.
        #expect(core.handle(topic: "spBv1.0/Other/NDEATH/line-L1-plc", payload: [], now: 6).isEmpty)
    }

    @Test func andondsFeedbackGoesToTheStationsDeviceAsADCMD() throws {
        var core = BridgeCore(configuration: try BridgeConfiguration.parse(Self.yaml), startedAt: 1)
        _ = core.handle(
            topic: "spBv1.0/PlantNord/DDATA/line-L1-plc/S3",
            payload: SparkplugPayload(metrics: [], seq: 0).encoded(),
            now: 0
        )
        let actions = core.feedback(
            "state line=L1 station=S3 incident=7 kind=andon category=maintenance state=acknowledged event=acknowledged "
                + "tier=team-leader tier_number=1/3 by=anna age=4 ts=1796032800",
            now: 9
        )
        guard case .publish(let topic, let bytes) = actions.first else {
            Issue.record("no DCMD")
            return
        }
        #expect(topic == "spBv1.0/PlantNord/DCMD/line-L1-plc/S3")
        let payload = try SparkplugPayload.decode(bytes)
        #expect(payload.metrics.first?.name == "Andon/State" && payload.metrics.first?.value == .string("acknowledged"))
        #expect(core.feedback("state line=L1 calls=0 incidents=- ts=1", now: 9).isEmpty)
        #expect(core.feedback("state line=L2 station=S3 incident=1 state=open ts=1", now: 9).isEmpty)
    }
}
