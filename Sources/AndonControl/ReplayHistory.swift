import AndonCore

/// What happened in a window, in the terms a replay needs: the calls raised in it, each with the path it took (tiers
/// reached, people called), and the steps that made them, in order: controller signals, and responders' answers at
/// the instant they came.
public struct ReplayHistory: Sendable {
    /// A call raised in the window.
    public struct Call: Sendable {
        /// Its incident number as andond numbered it.
        public var incident: String
        public var line: String
        public var station: String?
        /// The andon's category, or `line-stop`.
        public var category: String?
        public var raisedAt: Int64
        public var drill: Bool
        /// What happened to it.
        var path = Replay.Path()
    }

    /// A responder's answer.
    public enum Answer: Sendable {
        case acknowledge, arrive, resolve, escalate
    }

    /// One step of a call.
    public enum Input: Sendable {
        case signal(Signal, drill: Bool)
        /// `by` is the Unix user who answered (or an administrator's), nil when not known.
        case answer(Answer, by: String?, note: String?)
    }

    public struct Step: Sendable {
        public var at: Int64
        /// The call's key in `calls`.
        public var call: String
        public var input: Input
    }

    /// Where the history came from.
    public struct Source: Sendable {
        public var name: String
        public var log: String?
        public var knownFrom: Int64?
    }

    /// The calls raised in the window, by key.
    public internal(set) var calls: [String: Call] = [:]
    public internal(set) var steps: [Step] = []
    /// How far the history knows what happened: the window's end, or earlier.
    public internal(set) var end: Int64
    public internal(set) var source: Source
    public internal(set) var skippedInputs = 0
}

extension ReplayHistory {
    /// Keeps only the calls `include` accepts (and their steps).
    public mutating func keepCalls(where include: (Call) -> Bool) {
        calls = calls.filter { include($0.value) }
        steps = steps.filter { calls[$0.call] != nil }
    }
}
