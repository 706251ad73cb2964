import AndonCore
import Foundation

/// The wall clock, for the shells (andond, andonctl). The core never reads it: every input carries its instant.
public struct SystemClock: AndonClock {
    public init() {}
    public var now: Instant { Instant(Date()) }
}
