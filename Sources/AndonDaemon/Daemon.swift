import AndonConfig
import AndonCore
import AndonProtocol
import AndonStore
import AndonSystemd
import Foundation
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import UnixSignals

/// How andond was started.
public struct DaemonOptions: Sendable {
    public var configPath: String
    /// Overrides the configuration's `listen.udp` when given.
    public var udp: [String]?
    /// Overrides the configuration's `listen.socket` when given.
    public var socket: String?
    /// Overrides the configuration's `listen.http` when given.
    public var http: [String]?
    /// Where andond keeps its small state (the incident counter).
    public var stateDirectory: String?
    /// Also print each journal entry readably to standard error (in the foreground on a terminal).
    public var echo: Bool
    /// While the state cannot be written, at most this many inputs wait in memory; then signals are refused.
    public var maxWaitingInputs: Int

    public init(
        configPath: String,
        udp: [String]? = nil,
        socket: String? = nil,
        http: [String]? = nil,
        stateDirectory: String? = nil,
        echo: Bool = false,
        maxWaitingInputs: Int = 10_000
    ) {
        self.configPath = configPath
        self.udp = udp
        self.socket = socket
        self.http = http
        self.stateDirectory = stateDirectory
        self.echo = echo
        self.maxWaitingInputs = maxWaitingInputs
    }
}

/// andond: loads the configuration, binds its sockets, runs its services until SIGTERM or SIGINT, then flushes the
/// journal and exits.
public enum Daemon {
    /// Runs andond; returns the process exit status.
    public static func run(_ options: DaemonOptions) async -> Int32 {
        tuneMalloc()
        let journal = JournalWriter()
        journal.echo = options.echo
        journal.start()
        var logger = Logger(label: "andond") { _ in JournalLogHandler(journal: journal) }
        logger.logLevel = .info
        let notifier = Notifier()

        let clock = SystemClock()
        var configuration: Configuration
        do {
            // A KPO gap ahead never stops andond from starting: the open calls on disk must be followed. It is a
            // crit entry and in STATUS= (the coverage check right after the state is open).
            configuration = try ConfigurationLoader.load(
                path: options.configPath,
                now: clock.now,
                kpoGaps: .leaveToCaller
            )
            try configuration.loadKeys()
        } catch {
            for diagnostic in error.diagnostics {
                FileHandle.standardError.write(Data((diagnostic.description + "\n").utf8))
            }
            journal.submit(
                .daemon(
                    "andond cannot start: \(error.errors.count) error(s) in \(options.configPath); the first: "
                        + (error.errors.first?.description ?? "?"),
                    priority: .error
                )
            )
            await journal.shutdown()
            return 1
        }
        for warning in configuration.warnings {
            journal.submit(
                .daemon(
                    "configuration warning: \(warning)",
                    priority: .warning,
                    id: MessageID.configurationWarning,
                    fields: [(.configuration, options.configPath)]
                )
            )
        }

        let group = MultiThreadedEventLoopGroup.singleton
        let stateDirectory =
            options.stateDirectory ?? ProcessInfo.processInfo.environment["STATE_DIRECTORY"] ?? "/var/lib/andond"
        let timer = EventLoopTimer(loop: group.next())
        var stageOptions = Stages.Options()
        stageOptions.maxWaitingInputs = options.maxWaitingInputs
        let stages: Stages
        switch Stages.open(
            in: stateDirectory,
            configuration: configuration,
            clock: clock,
            journal: journal,
            timer: timer,
            options: stageOptions
        ) {
        case .success(let opened):
            stages = opened
            stages.committer.start()
            stages.notifications.start()
            returnFreedMemory()  // what reading and replaying the state needed
        case .failure(let error):
            FileHandle.standardError.write(Data("andond: \(error.message)\n".utf8))
            journal.submit(
                .daemon("andond cannot start: \(error.message)", priority: .error, id: MessageID.stateRefused)
            )
            await journal.shutdown()
            return 1
        }
        let (signals, escalation, committer) = (stages.signals, stages.escalation, stages.committer)
        let udpAddresses = options.udp ?? configuration.listen.udp
        let socketPath = options.socket ?? configuration.listen.socket
        let httpAddresses = options.http ?? configuration.listen.http
        let web = WebFace(signals: signals, metrics: stages.metrics, live: stages.live)
        var services: [any Service] = [
            JournalService(journal: journal), CommitService(committer: committer),
            TimerService(escalation: escalation), CoverageService(coverage: stages.coverage, escalation: escalation),
            NotifyService(notifications: stages.notifications),
        ]
        var listening: [String] = []
        do {
            let inherited = ListenFDs.take()
            if inherited.isEmpty {
                let unix = try await UnixListener.bind(
                    path: socketPath,
                    group: group,
                    signals: signals,
                    logger: logger
                )
                secure(socket: socketPath, settings: configuration.listen, journal: journal)
                services.append(unix)
                listening.append("unix \(socketPath)")
                for address in udpAddresses {
                    let udp = try UDPListener.bind(address, signals: signals)
                    services.append(udp)
                    listening.append("udp \(udp.address)")
                }
                if !httpAddresses.isEmpty {
                    let http = try await HTTPListener.bind(
                        addresses: httpAddresses,
                        group: group,
                        face: web
                    )
                    services.append(http)
                    listening += http.addresses.map { "http \($0)" }
                }
            } else {
                // Socket activation: the service manager's sockets replace the configuration's listen: section.
                for socket in inherited {
                    switch socket.kind {
                    case .unixStream(let path):
                        let unix = try await UnixListener.bind(
                            path: path ?? socketPath,
                            descriptor: socket.descriptor,
                            group: group,
                            signals: signals,
                            logger: logger
                        )
                        services.append(unix)
                        listening.append("unix \(path ?? "?") (from systemd)")
                    case .datagram:
                        let udp = try UDPListener.bind(
                            "fd \(socket.descriptor)",
                            descriptor: socket.descriptor,
                            signals: signals
                        )
                        services.append(udp)
                        listening.append("udp \(udp.address) (from systemd)")
                    case .stream where socket.name == "http":
                        let http = try await HTTPListener.bind(
                            addresses: [],
                            descriptor: socket.descriptor,
                            group: group,
                            face: web
                        )
                        services.append(http)
                        listening += http.addresses.map { "http \($0) (from systemd)" }
                    case .stream, .other:
                        journal.submit(
                            .daemon(
                                "ignoring inherited socket \(socket.name) (fd \(socket.descriptor)): andond takes a UNIX stream "
                                    + "socket, UDP sockets and a TCP socket named http (FileDescriptorName=http)",
                                priority: .warning
                            )
                        )
                    }
                }
            }
        } catch {
            FileHandle.standardError.write(Data("andond: \(error)\n".utf8))
            journal.submit(.daemon("andond cannot start: \(error)", priority: .error))
            escalation.stop()
            await stages.notifications.finish()
            await committer.finish()
            await journal.shutdown()
            return 1
        }

        if !services.contains(where: { $0 is UnixListener }) {
            // Socket activation by andond-http.socket alone: the service manager's sockets replace listen:.
            journal.submit(
                .daemon(
                    "systemd passed no UNIX socket: andonctl and local controllers cannot reach andond until "
                        + "andond.socket is enabled too (systemctl enable --now andond.socket)",
                    priority: .warning,
                    id: MessageID.socketSetup
                )
            )
        }
        signals.setUDPAddresses(services.compactMap { ($0 as? UDPListener)?.address })
        signals.feedback.attach(
            UDPFeedbackTransport(descriptors: services.compactMap { ($0 as? UDPListener)?.descriptor })
        )
        signals.feedback.start(timer: EventLoopTimer(loop: group.next())) { [escalation] in escalation.engine }
        signals.setHTTPAddresses(services.compactMap { $0 as? HTTPListener }.flatMap(\.addresses))
        escalation.start()
        let plant = configuration.plant
        let summary =
            "\(plant.lines.count) lines, \(plant.rotas.count) rotas; listening on \(listening.joined(separator: ", "))"
        journal.submit(
            .daemon(
                "andond \(andondVersion) started for \(plant.name): \(summary)",
                priority: .notice,
                id: MessageID.started,
                fields: [(.configuration, configuration.file)]
            )
        )
        services.append(
            SystemdService(
                board: stages.board,
                escalation: escalation,
                timer: timer,
                reload: signals.reload,
                notifier: notifier,
                group: group
            )
        )
        services.append(LifecycleService(journal: journal, notifier: notifier, board: stages.board))

        let serviceGroup = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: services.map { ServiceGroupConfiguration.ServiceConfiguration(service: $0) },
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        do {
            try await serviceGroup.run()
            return 0
        } catch {
            FileHandle.standardError.write(Data("andond: \(error)\n".utf8))
            await journal.shutdown()
            return 1
        }
    }

