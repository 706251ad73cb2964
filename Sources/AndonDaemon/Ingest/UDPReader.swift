import AndonConfig
import AndonCore
import AndonProtocol
import AndonSystemd
import Foundation
import NIOCore
import Synchronization

/// Reads the UDP socket on its own thread and hands each datagram to the signal path; a failed read ends nothing.
///
/// Each source address has a budget (`listen.udp_rate` a second, `listen.udp_burst` at once, token buckets): what is
/// over it is dropped here, before parsing, without a reply (a reply would amplify a flood) and summed up in one
/// journal entry per source every 10 s. A flood from one address then costs a hash lookup per datagram and never
/// delays another source's signals. A safety andon or a line stop from an address some line lists in `senders:` is
/// never dropped.
final class UDPReader: @unchecked Sendable {
    let descriptor: Int32
    let signals: SignalPath
    let sender: UDPReplySender
    // Touched only on the reader's thread.
    private var buckets: TokenBuckets<SourceKey>
    /// Drops per source since the last summary, for at most `droppedSources` sources (a flood from ever-changing,
    /// spoofed addresses must not grow it without bound); the rest are counted in `droppedElsewhere`.
    private var dropped: [SourceKey: (peer: String, count: Int)] = [:]
    private var droppedElsewhere = 0
    static let droppedSources = 1024
    private var authorised: [AddressRange] = []
    static let summaryInterval: UInt64 = 10_000_000_000
    /// When the next summary is due (the clock's nanoseconds): set by the first drop after one, so that an idle
    /// andond's reader sleeps in `poll` until a datagram comes or `stop` writes to `wake`.
    private var summaryDue: UInt64?
    /// When `authorised` was last read from the configuration (a reload may change it).
    private var authorisedAt: UInt64 = 0

    private let stopping = Atomic<Bool>(false)
    /// A pipe `stop` writes to, to end the thread's `poll`.
    private let wake: (read: Int32, write: Int32)
    private let exit = Mutex<(ended: Bool, waiter: CheckedContinuation<Void, Never>?)>((false, nil))

    init(descriptor: Int32, signals: SignalPath) {
        self.descriptor = descriptor
        self.signals = signals
        sender = UDPReplySender(descriptor: descriptor)
        let listen = signals.admission.configuration.listen
        buckets = TokenBuckets(rate: listen.udpRate, burst: listen.udpBurst)
        authorised = signals.admission.authorisedSenders
        var ends: [Int32] = [-1, -1]
        if pipe(&ends) == 0 {
            for end in ends { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        }
        wake = (ends[0], ends[1])
    }

    deinit {
        close(wake.read)
        close(wake.write)
    }

    func start() {
        let thread = Thread { [self] in
            run()
            let waiter = exit.withLock { exit in
                exit.ended = true
                return exit.waiter
            }
            waiter?.resume()
        }
        thread.name = "andond-udp"
        thread.start()
    }

    /// Asks the thread to end and waits until it has (within one poll), its last summary written.
    func stop() async {
        stopping.store(true, ordering: .relaxed)
        var byte: UInt8 = 1
        _ = write(wake.write, &byte, 1)
        await withCheckedContinuation { continuation in
            let ended = exit.withLock { exit in
                if !exit.ended { exit.waiter = continuation }
                return exit.ended
            }
            if ended { continuation.resume() }
        }
    }

    private func run() {
        let reads = DatagramReads(count: UDPListener.vectorReadCount, room: UDPListener.datagramRoom)
        while !stopping.load(ordering: .relaxed) {
            var ready = [
                pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0),
                pollfd(fd: wake.read, events: Int16(POLLIN), revents: 0),
            ]
            // Without a wake pipe (pipe(2) failed), look at the stop flag every 100 ms instead.
            var timeout: Int32 = wake.read < 0 ? 100 : -1
            if let due = summaryDue {
                let now = nanoseconds
                let untilDue = due > now ? Int32(clamping: (due - now) / 1_000_000 + 1) : 0
                timeout = timeout < 0 ? untilDue : min(timeout, untilDue)
            }
            var polled = poll(&ready, 2, timeout)
            if polled < 0, errno != EINTR { readFailed("poll: \(String(cString: strerror(errno)))") }
            if ready[0].revents == 0 { polled = 0 }
            // Up to 16 vector reads in a row, then the stop flag and the summary's time are looked at again.
            var rounds = 0
            while polled > 0, rounds < 16 {
                rounds += 1
                let now = nanoseconds
                let received = reads.read(descriptor) { datagram, fullLength, source, length in
                    take(datagram, fullLength: fullLength, from: source, length: length, now: now)
                }
                if received < 0 {
                    let error = Int32(-received)
                    if error != EAGAIN, error != EWOULDBLOCK, error != EINTR {
                        readFailed("recvmmsg: \(String(cString: strerror(error)))")
                    }
                    break
                }
                if received < reads.count { break }
            }
            if let due = summaryDue, nanoseconds >= due {
                summarise()
                summaryDue = nil
            }
        }
        summarise()
    }

