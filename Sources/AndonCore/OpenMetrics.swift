/// What the metrics' gauges show of the open calls, in one pass over them (no sorting, no copies): how many by line,
/// category and tier, which lines stand, how many wait at KPO, and the oldest call nobody acknowledged.
public struct OpenMetrics: Sendable, Hashable {
    /// A gauge's labels: never a person.
    public struct Key: Sendable, Hashable {
        public var line: String
        /// The andon's category; `stop` for a line stop, `silent` for a silent controller.
        public var category: String
        public var tier: String

        public init(line: String, category: String, tier: String) {
            self.line = line
            self.category = category
            self.tier = tier
        }
    }

    public var open: [Key: Int] = [:]
    public var stoppedLines: Set<LineID> = []
    public var atKPO = 0
    /// When the oldest call not yet acknowledged was raised.
    public var oldestUnacknowledged: Instant?

    public init() {}
}

extension EscalationEngine {
    public var openMetrics: OpenMetrics { incidents.openMetrics() }
}
