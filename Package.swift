// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "andond",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "andond", targets: ["andond"]),
        .executable(name: "andonctl", targets: ["andonctl"]),
        .executable(name: "andon-notify", targets: ["andon-notify"]),
        .executable(name: "andon-sparkplug", targets: ["andon-sparkplug"]),
        .library(name: "AndonCore", targets: ["AndonCore"]),
        .library(name: "AndonConfig", targets: ["AndonConfig"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        // The pure domain: signals, incidents, rota and shifts, escalation. No I/O, no wall clock.
        .target(
            name: "AndonCore",
            dependencies: [
                .product(name: "HashTreeCollections", package: "swift-collections"),
                .product(name: "HeapModule", package: "swift-collections"),
                .product(name: "OrderedCollections", package: "swift-collections"),
            ]
        ),
        // The configuration file: YAML to validated core types, with positioned diagnostics.
        .target(
            name: "AndonConfig",
            dependencies: [
                "AndonCore",
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        // libsystemd: the journal and sd-daemon (notify, listen fds).
        .systemLibrary(name: "CSystemd", pkgConfig: "libsystemd", providers: [.apt(["libsystemd-dev"])]),
        // The only code that sees C: journal writer, notifier, listen-fd adoption.
        .target(
            name: "AndonSystemd",
            dependencies: ["CSystemd", "AndonProtocol", .product(name: "DequeModule", package: "swift-collections")]
        ),
        // Durable state: the input log, engine snapshots and the journal outbox in SQLite (GRDB); the state lock.
        // What a replay of the log needs too: the stored form of the engine's inputs and of its state.
        .target(
            name: "AndonStore",
            dependencies: [
                "AndonCore", "AndonConfig", "AndonProtocol", .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        // The daemon's services: ingest (UDP, UNIX), control, the one timer, the journal, the web face (board, events,
        // metrics, acknowledge links); thin shells on the core.
        .target(
            name: "AndonDaemon",
            dependencies: [
                "AndonCore", "AndonConfig", "AndonProtocol", "AndonSystemd", "AndonStore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "andond",
            dependencies: ["AndonDaemon", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        // The wire protocol: parse and render signals, control requests and replies; signed messages (HMAC-SHA256).
        .target(name: "AndonProtocol", dependencies: ["AndonCore", .product(name: "Crypto", package: "swift-crypto")]),
        // andonctl's client side: the socket client and the human output.
        .target(name: "AndonControl", dependencies: ["AndonCore", "AndonConfig", "AndonProtocol", "AndonStore"]),
        .executableTarget(
            name: "andonctl",
            dependencies: [
                "AndonCore",
                "AndonConfig",
                "AndonControl",
                "AndonProtocol",
                "AndonStore",
                "AndonSystemd",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // andon-notify: claims deliveries from andond, renders them with the channel's template and sends them.
        .target(
            name: "AndonNotify",
            dependencies: [
                "AndonCore", "AndonConfig", "AndonProtocol", "AndonControl",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        .executableTarget(
            name: "andon-notify",
            dependencies: [
                "AndonNotify", "AndonConfig", .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // libmosquitto (Debian's libmosquitto-dev): the MQTT client of the Sparkplug B bridge.
        .systemLibrary(name: "CMosquitto", pkgConfig: "libmosquitto", providers: [.apt(["libmosquitto-dev"])]),
        // Sparkplug B to andond, on values: the payload's protobuf, topics, the bridge's configuration, what each
        // message becomes (signals, rebirth requests) and andond's feedback as DCMD.
        .target(
            name: "AndonSparkplug",
            dependencies: ["AndonCore", "AndonProtocol", .product(name: "Yams", package: "Yams")]
        ),
        // andon-sparkplug: the bridge, libmosquitto on its own thread, andond over its UNIX socket.
        .executableTarget(
            name: "andon-sparkplug",
            dependencies: [
                "AndonSparkplug", "CMosquitto", "AndonControl", "AndonCore", "AndonProtocol",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // libFuzzer targets (scripts/fuzz builds it with --sanitize=fuzzer; a plain build makes a no-op binary).
        .executableTarget(
            name: "andon-fuzz",
            dependencies: ["AndonConfig", "AndonCore", "AndonProtocol", "AndonSparkplug"]
        ),
        .testTarget(name: "AndonCoreTests", dependencies: ["AndonCore", "AndonTestSupport"]),
        // Shared by the test targets: the protocol vectors (a copy of the shared set, kept in the project).
        // Also the manual clock, the plant fixture and a recording journal sink.
        .target(
            name: "AndonTestSupport",
            dependencies: ["AndonCore", "AndonProtocol", "AndonSystemd"],
            path: "Tests/AndonTestSupport",
            exclude: ["Fixtures"]
        ),
        .testTarget(
            name: "AndonProtocolTests",
            dependencies: ["AndonProtocol", "AndonConfig", "AndonCore", "AndonTestSupport"]
        ),
        .testTarget(name: "AndonConfigTests", dependencies: ["AndonConfig", "AndonCore"]),
        // The report's figures from synthetic journal entries (the daemon suite checks them on andond's own).
        .testTarget(
            name: "AndonControlTests",
            dependencies: [
                "AndonControl", "AndonConfig", "AndonCore", "AndonProtocol", "AndonStore", "AndonTestSupport",
            ]
        ),
        .testTarget(
            name: "AndonStoreTests",
            dependencies: ["AndonStore", "AndonCore", "AndonConfig", "AndonProtocol", "AndonTestSupport"]
        ),
        // The built andond and andonctl with real sockets and the real journal.
        .testTarget(
            name: "AndonDaemonTests",
            dependencies: [
                "andond", "andonctl", "andon-notify", "andon-sparkplug", "AndonSparkplug", "AndonTestSupport",
                "AndonSystemd", "AndonDaemon",
                "AndonProtocol",
                "AndonCore",
                "AndonControl", "AndonConfig",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        // The simulated plant: andond's stages in-process on a manual clock, with the real store on a temp directory and a
        // recording journal, through a generated plant week that checks every promise after every step.
        .target(
            name: "AndonSimulation",
            dependencies: [
                "AndonDaemon", "AndonTestSupport", "AndonCore", "AndonConfig", "AndonProtocol", "AndonStore",
                "AndonSystemd",
            ],
            path: "Tests/AndonSimulation"
        ),
        // scripts/simulate: seeded plant weeks, release build (a simulated week takes seconds, not minutes).
        .executableTarget(name: "andon-simulate", dependencies: ["AndonSimulation"], path: "Tests/andon-simulate"),
        // Each stage's tests in-process under the manual clock, and a few simulated days.
        .testTarget(
            name: "AndonStageTests",
            dependencies: [
                "AndonDaemon", "AndonSimulation", "AndonTestSupport", "AndonCore", "AndonConfig", "AndonProtocol",
                "AndonStore", "AndonSystemd",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        // andon-notify's bodies, signatures and the meaning of an HTTP answer, in-process.
        .testTarget(
            name: "AndonNotifyTests",
            dependencies: [
                "AndonNotify", "AndonConfig", "AndonCore", "AndonProtocol",
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // The Sparkplug B bridge's logic: payloads (the shared vector), topics, mapping, seq gaps, feedback.
        .testTarget(
            name: "AndonSparkplugTests",
            dependencies: ["AndonSparkplug", "AndonCore", "AndonProtocol"]
        ),
        // Runs the built andonctl binary, as a plant admin would.
        .testTarget(name: "AndonCtlTests", dependencies: ["andonctl"]),
    ]
)

for target in package.targets where target.type != .system {
    var settings = target.swiftSettings ?? []
    settings.append(.enableUpcomingFeature("ExistentialAny"))
    settings.append(.enableUpcomingFeature("MemberImportVisibility"))
    target.swiftSettings = settings
}