    private func readFailed(_ what: String) {
        signals.peerErrors.record(
            "read-failed",
            "a datagram could not be read: \(what)",
            peer: "udp",
            host: "udp-receive"
        )
        // A failure that repeats (it should not) must not spin a core.
        usleep(10_000)
    }

    /// One datagram: over its source's budget it is counted and dropped; otherwise it goes to the dispatcher, and
    /// the reply back to its source.
    private func take(
        _ datagram: UnsafeRawBufferPointer,
        fullLength: Int,
        from name: UnsafeRawPointer,
        length: Int,
        now: UInt64
    ) {
        let key = SourceKey(name, length: length)
        if !buckets.take(key, now: now), !isSafetyCallFromAnAuthorisedSender(datagram, key, now: now) {
            if summaryDue == nil { summaryDue = now + Self.summaryInterval }
            if let index = dropped.index(forKey: key) {
                dropped.values[index].count += 1
            } else if dropped.count < Self.droppedSources {
                // The address alone, as the refusal log names a host: all of an address's ports share one budget.
                let host = Self.socketAddress(name, length: length).map { Peer.udp(describe($0)).sender }
                dropped[key] = (host ?? "?", 1)
            } else {
                droppedElsewhere += 1
            }
            return
        }
        guard let remote = Self.socketAddress(name, length: length) else { return }
        let peer = describe(remote)
        let sender = sender
        let signals = signals
        if fullLength > datagram.count {
            // Cut to its buffer: refused with its real size, as a stream line over the limit is.
            _ = sender.send(signals.refuseTooLong(fullLength, from: .udp(peer)).rendered, to: remote)
            return
        }
        signals.handle(Array(datagram), from: .udp(peer)) { reply in
            if let failure = sender.send(reply.rendered, to: remote) {
                signals.peerErrors.record(
                    "reply-failed",
                    "cannot send the reply to \(peer): \(failure)",
                    peer: peer,
                    host: Peer.udp(peer).sender
                )
            }
        }
    }

    private static func socketAddress(_ name: UnsafeRawPointer, length: Int) -> SocketAddress? {
        switch Int32(name.load(as: sa_family_t.self)) {
        case AF_INET where length >= MemoryLayout<sockaddr_in>.size:
            return SocketAddress(name.loadUnaligned(as: sockaddr_in.self))
        case AF_INET6 where length >= MemoryLayout<sockaddr_in6>.size:
            return SocketAddress(name.loadUnaligned(as: sockaddr_in6.self))
        default: return nil
        }
    }

    /// Over its budget, a datagram still goes on when it is a safety andon or a line stop from an address a line
    /// lists: people must be called whatever else that controller sends.
    private func isSafetyCallFromAnAuthorisedSender(
        _ datagram: UnsafeRawBufferPointer,
        _ key: SourceKey,
        now: UInt64
    ) -> Bool {
        // The senders a reload may have changed, read again at most once a second (a flood calls this for each drop).
        if now &- authorisedAt >= 1_000_000_000 {
            authorised = signals.admission.authorisedSenders
            authorisedAt = now
        }
        guard let address = key.bytes, authorised.contains(where: { $0.contains(address) }) else { return false }
        switch Request.parse(datagram) {
        case .success(.signal(.andon(_, _, .safety, _), _, _)), .success(.signal(.stop, _, _)): return true
        default: return false
        }
    }

    /// One journal entry per source that went over its budget since the last one.
    private func summarise() {
        guard !dropped.isEmpty || droppedElsewhere > 0 else { return }
        let listen = (rate: buckets.rate, burst: buckets.burst)
        let seconds = Self.summaryInterval / 1_000_000_000
        for (_, drop) in dropped.sorted(by: { $0.value.count > $1.value.count }).prefix(100) {
            signals.journal.submit(
                .daemon(
                    "dropped \(drop.count) datagram\(drop.count == 1 ? "" : "s") from \(drop.peer) (any port) "
                        + "over its budget of \(Int(listen.rate))/s (burst \(Int(listen.burst))) in the last "
                        + "\(seconds) s, without replies",
                    priority: .warning,
                    id: MessageID.floodDropped,
                    fields: [
                        (.source, drop.peer), (.dropped, String(drop.count)),
                        (.reason, "over-budget"),
                    ]
                )
            )
        }
        if droppedElsewhere > 0 {
            signals.journal.submit(
                .daemon(
                    "dropped \(droppedElsewhere) more datagrams over their budgets from more than "
                        + "\(Self.droppedSources) other sources in the last \(seconds) s (spoofed addresses?), "
                        + "without replies",
                    priority: .warning,
                    id: MessageID.floodDropped,
                    fields: [
                        (.source, "many"), (.dropped, String(droppedElsewhere)),
                        (.reason, "over-budget"),
                    ]
                )
            )
        }
        signals.droppedOverBudget.add(dropped.values.reduce(droppedElsewhere) { $0 + $1.count }, ordering: .relaxed)
        dropped.removeAll(keepingCapacity: true)
        droppedElsewhere = 0
    }

    /// The injected clock, in nanoseconds (the token buckets' unit; a clock that steps back refills nothing).
    private var nanoseconds: UInt64 { UInt64(clamping: signals.clock.now.millisecondsSinceEpoch) &* 1_000_000 }
}
