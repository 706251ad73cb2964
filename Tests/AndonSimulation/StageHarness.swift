import AndonConfig
import AndonCore
import AndonDaemon
import AndonProtocol
import AndonStore
import AndonSystemd
import AndonTestSupport
import Foundation
import Glibc
import Synchronization

/// The one timer, by hand: the escalation stage arms it; the test (or the simulation) fires it when its clock
/// reaches the deadline.
package final class ManualTimer: DeadlineTimer, @unchecked Sendable {
    package init() {}

    // Guarded by `lock` (a closure kept in a generic container is re-wrapped on every pass through it).
    private let lock = NSLock()
    private var armed: Instant?
    private var fire: (@Sendable () -> Void)?

    package var deadline: Instant? {
        lock.lock()
        defer { lock.unlock() }
        return armed
    }

    package func arm(at deadline: Instant?, now: Instant, fire: @escaping @Sendable () -> Void) {
        lock.lock()
        defer { lock.unlock() }
        armed = deadline
        self.fire = deadline == nil ? nil : fire
    }

    /// Fires the timer when it is due at `now`; true when it fired.
    @discardableResult
    package func fireIfDue(at now: Instant) -> Bool {
        lock.lock()
        guard let deadline = armed, deadline <= now, let due = fire else {
            lock.unlock()
            return false
        }
        armed = nil
        fire = nil
        lock.unlock()
        due()
        return true
    }
}

/// Replies as they arrive (on the caller's thread here: nothing runs on another).
package final class ReplyBox: Sendable {
    package init() {}

    private let replies = Mutex<[Reply]>([])
    package var all: [Reply] { replies.withLock { $0 } }
    package var last: Reply? { replies.withLock { $0.last } }
    package func take() -> [Reply] {
        replies.withLock { replies in
            defer { replies = [] }
            return replies
        }
    }
    package var deliver: @Sendable (Reply) -> Void { { reply in self.replies.withLock { $0.append(reply) } } }
}

/// andond's stages over a state directory of their own, on a manual clock, with a recording journal and a manual
/// timer: no sockets, no threads, no sleeps. `crash()` drops every stage, as a kill would, and opens them again.
package final class StageHarness {
    package let clock: ManualClock
    package let journal = RecordingJournalSink()
    package let timer = ManualTimer()
    package let directory: String
    package let configPath: String
    package var options = Stages.Options()
    package private(set) var stages: Stages!

    package static let start = Instant(millisecondsSinceEpoch: 1_796_000_000_000)

    package init(
        yaml: String = PlantFixture.yaml(socket: "/tmp/unused.sock"),
        at start: Instant = StageHarness.start,
        under parent: String = FileManager.default.temporaryDirectory.path,
        options change: (inout Stages.Options) -> Void = { _ in }
    ) throws {
        clock = ManualClock(start)
        directory = parent + "/andond-stages-\(UUID())"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        configPath = directory + "/andond.yaml"
        try yaml.write(toFile: configPath, atomically: true, encoding: .utf8)
        options.inlineSnapshots = true
        change(&options)
        try open()
    }

    package func open() throws {
        var configuration = try ConfigurationLoader.load(path: configPath, now: clock.now, kpoGaps: .leaveToCaller)
        try configuration.loadKeys()
        stages = try Stages.open(
            in: directory + "/state",
            configuration: configuration,
            clock: clock,
            journal: journal,
            timer: timer,
            options: options
        ).get()
        stages.escalation.start()
    }

    /// Every memory of andond gone, as after a kill: what was appended and not committed is lost. Then a restart.
    package func crash() throws {
        stages = nil
        try open()
    }

    package func remove() { try? FileManager.default.removeItem(atPath: directory) }

    /// Writes the configuration file anew (for a reload).
    package func write(_ yaml: String) throws { try yaml.write(toFile: configPath, atomically: true, encoding: .utf8) }

    /// Writes `key` (hex) to a key file of the harness's, readable by its owner only, and returns its path.
    package func writeKey(_ key: String, as name: String) throws -> String {
        let path = directory + "/" + name
        try? FileManager.default.removeItem(atPath: path)
        try (key + "\n").write(toFile: path, atomically: false, encoding: .utf8)
        chmod(path, 0o400)
        return path
    }

    package static let controller = Peer.udp("127.0.0.1:40000")
    package static func user(_ name: String, uid: UInt32 = 1000) -> Peer {
        .unix(PeerCredentials(pid: 1, uid: uid, gid: uid), user: name, groups: [])
    }
    package static let root = Peer.unix(PeerCredentials(pid: 1, uid: 0, gid: 0), user: "root", groups: [])

    /// Sends one message and commits; returns its reply (nil if none came: it waits for a commit that failed).
    @discardableResult
    package func send(_ text: String, from peer: Peer = StageHarness.controller) -> Reply? {
        let box = ReplyBox()
        stages.signals.handle(Array(text.utf8), from: peer, reply: box.deliver)
        stages.committer.step()
        return box.last
    }

    /// Moves the clock to `instant`, firing the timer at each deadline on the way, and commits each step.
    package func advance(to instant: Instant) {
        while let deadline = timer.deadline, deadline <= instant {
            clock.advance(to: max(deadline, clock.now))
            timer.fireIfDue(at: clock.now)
            stages.committer.step()
        }
        clock.advance(to: instant)
        stages.committer.step()
    }

    package func advance(by duration: Duration) { advance(to: clock.now + duration) }

    /// The events the journal holds, by name, in order.
    package var events: [String] { journal.written.compactMap { $0.entry[JournalField.event] } }
}

extension Reply {
    package var isOK: Bool {
        if case .ok = self { return true }
        return false
    }

    package var errorCode: String? {
        if case .error(let error) = self { return error.code.rawValue }
        return nil
    }
}

/// The state store behind a switch: while it is on, every commit fails as on a full disk (nothing is written).
package final class FailingStore: CommitStore {
    package final class Switch: Sendable {
        package init() {}

        private let on = Atomic<Bool>(false)
        package var isOn: Bool { on.load(ordering: .relaxed) }
        package func fail(_ value: Bool) { on.store(value, ordering: .relaxed) }
    }

    package let store: StateStore
    package let failing: Switch
    package init(store: StateStore, failing: Switch) {
        self.store = store
        self.failing = failing
    }

    package var path: String { store.path }
    package var directory: String { store.directory }

    package func commit(_ batch: CommitBatch) throws(StoreError) -> Int64? {
        if failing.isOn { throw StoreError(.write, "database or disk is full (simulated)") }
        return try store.commit(batch)
    }
}
