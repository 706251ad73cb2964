import Foundation
import Testing

/// The core owns the domain and nothing else: no sockets, no journal, no files, and never the wall clock.
@Suite struct PurityTests {
    static let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Sources/AndonCore")

    static let forbidden = [
        "import NIO", "import CSystemd", "import Glibc", "import Dispatch", "Date()", "Date.now", ".now()",
        "ContinuousClock", "SuspendingClock", "clock_gettime", "gettimeofday", "FileManager", "FileHandle",
        "contentsOfFile", "ProcessInfo", "Thread.sleep", "Task.sleep", "sd_journal", "sd_notify",
    ]

    @Test func theCoreReadsNoClockAndDoesNoIO() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.sources.path).filter {
            $0.hasSuffix(".swift")
        }
        #expect(files.count > 10)
        for file in files {
            let text = try String(contentsOf: Self.sources.appendingPathComponent(file), encoding: .utf8)
            for word in Self.forbidden {
                #expect(!text.contains(word), "Sources/AndonCore/\(file) uses \(word)")
            }
        }
    }
}
