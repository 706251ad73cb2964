import Foundation

/// Keeps incident numbers unique across restarts with one small file in the state directory, written once per
/// block of numbers rather than per incident: the file holds the first number no run may have handed out. A run
/// reserves a block before it starts, reserves the next one in the background when half of the current one is used
/// (so no event loop waits for the disk), and records the exact next number when it stops cleanly. A crash skips at
/// most the rest of a block; numbers never repeat.
///
/// Without a writable state directory the numbers start from the current time in seconds times 1000, which is also
/// unique across restarts but long; a warning says so.
struct IncidentNumbers {
    static let block: UInt64 = 1000
    let file: String?
    private(set) var reservedUpTo: UInt64
    let first: UInt64
    let warning: String?
    /// A background reservation is being written.
    private var writing = false
    /// A reservation failed; andond warned once and does not retry.
    private var failed = false

    init(stateDirectory: String?, now: Date) {
        let fallback = UInt64(max(0, now.timeIntervalSince1970)) * 1000
        guard let directory = stateDirectory else {
            (file, first, reservedUpTo, warning) = (nil, fallback, .max, nil)
            return
        }
        let path = (directory as NSString).appendingPathComponent("next-incident")
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let stored = (try? String(contentsOfFile: path, encoding: .utf8))
            .flatMap { UInt64($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        let start = stored ?? 1
        if Self.write(start + Self.block, to: path) {
            (file, first, reservedUpTo, warning) = (path, start, start + Self.block, nil)
        } else {
            (file, first, reservedUpTo) = (nil, fallback, .max)
            warning =
                "cannot write \(path) (\(String(cString: strerror(errno)))): incident numbers start from the time "
                + "instead (\(fallback)); give andond a writable state directory (StateDirectory=, --state-directory)"
        }
    }

    /// The reservation to write now, in the background, when less than half a block of reserved numbers is left and
    /// none is being written. Call `reservationWritten` with the outcome.
    mutating func reservationDue(next: UInt64) -> (file: String, value: UInt64)? {
        guard let file, !writing, !failed, next + Self.block / 2 >= reservedUpTo else { return nil }
        writing = true
        return (file, max(next, reservedUpTo) + Self.block)
    }

    mutating func reservationWritten(_ value: UInt64, succeeded: Bool) {
        writing = false
        if succeeded { reservedUpTo = max(reservedUpTo, value) } else { failed = true }
    }

    /// At a clean stop: records the exact next number, so the next run continues without a gap.
    func finish(next: UInt64) {
        guard let file else { return }
        _ = Self.write(next, to: file)
    }

    /// Writes atomically (a temporary file renamed over the old one) and durably.
    static func write(_ value: UInt64, to path: String) -> Bool {
        let temporary = path + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return false }
        let bytes = Array("\(value)\n".utf8)
        let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        let synced = fsync(fd) == 0
        close(fd)
        guard written == bytes.count, synced else { return false }
        return rename(temporary, path) == 0
    }
}
