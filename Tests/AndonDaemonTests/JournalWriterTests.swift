import Foundation
import Synchronization
import Testing

@testable import AndonSystemd

/// The journal writer on its own thread: to the real journal, to standard error without one, and bounded.
@Suite struct JournalWriterTests {
    @Test func entriesReachTheRealJournalWithEveryFieldAndMultilineValues() async throws {
        let run = UUID().uuidString.replacingOccurrences(of: "-", with: "")
        let writer = JournalWriter()
        #expect(writer.journalAvailable, "the tests need journald (scripts/setup starts one)")
        writer.start()
        var entry = JournalEntry()
        entry.add("MESSAGE", "first line\nsecond line")
        entry.add("PRIORITY", 5)
        entry.add("SYSLOG_IDENTIFIER", "andond-test")
        entry.add("ANDON_TEST_RUN", run)
        entry.add("ANDON_RESPONDER", "anna")
        entry.add("ANDON_RESPONDER", "ben")
        #expect(writer.submit(entry))
        await writer.shutdown()
        #expect(writer.statistics.written == 1)
        var found: [[String: String]] = []
        for _ in 0..<50 where found.isEmpty {
            found = try DaemonHarness.journalEntries(matching: ["ANDON_TEST_RUN=\(run)"])
            if found.isEmpty { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(found.count == 1)
        #expect(found.first?["MESSAGE"] == "first line\nsecond line")
        #expect(found.first?["PRIORITY"] == "5")
        // Both values, each once. journald does not keep their order: it stores an entry's fields by where their
        // data already is in the journal file, so a value an earlier entry used (another test's ben) comes first.
        let responders = found.first?["ANDON_RESPONDER"]?.split(separator: ",").map(String.init) ?? []
        #expect(responders.sorted() == ["anna", "ben"], "\(responders)")
        #expect(found.first?["_PID"] == String(getpid()))
    }

    @Test func withoutAJournalSocketEntriesGoToStandardErrorWithOneWarning() async throws {
        let pipe = Pipe()
        let writer = JournalWriter(socketPath: "/nonexistent/journal/socket", standardError: pipe.fileHandleForWriting)
        #expect(!writer.journalAvailable)
        writer.start()
        for index in 1...2 {
            var entry = JournalEntry()
            entry.add("MESSAGE", "call \(index)")
            entry.add("PRIORITY", 1)
            entry.add("ANDON_INCIDENT", index)
            writer.submit(entry)
        }
        await writer.shutdown()
        try pipe.fileHandleForWriting.close()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(
            output.split(separator: "\n") == [
                "<4>andond: no journal socket at /nonexistent/journal/socket; writing entries to standard error until journald answers",
                "<1>call 1 [ANDON_INCIDENT=1]", "<1>call 2 [ANDON_INCIDENT=2]",
            ]
        )
    }

    @Test func aJournaldThatStopsAnsweringIsReportedOnceAndItsReturnNoted() async throws {
        // journald answers, then refuses three entries (a socket file left by a journald that is gone), then answers
        // again: one warning, the three entries on standard error, and a note in both places when it is back.
        let pipe = Pipe()
        let sent = Mutex<[String]>([])
        let socket = FileManager.default.temporaryDirectory.appendingPathComponent("andond-journal-\(getpid())")
        try #require(FileManager.default.createFile(atPath: socket.path, contents: nil))
        defer { try? FileManager.default.removeItem(at: socket) }
        let writer = JournalWriter(socketPath: socket.path, standardError: pipe.fileHandleForWriting) { entry in
            let message = entry["MESSAGE"] ?? ""
            let refused = ["call 2", "call 3", "call 4"].contains(message)
            if !refused { sent.withLock { $0.append(message) } }
            return refused ? -ECONNREFUSED : 0
        }
        for index in 1...5 {
            var entry = JournalEntry()
            entry.add("MESSAGE", "call \(index)")
            entry.add("PRIORITY", 2)
            #expect(writer.submit(entry))
        }
        writer.start()
        await writer.shutdown()
        try pipe.fileHandleForWriting.close()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let back = "andond: journald answers again; 3 entries went to standard error meanwhile"
        #expect(
            output.split(separator: "\n").map(String.init) == [
                "<4>andond: journald does not answer at \(socket.path) (Connection refused); writing entries to "
                    + "standard error until journald answers",
                "<2>call 2", "<2>call 3", "<2>call 4", "<5>" + back,
            ]
        )
        // The first entry that gets through tells that journald is back; the note follows it.
        #expect(sent.withLock { $0 } == ["call 1", "call 5", back])
        #expect(writer.statistics.written == 3)
        #expect(writer.statistics.failed == 3)
    }

    @Test func aSocketFileWithoutAJournaldBehindItIsNoJournal() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("andond-stale-\(getpid())").path
        unlink(path)
        defer { unlink(path) }
        let fd = try bindUnixDatagramSocket(at: path)
        #expect(JournalWriter(socketPath: path).journalAvailable)
        close(fd)  // the file stays, nobody listens: what a journald that died leaves behind
        #expect(FileManager.default.fileExists(atPath: path))
        #expect(!JournalWriter(socketPath: path).journalAvailable)
    }

