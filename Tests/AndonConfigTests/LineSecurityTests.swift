import AndonConfig
import AndonCore
import Foundation
import Testing

/// `senders:`, `key_file:` and `signing:`: parsed at their positions; keys read only when asked.
@Suite struct LineSecurityTests {
    static func text(_ line: String, signing: String = "") -> String {
        ConfigurationTests.base.replacingOccurrences(of: "  L1: { description: Line one }", with: line) + signing
    }

    @Test func sendersAndKeyFileAreParsedAndKeysReadOnlyWhenAsked() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("andond-key-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let key = directory.appendingPathComponent("L1.key").path
        var configuration = try ConfigurationLoader.parse(
            Self.text(
                "  L1:\n    senders: [10.1.0.0/24, 192.168.1.5, \"fd00::/8\"]\n    key_file: \(key)",
                signing: "\nsigning: { window: 10s, overlap: 1m }\n"
            ),
            file: "s.yaml",
            now: ConfigurationTests.now
        )
        let security = try #require(configuration.security[LineID(rawValue: "L1")])
        #expect(security.senders?.map(\.description) == ["10.1.0.0/24", "192.168.1.5", "fd00::/8"])
        #expect(configuration.signing.window == .seconds(10))
        #expect(configuration.signing.overlap == .seconds(60))
        let keyFile = try #require(security.keyFile)
        #expect((keyFile.line, keyFile.column) == (21, 15))
        // Parsing does not read the key (a restore parses recorded configurations); loadKeys does.
        #expect(throws: ConfigurationError.self) { try configuration.loadKeys() }
        do {
            try configuration.loadKeys()
        } catch {
            #expect(error.diagnostics.first?.description.hasPrefix("s.yaml:21:15: error: line L1's key file") == true)
        }
        try String(repeating: "ab", count: 32).write(toFile: key, atomically: false, encoding: .utf8)
        chmod(key, 0o644)
        try configuration.loadKeys()
        #expect(configuration.keys[LineID(rawValue: "L1")]?.bytes == [UInt8](repeating: 0xab, count: 32))
        #expect(configuration.warnings.contains { $0.message.contains("may be read by others") })
        try "not a key".write(toFile: key, atomically: false, encoding: .utf8)
        #expect(throws: ConfigurationError.self) { try configuration.loadKeys() }
    }

    @Test func aBadSenderOrKeyPathIsAnErrorAtItsPosition() throws {
        do {
            _ = try ConfigurationLoader.parse(
                Self.text("  L1:\n    senders: [10.1.0.0/33, plc-one]\n    key_file: keys/L1.key"),
                file: "b.yaml",
                now: ConfigurationTests.now
            )
            Issue.record("must be refused")
        } catch {
            let messages = error.diagnostics.map(\.description)
            #expect(messages.contains { $0.hasPrefix("b.yaml:20:15: error: '10.1.0.0/33' is not an IP address") })
            #expect(messages.contains { $0.hasPrefix("b.yaml:20:28: error: 'plc-one' is not an IP address") })
            #expect(messages.contains { $0.hasPrefix("b.yaml:21:15: error: the key file must be an absolute path") })
        }
    }

    @Test(arguments: [
        ("10.1.0.0/24", "10.1.0.77", true), ("10.1.0.0/24", "10.1.1.1", false), ("192.168.1.5", "192.168.1.5", true),
        ("192.168.1.5", "192.168.1.6", false), ("0.0.0.0/0", "8.8.8.8", true), ("fd00::/8", "fd12::1", true),
        ("fd00::/8", "fe80::1", false), ("10.1.0.0/24", "::ffff:10.1.0.9", true), ("::1", "[::1]", true),
        ("10.1.0.0/24", "fd00::1", false),
    ])
    func addressRangesContainWhatTheySay(_ range: String, _ address: String, _ inside: Bool) throws {
        let parsed = try #require(AddressRange(range))
        #expect(parsed.contains(try #require(AddressRange.bytes(of: address))) == inside)
    }

    @Test func keyFilesOfCredentialsResolveToTheCredentialsDirectory() {
        let file = KeyFile(path: "%d/L1.key", file: "x", line: 1, column: 1)
        #expect(
            file.resolved(environment: ["CREDENTIALS_DIRECTORY": "/run/credentials/andond.service"])
                == "/run/credentials/andond.service/L1.key"
        )
    }
}
