import CSystemd
import Foundation
import Glibc

/// Reads journal entries through libsystemd's `sd_journal` API: the machine's journal, a directory of journal files
/// copied from elsewhere, or the files themselves.
///
/// An `sd_journal` is bound to the thread that opened it (sd_journal_open(3)): create a reader, use it and let it go on
/// one thread. It is not `Sendable` for that reason.
public final class JournalReader {
    public enum Source: Sendable, Hashable {
        /// The local machine's journal (system and user journals).
        case local
        /// Every journal file in a directory (`/var/log/journal/<machine-id>` of another machine, say).
        case directory(String)
        case files([String])
        /// Every journal file in a directory and its subdirectories: a central tree, one directory per plant
        /// (`sd_journal_open_directory` reads only files and machine-ID directories).
        case tree(String)
    }

    /// One entry: each field's values (a field may be given more than once, `ANDON_RESPONDER`), and when journald
    /// received it.
    public struct Entry: Sendable, Hashable {
        public var fields: [String: [String]]
        public var realtimeMicroseconds: UInt64

        public subscript(name: String) -> String? { fields[name]?.first }
        public func values(_ name: String) -> [String] { fields[name] ?? [] }
    }

    private var journal: OpaquePointer?

    public init(source: Source) throws(JournalReadError) {
        var opened: OpaquePointer?
        let result: Int32
        switch source {
        case .local:
            result = sd_journal_open(&opened, Int32(SD_JOURNAL_LOCAL_ONLY))
        case .directory(let path):
            result = sd_journal_open_directory(&opened, path, 0)
        case .files, .tree:
            var paths: [String] = []
            if case .files(let given) = source { paths = given }
            if case .tree(let root) = source {
                paths = Self.journalFiles(under: root)
                if paths.isEmpty {
                    throw JournalReadError(description: "no journal files under \(root)", isPermissionDenied: false)
                }
            }
            var pointers = paths.map { strdup($0) }
            pointers.append(nil)
            defer { for pointer in pointers { free(pointer) } }
            result = pointers.withUnsafeMutableBufferPointer { buffer in
                buffer.baseAddress!.withMemoryRebound(to: UnsafePointer<CChar>?.self, capacity: buffer.count) {
                    sd_journal_open_files(&opened, $0, 0)
                }
            }
        }
        guard result >= 0, let opened else { throw JournalReadError("cannot open the journal", code: result) }
        journal = opened
    }

    deinit { sd_journal_close(journal) }

    /// Only entries with `FIELD=value`; matches of one field are alternatives, of different fields all must hold.
    public func addMatch(_ match: String) throws(JournalReadError) {
        let result = match.withCString { sd_journal_add_match(journal, $0, 0) }
        guard result >= 0 else { throw JournalReadError("bad journal match '\(match)'", code: result) }
    }

    public func seekTail() { sd_journal_seek_tail(journal) }
    public func seekHead() { sd_journal_seek_head(journal) }
    public func seek(realtimeMicroseconds: UInt64) { sd_journal_seek_realtime_usec(journal, realtimeMicroseconds) }

    /// Moves to the next (older, for `previous`) entry; false at the end.
    public func next() -> Bool { sd_journal_next(journal) > 0 }
    public func previous() -> Bool { sd_journal_previous(journal) > 0 }

    /// The entry at the current position; with a `prefix`, only the fields whose names start with it (the others are
    /// not even decoded: a report reads 200,000 entries).
    public func entry(prefix: String = "") -> Entry {
        var fields: [String: [String]] = [:]
        var data: UnsafeRawPointer?
        var length = 0
        let prefix = Array(prefix.utf8)
        sd_journal_restart_data(journal)
        while sd_journal_enumerate_data(journal, &data, &length) > 0, let data {
            if !prefix.isEmpty, length < prefix.count || memcmp(data, prefix, prefix.count) != 0 { continue }
            guard let equalsPointer = memchr(data, Int32(UInt8(ascii: "=")), length) else { continue }
            let equals = data.distance(to: UnsafeRawPointer(equalsPointer))
            let name = String(
                decoding: UnsafeRawBufferPointer(start: data, count: equals),
                as: UTF8.self
            )
            let value = String(
                decoding: UnsafeRawBufferPointer(start: data + equals + 1, count: length - equals - 1),
                as: UTF8.self
            )
            fields[name, default: []].append(value)
        }
        var realtime: UInt64 = 0
        sd_journal_get_realtime_usec(journal, &realtime)
        return Entry(fields: fields, realtimeMicroseconds: realtime)
    }

