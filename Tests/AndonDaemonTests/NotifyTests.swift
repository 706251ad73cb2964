import Foundation
import Glibc
import Testing

/// andond and the service manager, with a test socket standing in for systemd's NOTIFY_SOCKET: readiness, a STATUS=
/// line that follows events, and no wake-ups while idle.
@Suite struct NotifyTests {
    @Test func statusFollowsEventsAndAnIdleAndondDoesNotWakeUp() throws {
        let notify = try NotifySocket()
        let daemon = try DaemonHarness(environment: ["NOTIFY_SOCKET": notify.path])
        let ready = try notify.receive { $0.contains("READY=1") }
        #expect(ready.contains("STATUS=0 open calls; KPO on duty: k"))

        // Idle, with no watchdog: nothing of andond's own runs. What remains is Swift's libdispatch, whose thread-pool
        // monitor wakes once a second on Linux in any program that uses it (measured on a two-line program); worker
        // threads that the pool retires meanwhile are left out. A poll loop or a periodic refresh would show here.
        usleep(1_000_000)
        let before = try Self.contextSwitches(of: daemon.pid)
        usleep(4_000_000)
        let after = try Self.contextSwitches(of: daemon.pid)
        let wakeUps = after.filter { before[$0.key] != nil }.map { $0.value - before[$0.key]! }.reduce(0, +)
        #expect(wakeUps <= 4 + 2, "andond woke up \(wakeUps) times in 4 s while idle: \(before) -> \(after)")
        #expect(notify.drain().isEmpty, "no STATUS= while nothing changes")

        // A line stop: the status says so at once, and its age moves on while it lasts.
        _ = try daemon.udp("stop line=L1 reason=jam")
        let stopped = try notify.receive { $0.contains("LINE STOP L1") }
        #expect(stopped.hasPrefix("STATUS=1 open call; LINE STOP L1 for "))
        let later = try notify.receive { $0.contains("LINE STOP L1") && $0 != stopped }
        #expect(later != stopped)

        // The line runs again: the status goes back to idle, and stays quiet.
        _ = try daemon.udp("resume line=L1")
        _ = try notify.receive { $0.hasPrefix("STATUS=0 open calls") }
        usleep(2_500_000)
        #expect(notify.drain().isEmpty)
    }

    /// Voluntary and involuntary context switches of each thread of `pid`, by thread id.
    static func contextSwitches(of pid: Int32) throws -> [String: Int] {
        var switches: [String: Int] = [:]
        for task in try FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task") {
            guard let status = try? String(contentsOfFile: "/proc/\(pid)/task/\(task)/status", encoding: .utf8) else {
                continue  // the thread ended meanwhile
            }
            switches[task] = status.split(separator: "\n").filter { $0.contains("ctxt_switches:") }
                .compactMap { Int($0.split(separator: ":").last?.trimmingCharacters(in: .whitespaces) ?? "") }
                .reduce(0, +)
        }
        return switches
    }
}

/// A datagram socket that takes sd_notify messages, as systemd's NOTIFY_SOCKET does.
final class NotifySocket {
    let path: String
    private let fd: Int32

    init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("andond-notify-\(UUID().uuidString)").path
        fd = try bindUnixDatagramSocket(at: path)
        chmod(path, 0o666)
    }

    deinit {
        close(fd)
        unlink(path)
    }

    /// The next message for which `matches` holds (bounded: 10 s); messages before it are skipped.
    func receive(timeout: TimeInterval = 10, _ matches: (String) -> Bool) throws -> String {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let message = next(waitingMilliseconds: 100), matches(message) { return message }
        }
        throw HarnessError("no matching sd_notify message within \(Int(timeout)) s")
    }

    /// Every message already waiting.
    func drain() -> [String] {
        var messages: [String] = []
        while let message = next(waitingMilliseconds: 0) { messages.append(message) }
        return messages
    }

    private func next(waitingMilliseconds: Int32) -> String? {
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&poller, 1, waitingMilliseconds) == 1 else { return nil }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        guard count > 0 else { return nil }
        return String(decoding: buffer[..<count], as: UTF8.self)
    }
}
