import AndonConfig
import AndonCore
import AndonProtocol
import AndonStore
import AndonSystemd
import AndonTestSupport
import Foundation
import Glibc
import Synchronization

@testable import AndonDaemon

/// The one timer, by hand: the escalation stage arms it; the test (or the simulation) fires it when its clock
/// reaches the deadline.
final class ManualTimer: DeadlineTimer {
    private let armed = Mutex<(deadline: Instant?, fire: (@Sendable () -> Void)?)>((nil, nil))

    var deadline: Instant? { armed.withLock { $0.deadline } }

    func arm(at deadline: Instant?, now: Instant, fire: @escaping @Sendable () -> Void) {
        armed.withLock { $0 = (deadline, deadline == nil ? nil : fire) }
    }

    /// Fires the timer when it is due at `now`; true when it fired.
    @discardableResult
    func fireIfDue(at now: Instant) -> Bool {
        let fire = armed.withLock { armed -> (@Sendable () -> Void)? in
            guard let deadline = armed.deadline, deadline <= now else { return nil }
            defer { armed = (nil, nil) }
            return armed.fire
        }
        fire?()
        return fire != nil
    }
}

/// Replies as they arrive (on the caller's thread here: nothing runs on another).
final class ReplyBox: Sendable {
    private let replies = Mutex<[Reply]>([])
    var all: [Reply] { replies.withLock { $0 } }
    var last: Reply? { replies.withLock { $0.last } }
    func take() -> [Reply] {
        replies.withLock { replies in
            defer { replies = [] }
            return replies
        }
    }
    var deliver: @Sendable (Reply) -> Void { { reply in self.replies.withLock { $0.append(reply) } } }
}

/// andond's stages over a state directory of their own, on a manual clock, with a recording journal and a manual
/// timer: no sockets, no threads, no sleeps. `crash()` drops every stage, as a kill would, and opens them again.
final class StageHarness {
    let clock: ManualClock
    let journal = RecordingJournalSink()
    let timer = ManualTimer()
    let directory: String
    let configPath: String
    var options = Stages.Options()
    private(set) var stages: Stages!

    static let start = Instant(millisecondsSinceEpoch: 1_796_000_000_000)

    init(
        yaml: String = PlantFixture.yaml(socket: "/tmp/unused.sock"),
        at start: Instant = StageHarness.start,
        options change: (inout Stages.Options) -> Void = { _ in }
    ) throws {
        clock = ManualClock(start)
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("andond-stages-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        configPath = directory + "/andond.yaml"
        try yaml.write(toFile: configPath, atomically: true, encoding: .utf8)
        options.inlineSnapshots = true
        change(&options)
        try open()
    }

    func open() throws {
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
    func crash() throws {
        stages = nil
        try open()
    }

    func remove() { try? FileManager.default.removeItem(atPath: directory) }

    /// Writes the configuration file anew (for a reload).
    func write(_ yaml: String) throws { try yaml.write(toFile: configPath, atomically: true, encoding: .utf8) }

    /// Writes `key` (hex) to a key file of the harness's, readable by its owner only, and returns its path.
    func writeKey(_ key: String, as name: String) throws -> String {
        let path = directory + "/" + name
        try? FileManager.default.removeItem(atPath: path)
        try (key + "\n").write(toFile: path, atomically: false, encoding: .utf8)
        chmod(path, 0o400)
        return path
    }

    static let controller = Peer.udp("127.0.0.1:40000")
    static func user(_ name: String, uid: UInt32 = 1000) -> Peer {
        .unix(PeerCredentials(pid: 1, uid: uid, gid: uid), user: name, groups: [])
    }
    static let root = Peer.unix(PeerCredentials(pid: 1, uid: 0, gid: 0), user: "root", groups: [])

    /// Sends one message and commits; returns its reply (nil if none came: it waits for a commit that failed).
    @discardableResult
    func send(_ text: String, from peer: Peer = StageHarness.controller) -> Reply? {
        let box = ReplyBox()
        stages.signals.handle(Array(text.utf8), from: peer, reply: box.deliver)
        stages.committer.step()
        return box.last
    }

    /// Moves the clock to `instant`, firing the timer at each deadline on the way, and commits each step.
    func advance(to instant: Instant) {
        while let deadline = timer.deadline, deadline <= instant {
            clock.advance(to: max(deadline, clock.now))
            timer.fireIfDue(at: clock.now)
            stages.committer.step()
        }
        clock.advance(to: instant)
        stages.committer.step()
    }

    func advance(by duration: Duration) { advance(to: clock.now + duration) }

    /// The events the journal holds, by name, in order.
    var events: [String] { journal.written.compactMap { $0.entry[JournalField.event] } }
}

extension Reply {
    var isOK: Bool {
        if case .ok = self { return true }
        return false
    }

    var errorCode: String? {
        if case .error(let error) = self { return error.code.rawValue }
        return nil
    }

    subscript(key: String) -> String? {
        if case .ok(let fields) = self { return fields.first { $0.key == key }?.value }
        return nil
    }
}

/// The state store behind a switch: while it is on, every commit fails as on a full disk (nothing is written).
final class FailingStore: CommitStore {
    final class Switch: Sendable {
        private let on = Atomic<Bool>(false)
        var isOn: Bool { on.load(ordering: .relaxed) }
        func fail(_ value: Bool) { on.store(value, ordering: .relaxed) }
    }

    let store: StateStore
    let failing: Switch
    init(store: StateStore, failing: Switch) {
        self.store = store
        self.failing = failing
    }

    var path: String { store.path }
    var directory: String { store.directory }

    func commit(_ batch: CommitBatch) throws(StoreError) -> Int64? {
        if failing.isOn { throw StoreError(.write, "database or disk is full (simulated)") }
        return try store.commit(batch)
    }
}
