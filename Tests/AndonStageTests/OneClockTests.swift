import Foundation
import Testing

/// One clock: in the daemon's modules, only `SystemClock` reads the wall clock; every stage asks the clock it was
/// given. (The exceptions: `Notifier.reloading`, whose `MONOTONIC_USEC=` the service manager's protocol asks for, and
/// the board page's JavaScript, which runs in the browser and follows andond's clock through its events.)
@Suite struct OneClockTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let forbidden = [
        "Date()", "Date.now", "DispatchTime.now", "ContinuousClock.now", "SuspendingClock.now", "timeIntervalSinceNow",
        "clock_gettime", "gettimeofday", "DispatchWallTime.now",
    ]
    static let allowed: Set<String> = [
        "AndonSystemd/SystemClock.swift", "AndonSystemd/Notifier.swift", "AndonDaemon/Web/WebPages.swift",
    ]

    @Test func onlyTheInjectedClockIsRead() throws {
        var files = 0
        for module in ["AndonDaemon", "AndonStore", "AndonSystemd"] {
            let directory = Self.root.appendingPathComponent("Sources/\(module)")
            let enumerator = FileManager.default.enumerator(atPath: directory.path)
            while let file = enumerator?.nextObject() as? String {
                guard file.hasSuffix(".swift"), !Self.allowed.contains("\(module)/\(file)") else { continue }
                files += 1
                let text = try String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8)
                for word in Self.forbidden {
                    #expect(!text.contains(word), "Sources/\(module)/\(file) reads the clock itself: \(word)")
                }
            }
        }
        #expect(files > 40)
    }
}
