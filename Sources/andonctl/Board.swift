import AndonControl
import AndonCore
import AndonProtocol
import AndonSystemd
import ArgumentParser
import Foundation
import Glibc

extension Andonctl {
    struct Board: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "A live andon board in the terminal: every line, its stations, its open calls, KPO on duty.",
            discussion: """
                Stations are green (no call), yellow (an andon) or red (the line stopped there); each open call \
                shows its age, tier and who is on the way. The board redraws when andond writes a journal entry \
                (root, or a member of group systemd-journal or adm, sees the journal; others get a redraw every 2 s) \
                and the ages move every second. It fits 80x24 and uses a larger terminal. q or Ctrl-C quits and \
                gives the terminal back as it was. Works over ssh.
                """
        )

        @OptionGroup var client: ClientOptions
        @Option(help: "Journal entries that wake the board: FIELD=VALUE, as journalctl matches (repeat for more).")
        var match: [String] = []
        @Flag(help: "Draw once and exit (no full screen).") var once = false
        @Flag(help: "No colors.") var noColor = false

        func run() throws {
            let terminal = Terminal(enabled: !once && !client.json && isatty(STDOUT_FILENO) == 1)
            // Colours for a terminal only: `board --once | mail` or a file gets plain text.
            let colors = !noColor && isatty(STDOUT_FILENO) == 1
            guard let signalSource = SignalDescriptor([SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGWINCH]) else {
                printError("andonctl: cannot read signals: \(String(cString: strerror(errno)))")
                throw ExitCode.failure
            }
            let signals = signalSource.fileDescriptor
            terminal.enter()
            defer { terminal.leave() }

            var reader: JournalReader?
            var stops: JournalReader?
            var note: String?
            let midnight = Calendar.current.startOfDay(for: Date())
            var today = ReportBuilder(
                since: Int64(midnight.timeIntervalSince1970 * 1000),
                until: Int64.max / 2,
                fallbackTimeZone: SiteTimeZone(identifier: TimeZone.current.identifier) ?? .utc
            )
            /// Reads the stop entries not read yet; false when Ctrl-C (or TERM, HUP) came meanwhile: a cold journal
            /// of a busy day takes seconds to read, and the board must stay quick to quit.
            func readStops() -> Bool {
                var count = 0
                while let stops, stops.next() {
                    if let entry = ReportEntry(fields: stops.entry(prefix: JournalField.prefix).fields) {
                        today.add(entry)
                    }
                    count += 1
                    if count % 512 == 0 {
                        var pending = pollfd(fd: signals, events: Int16(POLLIN), revents: 0)
                        if poll(&pending, 1, 0) > 0, signalSource.next() != SIGWINCH { return false }
                    }
                }
                return true
            }
            var status: StatusReport?
            var fetchedAt = Date()
            var problem: String?
            func fetch() {
                do {
                    let reply = try client.client.send(.status(line: nil, limit: 1000))
                    if case .error(let error) = reply {
                        problem = "andond refused: \(error.reason)"
                    } else {
                        status = try ControlClient.payload(StatusReport.self, of: reply)
                        fetchedAt = Date()
                        problem = nil
                    }
                } catch {
                    problem = "\(error): retrying"
                }
            }
            func draw() {
                if client.json {
                    if let status { print(status.json) }
                    fflush(nil)
                    return
                }
                let size = Terminal.size()
                let renderer = BoardRenderer(width: size.columns, height: size.rows, color: colors)
                var shown = status ?? StatusReport(site: "andond", now: 0, incidents: [], counters: [:])
                shown.now += Int64(Date().timeIntervalSince(fetchedAt) * 1000)
                if status == nil { shown.now = Int64(Date().timeIntervalSince1970 * 1000) }
                today.until = shown.now
                let zone = shown.plant.flatMap { SiteTimeZone(identifier: $0.timeZone) } ?? today.fallbackTimeZone
                let extras = BoardRenderer.Extras(
                    stopMinutes: reader == nil ? nil : today.report().stops.byLine,
                    note: problem ?? note
                )
                terminal.show(renderer.render(shown, extras: extras, zone: zone))
            }

            fetch()
            // The first frame at once; the stop minutes follow once today's journal is read.
            if !once { draw() }
            // Today's line stops (of this plant) give the stop minutes; any new entry of andond redraws the board.
            do {
                let events = try openJournal(directory: nil, files: [], matches: match, line: nil)
                events.seekTail()
                _ = events.previous()
                reader = events
                var stopMatches = match + [JournalField.kind.match(IncidentKind.stop.rawValue)]
                if let site = status?.site { stopMatches.append(JournalField.site.match(site)) }
                let history = try openJournal(directory: nil, files: [], matches: stopMatches, line: nil)
                history.seek(realtimeMicroseconds: UInt64(max(0, midnight.timeIntervalSince1970 - 86_400) * 1_000_000))
                stops = history
                if !readStops() { return }
            } catch {
                note = "no journal (\(error)): refreshing every 2 s; join group systemd-journal for live updates"
            }
            draw()
            if once { return }
            var lastFetch = Date()
            var fds = [pollfd(fd: signals, events: Int16(POLLIN), revents: 0)]
            if let reader { fds.append(pollfd(fd: reader.fileDescriptor(), events: Int16(POLLIN), revents: 0)) }
            let input = terminal.enabled ? STDIN_FILENO : -1
            if input >= 0 { fds.append(pollfd(fd: input, events: Int16(POLLIN), revents: 0)) }
            while true {
                for index in fds.indices { fds[index].revents = 0 }
                _ = poll(&fds, nfds_t(fds.count), 1000)
                var changed = false
                for descriptor in fds where descriptor.revents != 0 {
                    if descriptor.fd == signals {
                        if signalSource.next() != SIGWINCH { return }
                    } else if descriptor.fd == input {
                        var byte: UInt8 = 0
                        if read(input, &byte, 1) <= 0 || byte == UInt8(ascii: "q") || byte == 3 { return }
                    } else if let reader {
                        reader.process()
                        while reader.next() { changed = true }
                        stops?.process()
                        if !readStops() { return }
                    }
                }
                // Events redraw at once. A slow refresh as well: every 2 s without the journal, and every 10 s with
                // it, for what the journal does not show (a journald outage, when andond writes to stderr instead).
                let refresh: TimeInterval = reader == nil ? 2 : 10
                if changed || Date().timeIntervalSince(lastFetch) >= refresh || problem != nil {
                    fetch()
                    lastFetch = Date()
                }
                if changed || !client.json { draw() }
            }
        }
    }
}

