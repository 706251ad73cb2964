import AndonConfig
import AndonCore
import AndonDaemon
import AndonProtocol
import AndonStore
import AndonSystemd
import AndonTestSupport
import Foundation
import Synchronization

/// A promise andond broke in the simulation: which seed, which step, when, what. The same seed breaks it again at
/// the same step.
package struct BrokenPromise: Error, CustomStringConvertible {
    package var seed: UInt64
    package var step: Int
    package var at: Instant
    package var what: String
    package var description: String { "seed \(seed), step \(step), at \(at): \(what)" }
}

/// A simulated plant week: andond's stages in-process on the manual clock, with the real store on a temporary
/// directory and a recording journal, through a generated plant's signals, answers, shift changes, reloads,
/// crashes, full disks and journald outages. After every step it checks the promises (`PlantWeek+Promises`).
package final class PlantWeek {
    package struct Figures: Sendable {
        package var steps = 0
        package var signals = 0
        package var resends = 0
        package var answers = 0
        package var refusedStorage = 0
        package var crashes = 0
        package var tornInputs = 0
        package var restarts = 0
        package var reloads = 0
        package var reloadsRefused = 0
        package var outages = 0
        package var storageWindows = 0
        package var entries = 0
        package var maxOpen = 0
    }

    package let seed: UInt64
    package let days: Int
    package var random: SeededGenerator
    package let plant: SimulatedPlant
    package let harness: StageHarness
    package let failing = FailingStore.Switch()
    package var plan = ActionPlan()
    package var figures = Figures()
    package var step = 0
    package let end: Instant

    // The controllers: per line the next sequence number; messages sent and not yet answered.
    package var nextSequence: [String: UInt64] = [:]
    package var outstanding: [MessageKey: (text: String, firstSent: Instant, attempts: Int)] = [:]
    /// Replies as they arrive, from whichever step commits them.
    package let arrivals = Arrivals()
    /// Messages answered ok and not yet found in the store.
    package var toVerify: [(body: String, since: Instant)] = []
    /// Responders who planned to answer a call already.
    package var planned: Set<String> = []
    /// The journal read so far, and what it said of each call.
    package var journalRead = 0
    package var durableSeen: Int64 = 0
    package var lastAt: [String: Int64] = [:]
    package var closed: Set<String> = []
    /// Instants andond started again after being down: late entries are late to them.
    package var restartedAt: Set<Int64> = []
    package var gapFixed = false
    /// KPO gaps reported, by their start; whether a coverage check ran in this step.
    package var reportedGaps: Set<Int64> = []
    package var coverageChecked = false
    package var timerFired = false
    package var runningText: String

    /// `length`, when given, ends the run before the `days` the plant was planned for (a short check).
    package init(seed: UInt64, days: Int, length: Duration? = nil) throws {
        self.seed = seed
        self.days = days
        random = SeededGenerator(seed: seed &* 0x9E37_79B9 &+ 17)
        plant = SimulatedPlant(random: &random, days: days)
        runningText = plant.yaml(socket: "/tmp/unused.sock")
        let failing = failing
        // On tmpfs where there is one: the simulation checks what is committed, not how fast a disk syncs.
        let parent = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
        harness = try StageHarness(yaml: runningText, at: plant.week.start, under: parent) { options in
            options.maxWaitingInputs = 50
            options.commitStore = { FailingStore(store: $0, failing: failing) }
        }
        end = plant.week.start + (length ?? .seconds(Int64(days) * 86_400))
        harness.stages.coverage.check(harness.stages.escalation.engine.plant)
        coverageChecked = true
        planWeek()
    }

    deinit { harness.remove() }

    package var now: Instant { harness.clock.now }
    package var stages: Stages { harness.stages }

    // MARK: The plan

    package func uniform(_ range: ClosedRange<Int64>) -> Duration { .seconds(Int64.random(in: range, using: &random)) }
    package func chance(_ p: Double) -> Bool { Double(random.next() % 1_000_000) / 1_000_000 < p }

    /// Exponential waits at `perHour`, from `start` to `end`.
    package func arrivals(perHour: Double, from start: Instant, to end: Instant, _ body: (Instant) -> Void) {
        var at = start
        while true {
            let u = max(1e-9, Double(random.next() % 1_000_000_000) / 1_000_000_000)
            at = at + .milliseconds(Int64(-log(u) / perHour * 3_600_000))
            guard at < end else { return }
            body(at)
        }
    }

    private func planWeek() {
        let start = plant.week.start
        for line in plant.lines {
            let stations = plant.stations(of: line)
            arrivals(perHour: Double.random(in: 0.8...2.5, using: &random), from: start, to: end) { at in
                let burst = chance(0.05) ? Int.random(in: 3...6, using: &random) : 1
                for index in 0..<burst {
                    let station = stations.randomElement(using: &random)!
                    let category = pickCategory()
                    let text = chance(0.1) ? Self.texts.randomElement(using: &random)! : nil
                    let when = at + .seconds(Int64(index) * Int64.random(in: 5...40, using: &random))
                    plan.plan(
                        .andon(line: line, station: station, category: category, drill: chance(0.02), text: text),
                        at: when
                    )
                    if chance(0.35) { plan.plan(.clear(line: line, station: station), at: when + uniform(180...1_800)) }
                }
            }
            arrivals(perHour: Double.random(in: 0.05...0.3, using: &random), from: start, to: end) { at in
                let station = chance(0.5) ? stations.randomElement(using: &random) : nil
                plan.plan(.stop(line: line, station: station), at: at)
                plan.plan(.resume(line: line), at: at + uniform(120...2_700))
            }
        }
        for day in 0..<days {
            let midnight = SiteTimeZone(identifier: "Europe/Berlin")!.parseInstant(plant.days[day] + " 00:00")!
            if day > 0 { plan.plan(.coverageCheck, at: midnight) }
            if chance(0.7) {
                plan.plan(.reload(variant: day + 1, fixGap: chance(0.3)), at: midnight + uniform(3_600...80_000))
            }
        }
        var at = start + uniform(3_600...30_000)
        while at < end {
            switch random.next() % 5 {
            case 0:
                plan.plan(.crash(torn: Int.random(in: 0...4, using: &random)), at: at)
            case 1:
                plan.plan(.restart(down: uniform(30...900)), at: at)
            case 2:
                plan.plan(.storage(failing: true), at: at)
                plan.plan(.storage(failing: false), at: at + uniform(60...1_200))
                at = at + .seconds(1_300)
            default:
                plan.plan(.journald(available: false), at: at)
                plan.plan(.journald(available: true), at: at + uniform(60...1_800))
            }
            at = at + uniform(7_200...36_000)
        }
    }

    package static let texts = [
        "Kühlmittel läuft aus", "say \"stop\" now", "x\u{202E}y", "Bolzen fehlt; Band 3", "\u{1F6A8} hot",
    ]

    package func pickCategory() -> Category {
        var roll = Int(random.next() % 100)
        for (category, weight) in SimulatedPlant.categories {
            if roll < weight { return category }
            roll -= weight
        }
        return .help
    }

    // MARK: Running

    /// Runs the week and a quiet tail of four hours (no signals, nobody answers: every open call must end at KPO).
    package func run() throws -> Figures {
        while let next = plan.next, next < end {
            try fireTimer(until: next)
            let (at, action) = plan.pop()!
            harness.clock.advance(to: max(at, now))
            try perform(action)
            try stepDone()
        }
        try fireTimer(until: end)
        harness.clock.advance(to: max(end, now))
        if failing.isOn { failing.fail(false) }
        harness.journal.setAvailable(true)
        stages.committer.step()
        try stepDone()
        // The quiet tail: nobody raises or answers anything new; controllers still resend what is unanswered.
        let quiet = end + .seconds(4 * 3_600)
        while let next = plan.next, next < quiet {
            try fireTimer(until: next)
            let (at, action) = plan.pop()!
            guard case .resend = action else { continue }
            harness.clock.advance(to: max(at, now))
            try perform(action)
            try stepDone()
        }
        try fireTimer(until: quiet)
        harness.clock.advance(to: max(quiet, now))
        try checkTheEnd()
        return figures
    }

    /// Fires the timer at each deadline up to `instant`, one step each.
    package func fireTimer(until instant: Instant) throws {
        while let deadline = harness.timer.deadline, deadline <= instant {
            harness.clock.advance(to: max(deadline, now))
            timerFired = harness.timer.fireIfDue(at: now)
            stages.committer.step()
            try stepDone()
        }
    }

    package func send(_ text: String, key: MessageKey?, from peer: Peer) {
        let arrivals = arrivals
        let body = Self.canonical(text)
        let sent = now
        stages.signals.handle(Array(text.utf8), from: peer) { reply in arrivals.add(key, body, sent, reply) }
    }

    /// The message as the input log keeps it.
    package static func canonical(_ text: String) -> String {
        (try? Request.parse(Array(text.utf8)).get().message.rendered) ?? text
    }

    package func signal(_ line: String, _ text: String) {
        let sequence = nextSequence[line, default: 1]
        nextSequence[line] = sequence + 1
        let key = MessageKey(line: line, sequence: sequence)
        let message = text + " seq=\(sequence)"
        outstanding[key] = (message, now, 1)
        figures.signals += 1
        send(message, key: key, from: Self.controller(line))
        plan.plan(.resend(key: key), at: now + .seconds(2))
    }

    package static func controller(_ line: String) -> Peer { .udp("127.0.0.1:\(40_000 + Int(line.dropFirst())!)") }

    package static func responder(_ user: String) -> Peer {
        let uid = UInt32(2_000 + abs(user.hashValue % 1_000))
        return .unix(PeerCredentials(pid: 1, uid: uid, gid: uid), user: user, groups: [])
    }

    package func perform(_ action: SimulatedAction) throws {
        switch action {
        case .andon(let line, let station, let category, let drill, let text):
            let quoted = text.map { " text=\(WireMessage.quoteIfNeeded($0))" } ?? ""
            signal(
                line,
                "andon line=\(line) station=\(station) category=\(category.rawValue)\(quoted)\(drill ? " drill=1" : "")"
            )
        case .clear(let line, let station):
            signal(line, "clear line=\(line) station=\(station)")
        case .stop(let line, let station):
            signal(line, "stop line=\(line)" + (station.map { " station=\($0)" } ?? ""))
        case .resume(let line):
            signal(line, "resume line=\(line)")
        case .resend(let key):
            guard var message = outstanding[key] else { return }
            message.attempts += 1
            outstanding[key] = message
            figures.resends += 1
            send(message.text, key: key, from: Self.controller(key.line))
            plan.plan(.resend(key: key), at: now + .seconds(Int64(min(60, 2 << min(message.attempts, 5)))))
        case .answer(let verb, let incident, let user):
            figures.answers += 1
            let text =
                verb == "resolve" ? "resolve id=\(incident) note=\"fixed in the simulation\"" : "\(verb) id=\(incident)"
            send(text, key: nil, from: Self.responder(user))
        case .reload(let variant, let fixGap):
            try reload(variant: variant, fixGap: fixGap)
            coverageChecked = true
        case .crash(let torn):
            try crash(torn: torn)
        case .restart(let down):
            try restart(down: down)
        case .storage(let failing):
            if failing { figures.storageWindows += 1 }
            self.failing.fail(failing)
        case .journald(let available):
            if !available { figures.outages += 1 }
            harness.journal.setAvailable(available)
        case .coverageCheck:
            stages.coverage.check(stages.escalation.engine.plant)
            coverageChecked = true
        }
        stages.committer.step()
    }

    private func reload(variant: Int, fixGap: Bool) throws {
        figures.reloads += 1
        let text = plant.yaml(socket: "/tmp/unused.sock", variant: variant, gapFixed: gapFixed || fixGap)
        try harness.write(text)
        let box = ReplyBox()
        stages.signals.handle(Array("reload".utf8), from: StageHarness.root, reply: box.deliver)
        stages.committer.step()
        guard let reply = box.last else {
            // Waiting for the disk: it is taken (the engine has it), answered once it is written.
            runningText = text
            gapFixed = gapFixed || fixGap
            return
        }
        if reply.isOK {
            runningText = text
            gapFixed = gapFixed || fixGap
        } else {
            // Refused (a KPO gap within the horizon, or the disk is full): the admin puts the file back.
            figures.reloadsRefused += 1
            try harness.write(runningText)
        }
    }

    private func crash(torn: Int) throws {
        guard !failing.isOn else { return }  // a full disk would keep andond from starting: not this action
        figures.crashes += 1
        stages.committer.step()
        try verifyStored()
        let before = stages.escalation.engine.openIncidents
        for _ in 0..<torn {
            let line = plant.lines.randomElement(using: &random)!
            let station = plant.stations(of: line).randomElement(using: &random)!
            signal(line, "andon line=\(line) station=\(station) category=help")
            figures.tornInputs += 1
        }
        try harness.crash()
        stages.coverage.check(stages.escalation.engine.plant)
        coverageChecked = true
        let after = stages.escalation.engine.openIncidents
        try verifyStored()
        guard after == before else {
            throw broken(
                "a restart did not restore what was committed: \(before.count) open calls before, \(after.count) after"
            )
        }
    }

    private func restart(down: Duration) throws {
        guard !failing.isOn else { return }
        figures.restarts += 1
        try verifyStored()
        stages.escalation.stop()
        guard stages.committer.step(ending: true) else { throw broken("a clean stop could not write its state") }
        let before = stages.escalation.engine.openIncidents
        harness.clock.advance(by: down)
        // What was planned while andond was down happens when it is back (controllers and people retry).
        try harness.crash()
        restartedAt.insert(now.millisecondsSinceEpoch)
        stages.coverage.check(stages.escalation.engine.plant)
        coverageChecked = true
        let restored = stages.restored
        guard restored.openAtStart == before.count, restored.stoppedCleanly else {
            throw broken("after a clean stop, \(restored.openAtStart) calls restored of \(before.count)")
        }
    }

    package func broken(_ what: String) -> BrokenPromise { BrokenPromise(seed: seed, step: step, at: now, what: what) }
}

/// Replies as they arrive, from whichever step commits them.
package final class Arrivals: Sendable {
    package typealias Arrival = (key: MessageKey?, body: String, sent: Instant, reply: Reply)
    private let replies = Mutex<[Arrival]>([])

    package func add(_ key: MessageKey?, _ body: String, _ sent: Instant, _ reply: Reply) {
        replies.withLock { $0.append((key, body, sent, reply)) }
    }

    package func take() -> [Arrival] {
        replies.withLock { replies in
            defer { replies = [] }
            return replies
        }
    }
}
