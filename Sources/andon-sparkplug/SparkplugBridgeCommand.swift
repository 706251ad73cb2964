import AndonControl
import AndonCore
import AndonProtocol
import AndonSparkplug
import ArgumentParser
import Foundation
import Glibc
import Synchronization

/// andon-sparkplug: line controllers that publish Sparkplug B over MQTT, as andond's controllers. Each mapped metric
/// becomes a signal over andond's UNIX socket (in order, each resent until andond takes it), a gap in a node's seq asks
/// it for a rebirth, a death certificate opens the line's silent call, and andond's feedback goes back as DCMD.
@main
struct SparkplugBridgeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "andon-sparkplug",
        abstract: "Bridge Sparkplug B line controllers (MQTT) to andond.",
        discussion: "The configuration names the broker, the Sparkplug group and, per edge node, its line and "
            + "metrics (etc/andond/sparkplug.yaml). Runs in the foreground; SIGTERM stops it."
    )

    @Option(help: "The bridge's configuration.") var config = "/etc/andond/sparkplug.yaml"
    @Option(help: "andond's socket (default: the configuration's socket:, $ANDOND_SOCKET, /run/andond.sock).")
    var socket: String?
    @Flag(help: "Check the configuration and exit.") var check = false

    func run() throws {
        let text: String
        do {
            text = try String(contentsOfFile: config, encoding: .utf8)
        } catch {
            printError("andon-sparkplug: cannot read \(config): \(error.localizedDescription)")
            throw ExitCode(66)
        }
        let configuration: BridgeConfiguration
        do {
            configuration = try BridgeConfiguration.parse(text)
        } catch {
            for problem in error.problems { printError("\(config): \(problem)") }
            throw ExitCode(65)
        }
        if check {
            print("\(config): \(configuration.nodes.count) edge node(s) of group \(configuration.group)")
            return
        }
        let path = socket ?? configuration.socket ?? ProcessInfo.processInfo.environment["ANDOND_SOCKET"]
        let bridge = try Bridge(configuration: configuration, socket: ControlClient(path: path).path)
        try bridge.start()
        let stop = DispatchSemaphore(value: 0)
        var sources: [any DispatchSourceSignal] = []
        for number in [SIGTERM, SIGINT] {
            Glibc.signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number)
            source.setEventHandler { stop.signal() }
            source.resume()
            sources.append(source)
        }
        stop.wait()
        bridge.stop()
        _ = sources
    }
}

func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}

/// The bridge: the MQTT client's thread hands each message to the core (under its lock), signals go to andond on a
/// serial queue (in order; a signal andond cannot take now is resent, with backoff, until it is taken), and a thread
/// reads andond's feedback subscription and publishes it.
final class Bridge: @unchecked Sendable {
    private let configuration: BridgeConfiguration
    private let socket: String
    private let core: Mutex<BridgeCore>
    private var mqtt: MQTTClient!
    private let andond = DispatchQueue(label: "andon-sparkplug.andond")
    private let stopping = Atomic<Bool>(false)
    private let feedbackFD = Atomic<Int32>(-1)

    init(configuration: BridgeConfiguration, socket: String) throws {
        self.configuration = configuration
        self.socket = socket
        core = Mutex(BridgeCore(configuration: configuration, startedAt: UInt64(Date().timeIntervalSince1970)))
        mqtt = try MQTTClient(clientID: configuration.clientID) { [weak self] code in
            self?.connected(code)
        } onMessage: { [weak self] topic, payload in
            self?.received(topic, payload)
        }
    }

    func start() throws {
        try mqtt.start(host: configuration.brokerHost, port: configuration.brokerPort)
        let thread = Thread { [weak self] in self?.followFeedback() }
        thread.name = "andon-sparkplug-feedback"
        thread.start()
        printError(
            "andon-sparkplug: group \(configuration.group), \(configuration.nodes.count) edge node(s), broker "
                + "\(configuration.brokerHost):\(configuration.brokerPort), andond at \(socket)"
        )
    }

