import AndonCore
import AndonProtocol
import AndonSystemd
import Prometheus
import Synchronization

/// andond's Prometheus metrics (docs/metrics.md): counters and histograms fed by the stages as things happen, gauges
/// read from a copy of the engine at each scrape. Labels are lines, categories, tiers, kinds, channels and reasons,
/// never a person. Every label set the configuration implies exists at 0 from the start; a reload adds new ones.
/// The registry has its own lock; nothing here blocks a stage for longer than a counter's increment.
package final class DaemonMetrics: Sendable {
    package let registry = PrometheusCollectorRegistry()
    private static let prefix = "andond_"
    /// Response times: 10 s to 2 h.
    static let responseBuckets: [Duration] = [10, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200].map { .seconds($0) }
    /// Commit latency: 1 ms to 2.5 s (an fsync may stall for a second here).
    static let commitBuckets: [Duration] = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500].map { .milliseconds($0) }
    /// Why a notification attempt failed.
    static let failureReasons = ["server-error", "client-error", "rate-limited", "timeout", "network"]

    /// Refusals by code, as counted by admission when last scraped (its totals are the source; the counter follows).
    private let refusalsSeen = Mutex<[String: Int]>([:])
    /// The label sets of the open-calls gauge created so far (each scrape sets every one, to 0 when none is open).
    private let openKeys = Mutex<Set<OpenMetrics.Key>>([])
    private let lines = Mutex<Set<String>>([])
    /// The plant the label sets were last created for.
    private let configured: Mutex<Plant>

    package init(plant: Plant) {
        configured = Mutex(plant)
        configure(plant)
        for gauge in [Self.atKPO, Self.oldest, Self.pending, Self.outbox] { _ = registry.makeGauge(descriptor: gauge) }
        for code in WireError.Code.all { _ = refusals(code.rawValue) }
        _ = commitLatency
    }

    /// Creates the label sets of `plant` at 0 (at start and after each reload).
    package func configure(_ plant: Plant) {
        for line in plant.lines.values {
            let name = line.id.rawValue
            lines.withLock { _ = $0.insert(name) }
            _ = stopped(name)
            for kind in Self.signalKinds { _ = signals(line: name, kind: kind) }
            var chains: [(String, PolicyID)] = line.policies.map { ($0.key.rawValue, $0.value) }
            chains.append((IncidentKind.stop.rawValue, line.stopPolicy))
            if line.heartbeatWithin != nil { chains.append((IncidentKind.silent.rawValue, line.silentPolicy)) }
            for (category, policy) in chains {
                _ = raised(line: name, category: category)
                for step in [ResponseStep.acknowledged, .arrived, .resolved] {
                    _ = responseTime(step, line: name, category: category)
                }
                for tier in plant.policy(policy).tiers {
                    let key = OpenMetrics.Key(line: name, category: category, tier: tier.name)
                    openKeys.withLock { _ = $0.insert(key) }
                    _ = open(key)
                    _ = escalations(tier: tier.name)
                }
            }
        }
        for channel in plant.channels.keys {
            _ = notifications(channel: channel.rawValue)
            _ = givenUp(channel: channel.rawValue)
            for reason in Self.failureReasons { _ = failures(channel: channel.rawValue, reason: reason) }
        }
    }

    /// Creates the label sets of a reloaded plant (at a scrape, when the engine's plant changed).
    func configureIfChanged(_ plant: Plant) {
        let changed = configured.withLock { configured in
            guard configured != plant else { return false }
            configured = plant
            return true
        }
        if changed { configure(plant) }
    }

    // MARK: What the stages report

    /// A signal admitted for the engine (retransmits included: the controller sent it).
    func signal(_ signal: Signal) {
        signals(line: signal.line.rawValue, kind: signal.verb).increment()
    }

    /// The journal entries of a batch that reached the disk: calls raised, escalations, response times.
    func committed(_ entries: some Sequence<JournalEntry>) {
        for entry in entries {
            guard let name = entry[.event], let kind = Event.Kind(rawValue: name), let line = entry[.line] else {
                continue
            }
            let category = entry[.category] ?? entry[.kind] ?? IncidentKind.andon.rawValue
            let drill = entry[.drill] != nil
            switch kind {
            case .raised: raised(line: line, category: category).increment()
            case .escalated, .overdue, .skipped:
                if let tier = entry[.tier] { escalations(tier: tier).increment() }
            default: break
            }
            // Drills are not the plant's response: they stay out of the response times (as in reports).
            guard !drill else { continue }
            if kind == .acknowledged, let after = entry[.acknowledgedAfter].flatMap(Int64.init) {
                responseTime(.acknowledged, line: line, category: category).record(.milliseconds(after))
            }
            if kind == .arrived, let after = entry[.arrivedAfter].flatMap(Int64.init) {
                responseTime(.arrived, line: line, category: category).record(.milliseconds(after))
            }
            if let after = entry[.resolvedAfter].flatMap(Int64.init) {
                responseTime(.resolved, line: line, category: category).record(.milliseconds(after))
            }
        }
    }

    /// One commit's time, from taking the batch to its fsync.
    func commit(took duration: Duration) { commitLatency.record(duration) }

    /// One reported notification attempt through `channel`.
    func attempt(channel: String, report: DeliveryReport, gaveUp: Bool) {
        notifications(channel: channel).increment()
        if let reason = Self.failureReason(report) { failures(channel: channel, reason: reason).increment() }
        if gaveUp || report.outcome == .failed { givenUp(channel: channel).increment() }
    }

    /// A delivery given up without an attempt (nothing claimed it in time).
    func gaveUp(channel: String) { givenUp(channel: channel).increment() }

    /// The failure reason label of an attempt, or nil when it was delivered.
    package static func failureReason(_ report: DeliveryReport) -> String? {
        guard report.outcome != .delivered else { return nil }
        if let status = report.status {
            if status == 429 { return "rate-limited" }
            if status >= 500 { return "server-error" }
            if status == 408 { return "timeout" }
            return "client-error"
        }
        let error = (report.error ?? "").lowercased()
        return error.contains("timed out") || error.contains("timeout") || error.contains("deadline")
            ? "timeout" : "network"
    }

    // MARK: The scrape

    /// What a scrape reads besides the counters: a copy of the engine and the stages' sizes.
    struct Reading {
        var open: OpenMetrics
        var now: Instant
        var deliveriesPending: Int
        var journalWaiting: Int
        var refusals: [String: Int]
    }

    /// The text exposition (`text/plain; version=0.0.4`).
    func scrape(_ reading: Reading) -> [UInt8] {
        for key in openKeys.withLock({ $0 }) where reading.open.open[key] == nil { open(key).set(Double(0)) }
        for (key, count) in reading.open.open {
            openKeys.withLock { _ = $0.insert(key) }
            open(key).set(Double(count))
        }
        for line in lines.withLock({ $0 }) {
            stopped(line).set(reading.open.stoppedLines.contains(LineID(rawValue: line)) ? Double(1) : Double(0))
        }
        registry.makeGauge(descriptor: Self.atKPO).set(Double(reading.open.atKPO))
        let oldest = reading.open.oldestUnacknowledged.map { reading.now.duration(since: $0) } ?? .zero
        registry.makeGauge(descriptor: Self.oldest).set(Double(max(0, oldest.milliseconds)) / 1000)
        registry.makeGauge(descriptor: Self.pending).set(Double(reading.deliveriesPending))
        registry.makeGauge(descriptor: Self.outbox).set(Double(reading.journalWaiting))
        refusalsSeen.withLock { seen in
            for (code, total) in reading.refusals where total > seen[code, default: 0] {
                refusals(code).increment(by: Int64(total - seen[code, default: 0]))
                seen[code] = total
            }
        }
        return registry.emitToBuffer()
    }

    // MARK: The metrics, one place each

    static let signalKinds = ["andon", "stop", "clear", "arrived", "resume", "heartbeat"]

    enum ResponseStep: String {
        case acknowledged = "acknowledge"
        case arrived = "arrive"
        case resolved = "resolve"
    }

    static var atKPO: MetricNameDescriptor {
        descriptor("calls_at_kpo", unit: "", help: "Open calls whose current tier is KPO.")
    }
    static var oldest: MetricNameDescriptor {
        descriptor(
            "oldest_unacknowledged",
            unit: "seconds",
            help: "How long the oldest call nobody acknowledged has been open (0 when there is none)."
        )
    }
    static var pending: MetricNameDescriptor {
        descriptor(
            "deliveries_pending",
            unit: "",
            help: "Notifications waiting to be delivered (durable, in the state)."
        )
    }
    static var outbox: MetricNameDescriptor {
        descriptor(
            "journal_outbox",
            unit: "entries",
            help: "Journal entries committed but not yet confirmed written by journald."
        )
    }

    private static func descriptor(_ name: String, unit: String, help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "andond", metricName: name, unitName: unit, helpText: help)
    }

    private func signals(line: String, kind: String) -> Counter {
        registry.makeCounter(
            descriptor: Self.descriptor("signals", unit: "total", help: "Signals from line controllers admitted."),
            labels: [("line", line), ("kind", kind)]
        )
    }

    private func refusals(_ code: String) -> Counter {
        registry.makeCounter(
            descriptor: Self.descriptor(
                "refusals",
                unit: "total",
                help: "Messages refused before they changed anything, by reason (the reply's err code)."
            ),
            labels: [("reason", code)]
        )
    }

    private func raised(line: String, category: String) -> Counter {
        registry.makeCounter(
            descriptor: Self.descriptor("calls_raised", unit: "total", help: "Calls raised (drills included)."),
            labels: [("line", line), ("category", category)]
        )
    }

    private func escalations(tier: String) -> Counter {
        registry.makeCounter(
            descriptor: Self.descriptor(
                "escalations",
                unit: "total",
                help: "Calls moved on to a tier (not acknowledged, overdue, or nobody on duty), by the tier reached."
            ),
            labels: [("tier", tier)]
        )
    }

    private func notifications(channel: String) -> Counter {
        registry.makeCounter(
            descriptor: Self.descriptor(
                "notification_attempts",
                unit: "total",
                help: "Notification attempts andon-notify reported, by channel."
            ),
            labels: [("channel", channel)]
        )
    }

    private func failures(channel: String, reason: String) -> Counter {
        registry.makeCounter(
            descriptor: Self.descriptor(
                "notification_failures",
                unit: "total",
                help: "Notification attempts that failed, by channel and reason."
            ),
            labels: [("channel", channel), ("reason", reason)]
        )
    }

    private func givenUp(channel: String) -> Counter {
        registry.makeCounter(
            descriptor: Self.descriptor(
                "notifications_failed",
                unit: "total",
                help: "Notifications that failed for good (refused, or given up after give_up_after), by channel."
            ),
            labels: [("channel", channel)]
        )
    }

    private func open(_ key: OpenMetrics.Key) -> Gauge {
        registry.makeGauge(
            descriptor: Self.descriptor("open_calls", unit: "", help: "Open calls by line, category and current tier."),
            labels: [("line", key.line), ("category", key.category), ("tier", key.tier)]
        )
    }

    private func stopped(_ line: String) -> Gauge {
        registry.makeGauge(
            descriptor: Self.descriptor("line_stopped", unit: "", help: "1 while the line has an open line stop."),
            labels: [("line", line)]
        )
    }

    private func responseTime(_ step: ResponseStep, line: String, category: String) -> DurationHistogram {
        registry.makeDurationHistogram(
            descriptor: Self.descriptor(
                "time_to_\(step.rawValue)",
                unit: "seconds",
                help: "From raised to \(step.rawValue)d, by line and category (drills excluded)."
            ),
            labels: [("line", line), ("category", category)],
            buckets: Self.responseBuckets
        )
    }

    private var commitLatency: DurationHistogram {
        registry.makeDurationHistogram(
            descriptor: Self.descriptor(
                "commit_latency",
                unit: "seconds",
                help: "One group commit of the state, from taking the batch to its fsync."
            ),
            buckets: Self.commitBuckets
        )
    }
}