    /// Sets the socket's mode and group as configured (when andond bound it itself).
    private static func secure(socket path: String, settings: ListenSettings, journal: JournalWriter) {
        if chmod(path, mode_t(settings.socketMode)) != 0 {
            journal.submit(
                .daemon(
                    "cannot set mode of \(path): \(String(cString: strerror(errno)))",
                    priority: .warning,
                    id: MessageID.socketSetup
                )
            )
        }
        guard let name = settings.socketGroup else { return }
        guard let group = getgrnam(name) else {
            journal.submit(
                .daemon(
                    "socket group \(name) does not exist; \(path) keeps its default group, so only its owner may connect "
                        + "(create the group, or set listen.socket_group)",
                    priority: .warning,
                    id: MessageID.socketSetup
                )
            )
            return
        }
        if chown(path, uid_t.max, group.pointee.gr_gid) != 0 {
            journal.submit(
                .daemon(
                    "cannot set group of \(path): \(String(cString: strerror(errno)))",
                    priority: .warning,
                    id: MessageID.socketSetup
                )
            )
        }
    }
}

/// Sends READY=1 once every other service runs, and STOPPING=1 when shutdown begins. Shuts down first.
struct LifecycleService: Service {
    let journal: JournalWriter
    let notifier: Notifier
    let board: StatusBoard

    func run() async throws {
        notifier.ready(status: board.publish().line)
        try? await gracefulShutdown()
        notifier.stopping(status: "Stopping")
        journal.submit(.daemon("andond stopping", priority: .notice, id: MessageID.stopping))
    }
}

/// The one timer: armed by the escalation stage for the engine's next deadline; cancelled at shutdown, with a last
/// snapshot asked for.
struct TimerService: Service {
    let escalation: EscalationService

    func run() async throws {
        try? await gracefulShutdown()
        escalation.stop()
    }
}

/// The notification stage's thread (claims that wait, retries that fall due); at shutdown, waiting claims are
/// answered empty.
struct NotifyService: Service {
    let notifications: DeliveryService

    func run() async throws {
        try? await gracefulShutdown()
        await notifications.finish()
    }
}

/// The commit thread; at shutdown (after the timer stopped) it writes what is pending and records a clean stop.
struct CommitService: Service {
    let committer: Committer

    func run() async throws {
        try? await gracefulShutdown()
        await committer.finish()
    }
}

/// The journal writer's thread; at shutdown (last of all) it writes everything queued, then ends.
struct JournalService: Service {
    let journal: JournalWriter

    func run() async throws {
        try? await gracefulShutdown()
        await journal.shutdown()
    }
}