    func stop() {
        stopping.store(true, ordering: .relaxed)
        let fd = feedbackFD.exchange(-1, ordering: .relaxed)
        if fd >= 0 { shutdown(fd, Int32(SHUT_RDWR)) }
        mqtt.stop()
        andond.sync {}
    }

    private func connected(_ code: Int32) {
        guard code == 0 else {
            printError("andon-sparkplug: the broker refused the connection (code \(code)); retrying")
            return
        }
        for topic in configuration.subscriptions where mqtt.subscribe(topic) != 0 {
            printError("andon-sparkplug: cannot subscribe to \(topic)")
        }
        printError("andon-sparkplug: connected to the broker, subscribed to \(configuration.group)'s nodes and devices")
    }

    private func received(_ topic: String, _ payload: [UInt8]) {
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let actions = core.withLock { $0.handle(topic: topic, payload: payload, now: now) }
        perform(actions)
    }

    private func perform(_ actions: [BridgeCore.Action]) {
        for action in actions {
            switch action {
            case .send(let request):
                andond.async { [self] in deliver(request) }
            case .publish(let topic, let payload):
                let code = mqtt.publish(topic, payload)
                if code != 0 { printError("andon-sparkplug: cannot publish to \(topic) (code \(code))") }
            case .warn(let text):
                printError("andon-sparkplug: \(text)")
            }
        }
    }

    /// Sends one signal until andond takes it (or refuses it: a refusal is final and logged).
    private func deliver(_ request: Request) {
        var delay: UInt32 = 200_000
        while !stopping.load(ordering: .relaxed) {
            do {
                let reply = try ControlClient(path: socket).send(request)
                if case .error(let error) = reply {
                    if error.code == .storageFailing || error.code == .unavailable {
                        usleep(delay)
                        delay = min(delay * 2, 5_000_000)
                        continue
                    }
                    printError(
                        "andon-sparkplug: andond refused \(request.message.rendered): \(error.reason) [\(error.code)]"
                    )
                }
                return
            } catch {
                printError("andon-sparkplug: \(error); resending \(request.message.rendered)")
                usleep(delay)
                delay = min(delay * 2, 5_000_000)
            }
        }
    }

    /// andond's feedback: one subscription per line of the configured nodes, on one connection, reconnected after a
    /// second when andond restarts.
    private func followFeedback() {
        let lines = Set(configuration.nodes.values.filter { $0.feedback != nil }.map(\.line)).sorted()
        guard !lines.isEmpty else { return }
        // Said once per outage, not once a second.
        var failing = false
        while !stopping.load(ordering: .relaxed) {
            do {
                var client = ControlClient(path: socket)
                client.timeout = .seconds(3600)
                let fd = try ControlClient.connect(path: socket, timeout: .seconds(3600))
                feedbackFD.store(fd, ordering: .relaxed)
                for line in lines { try ControlClient.write(.subscribe(line: line), to: fd, path: socket) }
                if failing { printError("andon-sparkplug: feedback: subscribed to andond again") }
                failing = false
                var pending: [UInt8] = []
                var buffer = [UInt8](repeating: 0, count: 16_384)
                while !stopping.load(ordering: .relaxed) {
                    let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                    if count <= 0 { break }
                    pending += buffer[..<count]
                    while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                        let line = String(decoding: pending[..<newline], as: UTF8.self)
                        pending.removeSubrange(...newline)
                        let now = Int64(Date().timeIntervalSince1970 * 1000)
                        perform(core.withLock { $0.feedback(line, now: now) })
                    }
                }
                close(fd)
                feedbackFD.store(-1, ordering: .relaxed)
                _ = client
            } catch {
                if !failing { printError("andon-sparkplug: feedback: \(error); trying again every second") }
                failing = true
            }
            if !stopping.load(ordering: .relaxed) { sleep(1) }
        }
    }
}
