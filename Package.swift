// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "andond",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "andonctl", targets: ["andonctl"]),
        .library(name: "AndonCore", targets: ["AndonCore"]),
        .library(name: "AndonConfig", targets: ["AndonConfig"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    ],
    targets: [
        // The pure domain: signals, incidents, rota and shifts, escalation. No I/O, no wall clock.
        .target(
            name: "AndonCore",
            dependencies: [
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
            dependencies: ["CSystemd", .product(name: "DequeModule", package: "swift-collections")]
        ),
        // The wire protocol: parse and render signals, control requests and replies.
        .target(name: "AndonProtocol", dependencies: ["AndonCore"]),
        .executableTarget(
            name: "andonctl",
            dependencies: [
                "AndonCore",
                "AndonConfig",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "AndonCoreTests", dependencies: ["AndonCore"]),
        .testTarget(name: "AndonProtocolTests", dependencies: ["AndonProtocol", "AndonConfig", "AndonCore"]),
        .testTarget(name: "AndonConfigTests", dependencies: ["AndonConfig", "AndonCore"]),
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
