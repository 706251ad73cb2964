import AndonConfig
import AndonCore
import Foundation
import Testing

/// Inputs the `config` fuzz target crashed on (Tests/Fuzz/regressions/config), each now refused with diagnostics.
@Suite struct FuzzRegressionTests {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fuzz/regressions/config")

    static var inputs: [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()) ?? []
    }

    @Test(arguments: inputs) func aCrashFoundByTheFuzzerIsNowADiagnostic(_ name: String) throws {
        let data = try Data(contentsOf: Self.directory.appendingPathComponent(name))
        do {
            _ = try ConfigurationLoader.parse(
                String(decoding: data, as: UTF8.self),
                file: name,
                now: ConfigurationTests.now
            )
        } catch {
            #expect(!error.diagnostics.isEmpty)
        }
    }

    /// The first one: a duplicate key in a file with `\r` line ends. Yams counts `\r` as a line break; the loader,
    /// looking for the second occurrence, split on `\n` only and indexed past its lines.
    @Test func aDuplicateKeyInAFileWithCarriageReturnLineEndsIsPointedAt() {
        let text = "site: { name: T, time_zone: UTC }\rlines:\r  L1: {}\r  L1: {}\r"
        do {
            _ = try ConfigurationLoader.parse(text, file: "cr.yaml", now: ConfigurationTests.now)
            Issue.record("a duplicate key must be refused")
        } catch {
            #expect(
                error.diagnostics.first?.description.hasPrefix("cr.yaml:4:3: error: duplicate key 'L1'") == true,
                "\(error.diagnostics.map(\.description))"
            )
        }
        for ends in ["\r\n", "\u{85}", "\u{2028}"] {
            let other = text.replacingOccurrences(of: "\r", with: ends)
            #expect(throws: ConfigurationError.self) {
                try ConfigurationLoader.parse(other, file: "x.yaml", now: ConfigurationTests.now)
            }
        }
    }
}