    /// A descriptor to `poll` for changes (with other descriptors); call `process()` after it woke.
    public func fileDescriptor() -> Int32 { sd_journal_get_fd(journal) }

    /// Takes in what changed (new entries, a rotation) after the descriptor woke; true when entries were added.
    @discardableResult
    public func process() -> Bool {
        let result = sd_journal_process(journal)
        return result == SD_JOURNAL_APPEND || result == SD_JOURNAL_INVALIDATE
    }

    /// Waits until the journal changes (new entries, a rotation), at most `microseconds`.
    public func wait(microseconds: UInt64) { _ = sd_journal_wait(journal, microseconds) }

    /// The current entry's cursor.
    public func cursor() -> String? {
        var text: UnsafeMutablePointer<CChar>?
        guard sd_journal_get_cursor(journal, &text) >= 0, let text else { return nil }
        defer { free(text) }
        return String(cString: text)
    }

    /// Moves to the entry after `cursor` (the next `next()` returns it): where a reader opened anew goes on.
    public func seek(after cursor: String) {
        guard cursor.withCString({ sd_journal_seek_cursor(journal, $0) }) >= 0 else { return }
        // The cursor's own entry when it is still there; else the seek left the position just before the next one.
        if sd_journal_next(journal) > 0, cursor.withCString({ sd_journal_test_cursor(journal, $0) }) <= 0 {
            sd_journal_previous(journal)
        }
    }

    /// The journal files (`*.journal`, and `*.journal~` that journald or journal-remote set aside) in `root` and its
    /// subdirectories, three levels deep at most, sorted.
    public static func journalFiles(under root: String) -> [String] {
        var found: [String] = []
        func walk(_ directory: String, depth: Int) {
            guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return }
            for name in names.sorted() {
                let path = directory.hasSuffix("/") ? directory + name : directory + "/" + name
                var isDirectory: ObjCBool = false
                guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { continue }
                if isDirectory.boolValue {
                    if depth < 3 { walk(path, depth: depth + 1) }
                } else if name.hasSuffix(".journal") || name.hasSuffix(".journal~") {
                    found.append(path)
                }
            }
        }
        walk(root, depth: 0)
        return found
    }
}

public struct JournalReadError: Error, CustomStringConvertible {
    public var description: String
    /// The machine's journal has system files this user may not read: what it shows would be empty, not the truth.
    public var isPermissionDenied = false

    init(_ what: String, code: Int32) {
        description = "\(what): \(String(cString: strerror(-code)))"
    }

    init(description: String, isPermissionDenied: Bool) {
        self.description = description
        self.isPermissionDenied = isPermissionDenied
    }
}

extension JournalReader {
    /// Where journald keeps the machine's system journal: persistent, then volatile storage.
    public static let systemJournalDirectories = ["/var/log/journal", "/run/log/journal"]

    /// Throws unless at least one system journal file (`system.journal`, `system@...journal`) of this machine can be
    /// read: `sd_journal_open` opens what it may and says nothing of the rest, so a user outside systemd-journal and
    /// adm would read an empty journal and see a perfect week. As journalctl's own access check does, on the files.
    public static func checkSystemJournalAccess(
        in directories: [String] = systemJournalDirectories
    )
        throws(JournalReadError)
    {
        let machineID =
            (try? String(contentsOfFile: "/etc/machine-id", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        var denied: [String] = []
        for directory in directories {
            let folder = machineID.isEmpty ? directory : directory + "/" + machineID
            guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else {
                if access(folder, F_OK) == 0 { denied.append(folder) }
                continue
            }
            for name in names where name.hasPrefix("system") && name.hasSuffix(".journal") {
                let path = folder + "/" + name
                if access(path, R_OK) == 0 { return }
                denied.append(path)
            }
        }
        guard denied.isEmpty else {
            throw JournalReadError(
                description: "cannot read the system journal, where andond writes (\(denied[0]): permission denied); "
                    + "join the group systemd-journal or adm (usermod -aG systemd-journal \(Self.userName)) and log in "
                    + "again, or run as root",
                isPermissionDenied: true
            )
        }
        throw JournalReadError(
            description: "no system journal in \(directories.joined(separator: " or ")): is systemd-journald running "
                + "on this machine? (--directory or --file read copied journal files)",
            isPermissionDenied: false
        )
    }

    private static var userName: String {
        getpwuid(getuid()).flatMap { $0.pointee.pw_name.map { String(cString: $0) } } ?? "$USER"
    }
}
