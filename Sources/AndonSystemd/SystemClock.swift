import AndonCore
import Foundation

/// The wall clock: the one place the shells (andond, andonctl) read the time. Every stage of andond is handed a clock
/// (`AndonClock`) and asks it; tests hand them a `ManualClock`. The core never reads one: each input carries its instant.
public struct SystemClock: AndonClock {
    public init() {}
    public var now: Instant { Instant(Date()) }
}

extension NSCondition {
    /// Waits until signalled or until `timeout` has passed (the caller holds the lock). A worker thread computes its
    /// timeout from its injected clock; the kernel's timer does the sleeping.
    @discardableResult
    public func wait(for timeout: Duration) -> Bool {
        let seconds = Double(max(timeout, .zero).milliseconds) / 1000
        return wait(until: Date(timeIntervalSinceNow: seconds))
    }
}
