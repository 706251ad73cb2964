import AndonControl
import AndonCore
import AndonProtocol
import AndonSystemd
import ArgumentParser
import Foundation
import Glibc

extension Andonctl {
    struct Tail: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Follow andond's journal: one line per event, as it happens.",
            discussion: """
                Reads the journal through libsystemd (root, or a member of group systemd-journal or adm). Shows the \
                last -n entries, then follows new ones until Ctrl-C (--no-follow: stops at the end). Lines are \
                colored by priority on a terminal. --directory and --file read journal files copied from another \
                machine.
                """
        )

        @Flag(help: "Only the calls you take part in: notified, acting, or handed over from (your Unix user).")
        var me = false
        @Option(help: "Only the calls this Unix user takes part in.") var responder: String?
        @Option(help: "Only entries at this tier (as ANDON_TIER names it: team-leader, kpo, ...).") var tier: String?
        @Option(help: "Only this line's entries.") var line: String?
        @Flag(help: "Only entries of calls at the KPO tier.") var kpo = false
        @Option(
            help:
                "Entries from this time on (this machine's time zone): a date and time, today, or a time ago such as 2h."
        )
        var since: String?
        @Option(
            name: [.customShort("n"), .long],
            help: "How many of the latest entries to show first (default 10; with --since: all)."
        )
        var lines: Int?
        @Flag(help: "One JSON object per line: the entry's fields.") var json = false
        @Option(
            help:
                "Read the journal files in this directory and its subdirectories instead of the machine's journal (a copy, or a central tree: one directory per plant)."
        )
        var directory: String?
        @Option(help: "Read this journal file (repeat for more).") var file: [String] = []
        @Option(help: "Only this site's entries (ANDON_SITE; repeat for more).") var site: [String] = []
        @Option(help: "Only entries with FIELD=VALUE, as journalctl matches (repeat for more).") var match: [String] =
            []
        @Flag(help: "Stop at the end instead of following.") var noFollow = false

        func validate() throws {
            if me && responder != nil { throw ValidationError("--me and --responder are one or the other") }
            if let lines, lines < 0 { throw ValidationError("-n must be 0 or more") }
            if directory != nil && !file.isEmpty {
                throw ValidationError("--directory and --file are one or the other")
            }
            if let since, Self.microseconds(since: since) == nil {
                throw ValidationError("--since \(since) is not a time: use \(JournalTime.help)")
            }
        }

        func run() throws {
            // Ctrl-C, a TERM from a supervisor, a closed pipe: each ends the follower, whatever mask it inherited.
            var stop = sigset_t()
            sigemptyset(&stop)
            for number in [SIGINT, SIGTERM, SIGHUP, SIGPIPE] {
                sigaddset(&stop, number)
                signal(number, SIG_DFL)
            }
            pthread_sigmask(SIG_UNBLOCK, &stop, nil)
            var reader: JournalReader
            do {
                reader = try openJournal(directory: directory, files: file, matches: match, line: line, sites: site)
            } catch {
                printError("andonctl: \(error)")
                throw ExitCode(error.isPermissionDenied ? ExitCodes.notAuthorized : ExitCodes.refused)
            }
            var user = responder
            if me { user = PeerCredentials.userName(of: getuid()) ?? String(getuid()) }
            let filter = TailFilter(user: user, tier: tier, kpo: kpo)
            let color = !json && isatty(STDOUT_FILENO) == 1
            // A shipped journal can hold an entry twice (journal-remote resends the last one it had after a restart).
            var recent = RecentEventIDs()
            func show(_ entry: JournalReader.Entry) {
                if let id = entry[JournalField.eventID.rawValue], !recent.insert(id) { return }
                let text =
                    json
                    ? TailFormatter.json(entry.fields, realtimeMicroseconds: entry.realtimeMicroseconds)
                    : TailFormatter.line(entry.fields, realtimeMicroseconds: entry.realtimeMicroseconds, color: color)
                print(text)
            }
            if let since, let start = Self.microseconds(since: since) {
                reader.seek(realtimeMicroseconds: start)
                var shown: [JournalReader.Entry] = []
                while reader.next() {
                    let entry = reader.entry()
                    if filter.admits(entry.fields) { shown.append(entry) }
                }
                for entry in shown.suffix(lines ?? shown.count) { show(entry) }
            } else {
                // The latest matching entries, found backwards from the end, shown in order.
                reader.seekTail()
                var latest: [JournalReader.Entry] = []
                var latestIDs: Set<String> = []
                let wanted = lines ?? 10
                while latest.count < wanted, reader.previous() {
                    let entry = reader.entry()
                    guard filter.admits(entry.fields) else { continue }
                    // An entry there twice counts once toward -n.
                    if let id = entry[JournalField.eventID.rawValue], !latestIDs.insert(id).inserted { continue }
                    latest.append(entry)
                }
                for entry in latest.reversed() { show(entry) }
                reader.seekTail()
                _ = reader.previous()
            }
            fflush(nil)
            guard !noFollow else { return }
            // A central tree gains files (a plant added, journal-remote rotating): read them too, from where it was.
            var files = directory.map(JournalReader.journalFiles(under:)) ?? []
            while true {
                while reader.next() {
                    let entry = reader.entry()
                    if filter.admits(entry.fields) { show(entry) }
                }
                fflush(nil)
                reader.wait(microseconds: 1_000_000)
                if let directory, JournalReader.journalFiles(under: directory) != files,
                    let reopened = try? openJournal(
                        directory: directory,
                        files: [],
                        matches: match,
                        line: line,
                        sites: site
                    )
                {
                    files = JournalReader.journalFiles(under: directory)
                    if let cursor = reader.cursor() { reopened.seek(after: cursor) } else { reopened.seekTail() }
                    reader = reopened
                }
            }
        }

        /// `--since` in microseconds since the epoch.
        static func microseconds(since text: String) -> UInt64? {
            JournalTime.parse(text).map { UInt64(max(0, $0.timeIntervalSince1970) * 1_000_000) }
        }
    }
}
