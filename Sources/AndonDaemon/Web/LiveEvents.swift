import AndonCore
import AndonProtocol
import AndonSystemd
import DequeModule
import Foundation
import NIOCore
import Synchronization

/// `GET /events`: every committed step of a call as a Server-Sent Event, fanned out to the connected boards.
///
/// The commit stage hands over each batch's journal entries once they are on disk (so a board never shows what a
/// crash could take back); this hub's own queue turns each into one frame, encoded once for every client: `id:` the
/// entry's `ANDON_EVENT_ID`, `event: call`, `data:` the step and the call as `/api/v1/calls` shows it now (absent once
/// it is over). The last `ringSize` frames are kept: a client that reconnects with `Last-Event-ID` gets what it
/// missed; one further behind (or from before a restart that lost entries) gets `event: reset` and reloads.
/// A client whose socket does not keep up is dropped (it reconnects and resumes) rather than held in memory.
package final class LiveEvents: Sendable {
    /// One connected client: `send` writes on its event loop and returns false when the client is too far behind.
    package struct Subscriber: Sendable {
        package var line: String?
        package var send: @Sendable (ByteBuffer) -> Bool
        package var close: @Sendable () -> Void

        package init(
            line: String?,
            send: @escaping @Sendable (ByteBuffer) -> Bool,
            close: @escaping @Sendable () -> Void
        ) {
            self.line = line
            self.send = send
            self.close = close
        }
    }

    struct Frame: Sendable {
        var sequence: Int64
        var line: String?
        var bytes: ByteBuffer
    }

    private struct State: Sendable {
        var ring = Deque<Frame>()
        var subscribers: [Int: Subscriber] = [:]
        var nextSubscriber = 1
        /// The last sequence a frame was made for (the store's numbering continues across restarts).
        var last: Int64
    }

    let storeID: String
    let ringSize: Int
    private let state: Mutex<State>
    private let queue = DispatchQueue(label: "andond.web.events")
    /// The call as the board shows it now, or nil once it is over.
    private let report: @Sendable (IncidentID) -> IncidentReport?
    private let clock: any AndonClock

    /// - Parameter next: the store's next event number: a client whose last id is just before it missed nothing.
    package init(
        storeID: String,
        next: Int64,
        ringSize: Int = 10_000,
        clock: any AndonClock,
        report: @escaping @Sendable (IncidentID) -> IncidentReport?
    ) {
        self.storeID = storeID
        self.ringSize = ringSize
        self.report = report
        self.clock = clock
        state = Mutex(State(last: next - 1))
    }

    package var subscriberCount: Int { state.withLock { $0.subscribers.count } }

    // MARK: From the commit stage

    /// A committed batch's kept entries (their outbox numbers): framed and sent on the hub's queue, not the commit
    /// thread.
    func committed(_ entries: [(sequence: Int64, entry: JournalEntry)]) {
        guard !entries.isEmpty else { return }
        queue.async { [self] in publish(entries) }
    }

    /// Frames and sends at once (tests and the hub's queue).
    package func publish(_ entries: [(sequence: Int64, entry: JournalEntry)]) {
        var frames: [Frame] = []
        for (sequence, entry) in entries {
            guard let event = entry[.event], let incident = entry[.incident].flatMap(IncidentID.init) else { continue }
            frames.append(
                Frame(
                    sequence: sequence,
                    line: entry[.line],
                    bytes: Self.frame(
                        id: "\(storeID)-\(sequence)",
                        event: event,
                        incident: incident,
                        line: entry[.line],
                        call: report(incident),
                        now: clock.now
                    )
                )
            )
        }
        guard let lastSequence = entries.last?.sequence else { return }
        let dropped: [Subscriber] = state.withLock { state in
            state.last = max(state.last, lastSequence)
            for frame in frames {
                state.ring.append(frame)
                if state.ring.count > ringSize { state.ring.removeFirst() }
            }
            // One write per board for the whole batch (a board of every line gets the same bytes: made once).
            var all: ByteBuffer?
            var dropped: [Subscriber] = []
            for (key, subscriber) in state.subscribers {
                let bytes: ByteBuffer
                if subscriber.line == nil {
                    if all == nil { all = Self.joined(frames) }
                    bytes = all!  // !: set on the line above
                } else {
                    bytes = Self.joined(frames.filter { $0.line == subscriber.line })
                }
                if bytes.readableBytes > 0, !subscriber.send(bytes) {
                    dropped.append(subscriber)
                    state.subscribers[key] = nil
                }
            }
            return dropped
        }
        for subscriber in dropped { subscriber.close() }
    }

    /// A change to a call that is not a journal entry of its own (a notification failed for good): a frame without
    /// `id:` (a reconnect does not replay it; the board reloads the calls when it must), sent on the hub's queue.
    func changed(_ incident: IncidentID, event: String) {
        queue.async { [self] in
            guard let call = report(incident) else { return }
            let bytes = Self.frame(
                id: nil,
                event: event,
                incident: incident,
                line: call.line,
                call: call,
                now: clock.now
            )
            fanOut(bytes, line: call.line)
        }
    }

    private static func joined(_ frames: [Frame]) -> ByteBuffer {
        guard frames.count != 1 else { return frames[0].bytes }
        var buffer = ByteBuffer()
        for frame in frames { buffer.writeImmutableBuffer(frame.bytes) }
        return buffer
    }

    // MARK: Clients

    /// Registers a client; returns its key and what it missed since `lastEventID` (nil: a new client, nothing to
    /// replay), or a `reset` frame when that is no longer known. Registering and reading the ring happen under one
    /// lock, so no frame falls between them.
    package func subscribe(_ subscriber: Subscriber, lastEventID: String?) -> (key: Int, replay: [ByteBuffer]) {
        state.withLock { state in
            let key = state.nextSubscriber
            state.nextSubscriber += 1
            state.subscribers[key] = subscriber
            var replay: [ByteBuffer] = [Self.retry]
            guard let lastEventID else { return (key, replay) }
            let known: Int64? = {
                guard lastEventID.hasPrefix(storeID + "-") else { return nil }
                return Int64(lastEventID.dropFirst(storeID.count + 1))
            }()
            let oldest = state.ring.first?.sequence ?? (state.last + 1)
            guard let known, known <= state.last, known >= oldest - 1 else {
                replay.append(Self.reset)
                return (key, replay)
            }
            for frame in state.ring where frame.sequence > known {
                if subscriber.line == nil || subscriber.line == frame.line { replay.append(frame.bytes) }
            }
            return (key, replay)
        }
    }

    package func unsubscribe(_ key: Int) {
        _ = state.withLock { $0.subscribers.removeValue(forKey: key) }
    }

    /// Sends `bytes` to every client (the keep-alive comment, the clock tick); drops those that do not keep up.
    package func broadcast(_ bytes: ByteBuffer) { fanOut(bytes, line: nil) }

    /// Sends `bytes` to every client of `line` (all when nil) and drops those that do not keep up.
    private func fanOut(_ bytes: ByteBuffer, line: String?) {
        let dropped: [Subscriber] = state.withLock { state in
            var dropped: [Subscriber] = []
            for (key, subscriber) in state.subscribers
            where line == nil || subscriber.line == nil || subscriber.line == line {
                if !subscriber.send(bytes) {
                    dropped.append(subscriber)
                    state.subscribers[key] = nil
                }
            }
            return dropped
        }
        for subscriber in dropped { subscriber.close() }
    }

    /// Closes every client (at shutdown).
    package func closeAll() {
        let all = state.withLock { state in
            defer { state.subscribers = [:] }
            return Array(state.subscribers.values)
        }
        for subscriber in all { subscriber.close() }
    }

    // MARK: Frames

    /// How long a browser waits before it reconnects.
    static let retry = ByteBuffer(string: "retry: 2000\n\n")
    /// The client missed more than the ring holds: reload everything.
    static let reset = ByteBuffer(string: "event: reset\ndata: {}\n\n")
    /// The comment that keeps proxies and idle timeouts from closing the stream (every 15 s).
    package static let keepAlive = ByteBuffer(string: ": keep-alive\n\n")

    /// The clock tick (every 2 s): the board's clock follows andond's, and a silent stream is noticed within 5 s.
    static func tick(now: Instant) -> ByteBuffer {
        ByteBuffer(string: "event: tick\ndata: {\"now\":\(now.millisecondsSinceEpoch)}\n\n")
    }

    static func frame(
        id: String?,
        event: String,
        incident: IncidentID,
        line: String?,
        call: IncidentReport?,
        now: Instant
    ) -> ByteBuffer {
        var writer = JSONWriter()
        writer.object { writer in
            // Absent once the call is over.
            if let call {
                writer.key("call")
                call.write(to: &writer)
            }
            writer.field("event", event)
            writer.field("id", incident.number)
            writer.field("line", line)
            writer.field("now", now.millisecondsSinceEpoch)
        }
        // JSON has no raw newlines (JSONWriter escapes them in strings), so the data is one `data:` line.
        var buffer = ByteBuffer()
        if let id { buffer.writeString("id: \(id)\n") }
        buffer.writeString("event: call\ndata: ")
        buffer.writeBytes(writer.bytes)
        buffer.writeString("\n\n")
        return buffer
    }
}