/// The terminal while the board owns it: the alternate screen, no cursor, keys without echo; all given back on
/// every way out (q, Ctrl-C, TERM, HUP, a closed ssh session).
final class Terminal {
    let enabled: Bool
    private var saved = termios()
    private var savedValid = false

    init(enabled: Bool) { self.enabled = enabled }

    func enter() {
        guard enabled else { return }
        if isatty(STDIN_FILENO) == 1, tcgetattr(STDIN_FILENO, &saved) == 0 {
            savedValid = true
            var raw = saved
            raw.c_lflag &= ~tcflag_t(ICANON | ECHO)
            tcsetattr(STDIN_FILENO, TCSANOW, &raw)
        }
        write("\u{1b}[?1049h\u{1b}[?25l\u{1b}[H\u{1b}[2J")
    }

    func leave() {
        guard enabled else { return }
        write("\u{1b}[0m\u{1b}[?25h\u{1b}[?1049l")
        if savedValid { tcsetattr(STDIN_FILENO, TCSANOW, &saved) }
    }

    /// Draws rows over the previous frame (no blank flash), clearing what is left of each row and below.
    func show(_ rows: [String]) {
        if enabled {
            write("\u{1b}[H" + rows.map { $0 + "\u{1b}[K" }.joined(separator: "\r\n") + "\u{1b}[J")
        } else {
            write(rows.joined(separator: "\n") + "\n")
        }
    }

    private func write(_ text: String) {
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeMutableBytes {
                Glibc.write(STDOUT_FILENO, $0.baseAddress! + offset, $0.count - offset)
            }
            if written <= 0 { if errno == EINTR { continue } else { return } }
            offset += written
        }
    }

    static func size() -> (columns: Int, rows: Int) {
        var size = winsize()
        if ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0, size.ws_row > 0 {
            return (Int(size.ws_col), Int(size.ws_row))
        }
        let environment = ProcessInfo.processInfo.environment
        return (Int(environment["COLUMNS"] ?? "") ?? 80, Int(environment["LINES"] ?? "") ?? 24)
    }
}
