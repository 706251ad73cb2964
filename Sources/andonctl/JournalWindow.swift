import AndonControl
import AndonProtocol
import AndonSystemd
import ArgumentParser
import Foundation

/// What `report` and `replay` read: andond's entries in a window, from the machine's journal or copied files.
struct JournalWindowOptions: ParsableArguments {
    @Option(help: "From this time (default 7d, a week ago): \(JournalTime.help).") var since = "7d"
    @Option(help: "Up to this time (default now).") var until = "now"
    @Option(help: "Only this line's calls.") var line: String?
    @Option(
        help:
            "Read the journal files in this directory and its subdirectories instead of the machine's journal (a copy, or a central tree: one directory per plant)."
    )
    var directory: String?
    @Option(help: "Read this journal file (repeat for more).") var file: [String] = []
    @Option(help: "Only this site's entries (ANDON_SITE, the configuration's site name; repeat for more).") var site:
        [String] = []
    @Option(help: "Only entries with FIELD=VALUE, as journalctl matches (repeat for more).") var match: [String] = []

    func validate() throws {
        guard let from = JournalTime.parse(since) else {
            throw ValidationError("--since \(since) is not a time: use \(JournalTime.help)")
        }
        guard let to = JournalTime.parse(until) else {
            throw ValidationError("--until \(until) is not a time: use \(JournalTime.help)")
        }
        if from >= to { throw ValidationError("--since must be before --until") }
        if directory != nil && !file.isEmpty { throw ValidationError("--directory and --file are one or the other") }
    }

    /// The window in milliseconds since the epoch (validate() checked both times).
    func window(now: Date = Date()) -> (since: Int64, until: Int64) {
        func milliseconds(_ text: String) -> Int64 {
            Int64((JournalTime.parse(text, now: now)!.timeIntervalSince1970 * 1000).rounded())
        }
        return (milliseconds(since), milliseconds(until))
    }

    /// Calls `body` with each of andond's call steps from a day before `since` on: journald stamps an entry when it
    /// receives it, andond's own instant (`ANDON_AT_MS`) decides, and a stop that ran into the window began before it.
    func forEachEntry(
        from since: Int64,
        notifications: (NotificationEntry) -> Void = { _ in },
        shelves: (ShelfEntry) -> Void = { _ in },
        _ body: (ReportEntry) -> Void
    ) throws {
        do {
            let reader = try openJournal(directory: directory, files: file, matches: match, line: line, sites: site)
            reader.seek(realtimeMicroseconds: UInt64(max(0, Double(since) / 1000 - 86_400) * 1_000_000))
            while reader.next() {
                let fields = reader.entry(prefix: JournalField.prefix).fields
                if let entry = ReportEntry(fields: fields) {
                    body(entry)
                } else if let notification = NotificationEntry(fields: fields) {
                    notifications(notification)
                } else if let shelf = ShelfEntry(fields: fields) {
                    shelves(shelf)
                }
            }
        } catch {
            printError("andonctl: \(error)")
            throw ExitCode(error.isPermissionDenied ? ExitCodes.notAuthorized : ExitCodes.refused)
        }
    }
}

/// andond's entries in the machine's journal, or in copied files, or in a central tree (a directory per plant).
func openJournal(
    directory: String?,
    files: [String],
    matches: [String],
    line: String?,
    sites: [String] = []
) throws(JournalReadError)
    -> JournalReader
{
    let source: JournalReader.Source =
        directory.map(JournalReader.Source.tree) ?? (files.isEmpty ? .local : .files(files))
    if source == .local { try JournalReader.checkSystemJournalAccess() }
    let reader = try JournalReader(source: source)
    try reader.addMatch(JournalField.syslogIdentifier.match(JournalSchema.identifier))
    if let line { try reader.addMatch(JournalField.line.match(line)) }
    for site in sites { try reader.addMatch(JournalField.site.match(site)) }
    for match in matches { try reader.addMatch(match) }
    return reader
}
