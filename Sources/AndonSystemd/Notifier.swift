import CSystemd
import Glibc

/// sd_notify(3): readiness, status and watchdog messages to the service manager. A no-op outside systemd.
public struct Notifier: Sendable {
    public init() {}

    /// True when the service manager listens (`NOTIFY_SOCKET` is set).
    public var isActive: Bool { getenvString("NOTIFY_SOCKET") != nil }

    /// Sends newline-separated `KEY=value` assignments. Returns true when sent.
    @discardableResult
    public func notify(_ assignments: String) -> Bool {
        sd_notify(0, assignments) > 0
    }

    public func ready(status: String) { notify("READY=1\nSTATUS=\(status.replacingNewlines)") }
    public func status(_ status: String) { notify("STATUS=\(status.replacingNewlines)") }
    public func stopping(status: String) { notify("STOPPING=1\nSTATUS=\(status.replacingNewlines)") }

    /// `RELOADING=1` with the `MONOTONIC_USEC=` that `Type=notify-reload` expects: the service manager's own clock,
    /// read here for the protocol, not for any decision of andond's.
    public func reloading(status: String) {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let microseconds = UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec) / 1000
        notify("RELOADING=1\nMONOTONIC_USEC=\(microseconds)\nSTATUS=\(status.replacingNewlines)")
    }

    /// The watchdog interval the service manager expects (`WatchdogSec=`), or nil when there is none.
    public var watchdogInterval: Duration? {
        var microseconds: UInt64 = 0
        guard sd_watchdog_enabled(0, &microseconds) > 0, microseconds > 0 else { return nil }
        return .microseconds(Int64(microseconds))
    }
}

extension String {
    fileprivate var replacingNewlines: String { split(whereSeparator: \.isNewline).joined(separator: " ") }
}

func getenvString(_ name: String) -> String? { getenv(name).map { String(cString: $0) } }

/// Gives memory the process freed back to the system (glibc `malloc_trim`): after a restore, before andond serves
/// anyone (see `tuneMalloc` for why not later).
public func returnFreedMemory() {
    _ = andond_malloc_trim()
}

/// Sets glibc's malloc up for a long-running daemon, unless `MALLOC_ARENA_MAX` is set (then the environment rules):
/// one arena, so andond's threads (event loops, commit, journal, snapshot) share their freed memory (with glibc's
/// default, 100,000 open calls cost about a quarter more resident memory, and with two arenas about 8 MB more; the
/// receipt round trip did not suffer in the benchmarks); and blocks of 1 MiB and more in mappings of their own,
/// returned to the system when freed. Call before any thread starts.
///
/// `returnFreedMemory` (`malloc_trim`) is no substitute on a hot path: it holds the arena's lock while it walks it
/// (up to a hundred milliseconds and more on a large fragmented heap), and every thread allocating waits. andond
/// trims after a restore and once a burst is over (`Committer`).
public func tuneMalloc() {
    guard getenv("MALLOC_ARENA_MAX") == nil else { return }
    andond_tune_malloc(1, 1 << 20)
}