    @Test func aFullQueueDropsCountsAndReportsNeverBlocks() async throws {
        let pipe = Pipe()
        let writer = JournalWriter(
            capacity: 2,
            socketPath: "/nonexistent/socket",
            standardError: pipe.fileHandleForWriting
        )
        var accepted: [Bool] = []
        for index in 1...5 {
            var entry = JournalEntry()
            entry.add("MESSAGE", "entry \(index)")
            accepted.append(writer.submit(entry))
        }
        #expect(accepted == [true, true, false, false, false])
        #expect(writer.statistics.dropped == 3)
        writer.start()
        await writer.shutdown()
        try pipe.fileHandleForWriting.close()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(output.contains("<6>entry 1"))
        #expect(output.contains("<6>entry 2"))
        #expect(!output.contains("entry 3"))
        #expect(output.contains("<4>andond dropped 3 journal entries: the journal queue was full"))
    }

    @Test func everyQueuedEntryIsWrittenInOrderAcrossBatches() async throws {
        let pipe = Pipe()
        let writer = JournalWriter(
            capacity: 1000,
            socketPath: "/nonexistent/socket",
            standardError: pipe.fileHandleForWriting
        )
        for index in 1...600 {
            var entry = JournalEntry()
            entry.add("MESSAGE", "entry \(index)")
            #expect(writer.submit(entry))
        }
        let reading = Task { pipe.fileHandleForReading.readDataToEndOfFile() }
        writer.start()
        await writer.shutdown()
        try pipe.fileHandleForWriting.close()
        let lines = String(decoding: await reading.value, as: UTF8.self).split(separator: "\n").dropFirst()
        #expect(lines.map(String.init) == (1...600).map { "<6>entry \($0)" })
    }

    /// Durable entries: journald goes away after two entries and the memory queue is too small, so most of them
    /// spill to the outbox. When journald answers again, everything not yet confirmed (the two it took just before it
    /// went away may have died with it) is written again, then the rest, in order, after one note of the gap.
    /// Entries `call N` as the committer hands them over: in an outbox (the writer's backlog) and submitted, in order.
    static func commitCalls(_ numbers: ClosedRange<Int>, to writer: JournalWriter) throws {
        let outbox: [(sequence: Int64, entry: [UInt8])] = numbers.map { index in
            var entry = JournalEntry()
            entry.add("MESSAGE", "call \(index)")
            return (Int64(index), entry.serialized)
        }
        writer.durable(writtenThrough: 0, submittedThrough: 0) { after, limit in
            Array(outbox.filter { $0.sequence > after }.prefix(limit))
        }
        for (sequence, bytes) in outbox {
            writer.submitDurable(try #require(JournalEntry(serialized: bytes)), sequence: sequence)
        }
    }

    @Test func durableEntriesWaitForJournaldAndComeInOrderFromMemoryOrTheOutbox() async throws {
        let socket = FileManager.default.temporaryDirectory.appendingPathComponent("andond-journal-d-\(getpid())")
        try #require(FileManager.default.createFile(atPath: socket.path, contents: nil))
        defer { try? FileManager.default.removeItem(at: socket) }
        let sent = Mutex<[String]>([])
        let attempts = Mutex(0)
        let writer = JournalWriter(capacity: 4, socketPath: socket.path, standardError: FileHandle.nullDevice) {
            entry in
            // journald takes two entries, then refuses the next 20 attempts, whatever they are.
            let attempt = attempts.withLock {
                $0 += 1
                return $0
            }
            if (3...22).contains(attempt) { return -ECONNREFUSED }
            sent.withLock { $0.append(entry["ANDON_JOURNAL_DELAYED"].map { "gap \($0)" } ?? entry["MESSAGE"] ?? "") }
            return 0
        }
        writer.retryInterval = .milliseconds(5)
        try Self.commitCalls(1...12, to: writer)
        #expect(writer.statistics.waiting == 12)
        writer.start()
        for _ in 0..<500 where writer.statistics.waiting > 0 { try await Task.sleep(for: .milliseconds(10)) }
        await writer.shutdown()
        #expect(
            sent.withLock { $0 } == ["call 1", "call 2", "call 1", "gap 12", "call 2"] + (3...12).map { "call \($0)" }
        )
        #expect(writer.statistics.waiting == 0)
    }

