import AndonSparkplug
import AndonTestSupport
import Foundation
import Testing

/// andon-sparkplug against Debian's `mosquitto` on loopback and the built andond: a DDATA published with
/// `mosquitto_pub` raises a call, the false value clears it, the station's device hears its call's state as DCMD, a
/// seq gap sends a rebirth NCMD, an NDEATH opens the line's silent call.
@Suite(.serialized) struct SparkplugBridgeTests {
    /// A process whose standard output and error go to a file, read back as it runs (no pipe handler: spawning
    /// processes while Foundation reads pipes on another thread can hang on Linux).
    final class Running {
        let process = Process()
        let file: String

        init(_ path: String, _ arguments: [String], in directory: URL) throws {
            file = directory.appendingPathComponent("output-\(UUID().uuidString)").path
            guard FileManager.default.createFile(atPath: file, contents: nil) else {
                throw HarnessError("cannot create \(file)")
            }
            process.executableURL = URL(fileURLWithPath: path)
            process.arguments = arguments
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: file))
            process.standardOutput = handle
            process.standardError = handle
            try process.run()
        }

        var output: String { (try? String(contentsOfFile: file, encoding: .utf8)) ?? "" }

        /// Waits (bounded) until the output holds what `until` looks for.
        func wait(seconds: Double = 10, until: (String) -> Bool) -> Bool {
            let deadline = Date().addingTimeInterval(seconds)
            while Date() < deadline {
                if until(output) { return true }
                usleep(50_000)
            }
            return until(output)
        }

        /// SIGKILL: a child spawned from a test thread inherits its blocked signals, SIGTERM among them.
        deinit {
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
            }
        }
    }

    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    @Test func aBridgedControllerRaisesClearsHearsAndDiesAsAController() throws {
        let mosquitto = "/usr/sbin/mosquitto"
        try #require(FileManager.default.isExecutableFile(atPath: mosquitto), "scripts/setup installs mosquitto")
        let daemon = try DaemonHarness()
        let port = try Self.freePort()
        let brokerConfig = daemon.directory.appendingPathComponent("mosquitto.conf").path
        try "listener \(port) 127.0.0.1\nallow_anonymous true\npersistence false\n"
            .write(toFile: brokerConfig, atomically: true, encoding: .utf8)
        let broker = try Running(mosquitto, ["-c", brokerConfig], in: daemon.directory)
        #expect(broker.wait { $0.contains("running") || $0.contains("Opening ipv4 listen socket") })

        let bridgeConfig = daemon.directory.appendingPathComponent("sparkplug.yaml").path
        try """
        broker: "127.0.0.1:\(port)"
        group: PlantNord
        socket: \(daemon.socketPath)
        nodes:
          line-L1-plc:
            line: L1
            metrics:
              Andon/Pulled: { signal: andon, category: maintenance }
              Line/Stopped: { signal: stop }
            feedback: Andon/State
        """.write(toFile: bridgeConfig, atomically: true, encoding: .utf8)
        let subscriber = try Running(
            "/usr/bin/mosquitto_sub",
            [
                "-h", "127.0.0.1", "-p", String(port), "-t", "spBv1.0/PlantNord/NCMD/#", "-t",
                "spBv1.0/PlantNord/DCMD/#",
                "-F", "%t %x",
            ],
            in: daemon.directory
        )
        let bridge = try Running(
            DaemonHarness.buildDirectory.appendingPathComponent("andon-sparkplug").path,
            ["--config", bridgeConfig],
            in: daemon.directory
        )
        #expect(bridge.wait { $0.contains("connected to the broker") }, "\(bridge.output)")
        usleep(300_000)  // mosquitto_sub's subscription, and the bridge's, are in place

        func publish(_ topic: String, _ payload: SparkplugPayload) throws {
            let file = daemon.directory.appendingPathComponent("payload-\(UUID().uuidString)").path
            try Data(payload.encoded()).write(to: URL(fileURLWithPath: file))
            let pub = Process()
            pub.executableURL = URL(fileURLWithPath: "/usr/bin/mosquitto_pub")
            pub.arguments = ["-h", "127.0.0.1", "-p", String(port), "-q", "0", "-t", topic, "-f", file]
            try pub.run()
            pub.waitUntilExit()
            #expect(pub.terminationStatus == 0)
        }
        func openCalls(until: ([[String: Any]]) -> Bool) throws -> [[String: Any]] {
            let deadline = Date().addingTimeInterval(10)
            var calls = try daemon.openIncidents()
            while !until(calls) && Date() < deadline {
                usleep(50_000)
                calls = try daemon.openIncidents()
            }
            return calls
        }
        func pulled(_ value: Bool, seq: UInt64) -> SparkplugPayload {
            SparkplugPayload(
                timestamp: 1,
                metrics: [.init(name: "Andon/Pulled", datatype: 11, value: .boolean(value))],
                seq: seq
            )
        }
        func received(on topic: String) -> [SparkplugPayload] {
            subscriber.output.split(separator: "\n").compactMap { line in
                let parts = line.split(separator: " ")
                guard parts.count == 2, parts[0] == topic else { return nil }
                return try? SparkplugPayload.decode(SparkplugTests.hex(String(parts[1])))
            }
        }

        try publish(
            "spBv1.0/PlantNord/NBIRTH/line-L1-plc",
            SparkplugPayload(
                timestamp: 1,
                metrics: [.init(name: "bdSeq", datatype: 8, value: .integer(0))],
                seq: 0
            )
        )
        try publish("spBv1.0/PlantNord/DBIRTH/line-L1-plc/S3", pulled(false, seq: 1))
        try publish("spBv1.0/PlantNord/DDATA/line-L1-plc/S3", pulled(true, seq: 2))
        let raised = try openCalls { !$0.isEmpty }
        #expect(raised.count == 1)
        #expect(raised.first?["station"] as? String == "S3" && raised.first?["category"] as? String == "maintenance")
        let dcmd = "spBv1.0/PlantNord/DCMD/line-L1-plc/S3"
        #expect(subscriber.wait { _ in received(on: dcmd).contains { $0.metrics.first?.value == .string("open") } })
        #expect(received(on: dcmd).first?.metrics.first?.name == "Andon/State")

        try publish("spBv1.0/PlantNord/DDATA/line-L1-plc/S3", pulled(false, seq: 3))
        #expect(try openCalls { $0.isEmpty }.isEmpty)
        #expect(subscriber.wait { _ in received(on: dcmd).contains { $0.metrics.first?.value == .string("over") } })

        // seq 9 after 3: six messages lost. The node is asked for a rebirth.
        let ncmd = "spBv1.0/PlantNord/NCMD/line-L1-plc"
        try publish("spBv1.0/PlantNord/DDATA/line-L1-plc/S3", pulled(false, seq: 9))
        #expect(subscriber.wait { _ in !received(on: ncmd).isEmpty }, "\(subscriber.output)")
        let rebirth = try #require(received(on: ncmd).first?.metrics.first)
        #expect(rebirth.name == "Node Control/Rebirth" && rebirth.boolean == true)

        // The node dies: its death certificate opens the line's silent call.
        try publish(
            "spBv1.0/PlantNord/NDEATH/line-L1-plc",
            SparkplugPayload(metrics: [.init(name: "bdSeq", value: .integer(0))])
        )
        let silent = try openCalls { $0.contains { $0["kind"] as? String == "silent" } }
        #expect(silent.contains { $0["kind"] as? String == "silent" && $0["line"] as? String == "L1" })
        // Born again: the controller is heard, the silent call ends.
        try publish("spBv1.0/PlantNord/NBIRTH/line-L1-plc", SparkplugPayload(metrics: [], seq: 0))
        #expect(try openCalls { $0.isEmpty }.isEmpty)
        #expect(bridge.process.isRunning)
    }
}

enum SparkplugTests {
    static func hex(_ text: String) -> [UInt8] {
        var bytes: [UInt8] = []
        var index = text.startIndex
        while text.distance(from: index, to: text.endIndex) >= 2 {
            let next = text.index(index, offsetBy: 2)
            guard let byte = UInt8(text[index..<next], radix: 16) else { return [] }
            bytes.append(byte)
            index = next
        }
        return bytes
    }
}
