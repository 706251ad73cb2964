import AndonCore
import Synchronization

/// A clock that moves only when told to: the stages' clock in in-process tests and in the simulation.
public final class ManualClock: AndonClock {
    private let current: Mutex<Instant>

    public init(_ start: Instant) {
        self.current = Mutex(start)
    }

    public var now: Instant {
        current.withLock { $0 }
    }

    /// Moves the clock forward by `duration` and returns the new time.
    @discardableResult
    public func advance(by duration: Duration) -> Instant {
        current.withLock { current in
            precondition(duration >= .zero, "a manual clock never goes backwards")
            current += duration
            return current
        }
    }

    /// Moves the clock to `instant`, which must not be in its past.
    public func advance(to instant: Instant) {
        current.withLock { current in
            precondition(instant >= current, "a manual clock never goes backwards")
            current = instant
        }
    }
}