    /// Durable entries beyond `durableCapacity` stay on disk and come from the outbox in their turn, in order; plain
    /// entries still find room in the queue meanwhile.
    @Test func durableEntriesBeyondTheirShareOfMemoryComeFromTheOutboxInOrder() async throws {
        let socket = FileManager.default.temporaryDirectory.appendingPathComponent("andond-journal-c-\(getpid())")
        try #require(FileManager.default.createFile(atPath: socket.path, contents: nil))
        defer { try? FileManager.default.removeItem(at: socket) }
        let sent = Mutex<[String]>([])
        let writer = JournalWriter(capacity: 100, socketPath: socket.path, standardError: FileHandle.nullDevice) {
            entry in
            sent.withLock { $0.append(entry["MESSAGE"] ?? "") }
            return 0
        }
        writer.durableCapacity = 3
        try Self.commitCalls(1...10, to: writer)
        var plain = JournalEntry()
        plain.add("MESSAGE", "plain")
        #expect(writer.submit(plain), "plain entries are not crowded out by durable ones")
        #expect(writer.statistics.queued == 4)
        writer.start()
        for _ in 0..<500 where writer.statistics.waiting > 0 { try await Task.sleep(for: .milliseconds(10)) }
        await writer.shutdown()
        let written = sent.withLock { $0 }
        #expect(written.filter { $0.hasPrefix("call") } == (1...10).map { "call \($0)" })
        #expect(written.contains("plain"))
    }

    /// After a restart, what the outbox still holds past the last written entry is written; nothing before it.
    @Test func afterARestartTheOutboxIsWrittenFromWhereTheJournalStopped() async throws {
        let sent = Mutex<[String]>([])
        let socket = FileManager.default.temporaryDirectory.appendingPathComponent("andond-journal-r-\(getpid())")
        try #require(FileManager.default.createFile(atPath: socket.path, contents: nil))
        defer { try? FileManager.default.removeItem(at: socket) }
        let writer = JournalWriter(socketPath: socket.path, standardError: FileHandle.nullDevice) { entry in
            sent.withLock { $0.append(entry["MESSAGE"] ?? "") }
            return 0
        }
        let outbox: [(sequence: Int64, entry: [UInt8])] = (1...6).map { index in
            var entry = JournalEntry()
            entry.add("MESSAGE", "call \(index)")
            return (Int64(index), entry.serialized)
        }
        writer.durable(writtenThrough: 3, submittedThrough: 6) { after, limit in
            Array(outbox.filter { $0.sequence > after }.prefix(limit))
        }
        var next = JournalEntry()
        next.add("MESSAGE", "call 7")
        writer.submitDurable(next, sequence: 7)
        writer.start()
        await writer.shutdown()
        #expect(sent.withLock { $0 } == ["call 4", "call 5", "call 6", "call 7"])
    }

    @Test func aJournalEntryRoundTripsThroughItsSerializedForm() throws {
        var entry = JournalEntry()
        entry.add("MESSAGE", "two\nlines and ünïcode")
        entry.add("ANDON_RESPONDER", "anna")
        entry.add("ANDON_RESPONDER", "")
        #expect(JournalEntry(serialized: entry.serialized) == entry)
        #expect(JournalEntry(serialized: Array(entry.serialized.dropLast())) == nil)
    }

    @Test(arguments: [
        ("MESSAGE", true), ("ANDON_TIER", true), ("A1", true), ("_PID", false), ("1ABC", false), ("andon_tier", false),
        ("ANDON-TIER", false), ("", false), (String(repeating: "A", count: 65), false),
    ])
    func fieldNamesFollowJournaldsRules(_ name: String, valid: Bool) {
        #expect(JournalEntry.isValidFieldName(name) == valid)
    }
}
