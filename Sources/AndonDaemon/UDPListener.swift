import AndonConfig
import AndonCore
import AndonProtocol
import AndonSystemd
import Foundation
import NIOCore
import ServiceLifecycle
import Synchronization

/// Line controllers over UDP: one message per datagram; the reply goes back to the sender.
///
/// andond keeps the socket itself (bound here without `SO_REUSEADDR`, with a large receive buffer, or inherited from
/// `andond.socket`) and reads it on a thread of its own (`UDPReader`) with vector reads (`recvmmsg`) into buffers it
/// reuses: a flood datagram over its source's budget costs the kernel's copy and a hash lookup, no allocation, so
/// one flooding address cannot slow the reads another source's signals wait behind. Replies leave once their input
/// is on disk, from the commit thread, with a non-blocking `sendto` on the same socket. A reply that cannot be sent
/// (`EPERM` behind a `prohibit` route, a full send buffer) or a failed read is counted and journaled (rate-limited)
/// and ends nothing: the socket stays open and read.
struct UDPListener: Service {
    /// Messages read per system call (`recvmmsg`), and the room for each: datagrams over the 1024-byte limit must be
    /// seen as too long, not cut silently, so each gets 2 KiB.
    static let vectorReadCount = 64
    static let datagramRoom = 2048
    /// The receive buffer andond asks for on a socket it binds (`andond.socket` sets `ReceiveBuffer=` itself): about
    /// 40,000 small datagrams, two seconds at 20,000 signals/s, so a pause (journald busy on the same cores, a slow
    /// fsync) costs time, not signals. Kernel memory, used only while datagrams wait.
    static let receiveBuffer: Int32 = 32 << 20

    let descriptor: Int32
    let dispatcher: Dispatcher
    let address: String

    /// Binds `address` (HOST:PORT) or, with `descriptor`, adopts an inherited datagram socket.
    static func bind(
        _ address: String,
        descriptor: Int32? = nil,
        dispatcher: Dispatcher
    ) throws -> UDPListener {
        let fd = try descriptor ?? makeSocket(address)
        return UDPListener(
            descriptor: fd,
            dispatcher: dispatcher,
            address: localAddress(of: fd) ?? address
        )
    }

    private static func makeSocket(_ address: String) throws -> Int32 {
        guard let (host, port) = ListenSettings.splitHostPort(address) else {
            throw ListenError(what: "udp \(address)", reason: "not HOST:PORT")
        }
        let socketAddress: SocketAddress
        do {
            socketAddress = try SocketAddress.makeAddressResolvingHost(host, port: port)
        } catch {
            throw ListenError(what: "udp \(address)", reason: "cannot resolve \(host): \(error)")
        }
        let fd = socket(
            socketAddress.protocol.rawValue,
            Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue),
            0
        )
        guard fd >= 0 else {
            throw ListenError(what: "udp \(address)", reason: String(cString: strerror(errno)))
        }
        var size = receiveBuffer
        // As root the limit of net.core.rmem_max does not apply (SO_RCVBUFFORCE); otherwise take what is allowed.
        if setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, socklen_t(MemoryLayout<Int32>.size)) != 0 {
            _ = setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        let bound = socketAddress.withSockAddr { pointer, length in Glibc.bind(fd, pointer, socklen_t(length)) }
        guard bound == 0 else {
            let reason = errno
            close(fd)
            if reason == EADDRINUSE {
                let holder = SocketHolder.find(udpPort: port)
                throw ListenError(
                    what: "udp \(address)",
                    reason: "the address is in use"
                        + (holder.map { " by \($0)" } ?? " by another process (ss -lunp shows which)")
                        + "; stop it, or give this andond another --udp address"
                )
            }
            throw ListenError(what: "udp \(address)", reason: String(cString: strerror(reason)))
        }
        return fd
    }

    func run() async throws {
        let reader = UDPReader(descriptor: descriptor, dispatcher: dispatcher)
        reader.start()
        // Until the service group shuts down (gracefully or by cancellation); then the thread ends within one poll.
        try? await gracefulShutdown()
        await reader.stop()
        close(descriptor)
    }

    private static func localAddress(of fd: Int32) -> String? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let found = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard found == 0 else { return nil }
        let family = Int32(storage.ss_family)
        let address = withUnsafeBytes(of: &storage) { raw -> SocketAddress? in
            switch family {
            case AF_INET: return SocketAddress(raw.load(as: sockaddr_in.self), host: "")
            case AF_INET6: return SocketAddress(raw.load(as: sockaddr_in6.self), host: "")
            default: return nil
            }
        }
        return address.map(describe)
    }
}

/// Reads the UDP socket on its own thread and hands each datagram to the dispatcher; a failed read ends nothing.
///
/// Each source address has a budget (`listen.udp_rate` a second, `listen.udp_burst` at once, token buckets): what is
/// over it is dropped here, before parsing, without a reply (a reply would amplify a flood) and summed up in one
/// journal entry per source every 10 s. A flood from one address then costs a hash lookup per datagram and never
/// delays another source's signals. A safety andon or a line stop from an address some line lists in `senders:` is
/// never dropped.
final class UDPReader: @unchecked Sendable {
    let descriptor: Int32
    let dispatcher: Dispatcher
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
    /// When the next summary is due (monotonic nanoseconds): set by the first drop after one, so that an idle
    /// andond's reader sleeps in `poll` until a datagram comes or `stop` writes to `wake`.
    private var summaryDue: UInt64?
    /// When `authorised` was last read from the configuration (a reload may change it).
    private var authorisedAt: UInt64 = 0

    private let stopping = Atomic<Bool>(false)
    /// A pipe `stop` writes to, to end the thread's `poll`.
    private let wake: (read: Int32, write: Int32)
    private let exit = Mutex<(ended: Bool, waiter: CheckedContinuation<Void, Never>?)>((false, nil))

    init(descriptor: Int32, dispatcher: Dispatcher) {
        self.descriptor = descriptor
        self.dispatcher = dispatcher
        sender = UDPReplySender(descriptor: descriptor)
        let listen = dispatcher.configuration.listen
        buckets = TokenBuckets(rate: listen.udpRate, burst: listen.udpBurst)
        authorised = dispatcher.authorisedSenders()
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
                let now = DispatchTime.now().uptimeNanoseconds
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
                let now = DispatchTime.now().uptimeNanoseconds
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
            if let due = summaryDue, DispatchTime.now().uptimeNanoseconds >= due {
                summarise()
                summaryDue = nil
            }
        }
        summarise()
    }

    private func readFailed(_ what: String) {
        dispatcher.peerError("read-failed", "a datagram could not be read: \(what)", peer: "udp", host: "udp-receive")
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
        let dispatcher = dispatcher
        if fullLength > datagram.count {
            // Cut to its buffer: refused with its real size, as a stream line over the limit is.
            _ = sender.send(dispatcher.refuseTooLong(fullLength, from: .udp(peer)).rendered, to: remote)
            return
        }
        dispatcher.handle(Array(datagram), from: .udp(peer)) { reply in
            if let failure = sender.send(reply.rendered, to: remote) {
                dispatcher.peerError(
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
            authorised = dispatcher.authorisedSenders()
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
            dispatcher.journal.submit(
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
            dispatcher.journal.submit(
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
        dispatcher.countDropped(dropped.values.reduce(droppedElsewhere) { $0 + $1.count })
        dropped.removeAll(keepingCapacity: true)
        droppedElsewhere = 0
    }
}

/// A datagram's source address as a cheap hash key (no string per datagram).
enum SourceKey: Hashable, Sendable {
    case v4(UInt32)
    case v6(UInt64, UInt64)
    case other

    /// From a `sockaddr` of `length` bytes: sockaddr_in has the address at byte 4, sockaddr_in6 at byte 8.
    init(_ name: UnsafeRawPointer, length: Int) {
        switch Int32(name.load(as: sa_family_t.self)) {
        case AF_INET where length >= 8: self = .v4(name.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
        case AF_INET6 where length >= 24:
            self = .v6(
                name.loadUnaligned(fromByteOffset: 8, as: UInt64.self),
                name.loadUnaligned(fromByteOffset: 16, as: UInt64.self)
            )
        default: self = .other
        }
    }

    /// The address's bytes as `AddressRange` takes them (an IPv4-mapped IPv6 address as its 4).
    var bytes: [UInt8]? {
        switch self {
        case .v4(var value): return withUnsafeBytes(of: &value) { Array($0) }
        case .v6(var high, var low):
            let all = withUnsafeBytes(of: &high) { Array($0) } + withUnsafeBytes(of: &low) { Array($0) }
            if all[0..<10].allSatisfy({ $0 == 0 }), all[10] == 0xff, all[11] == 0xff { return Array(all[12...]) }
            return all
        case .other: return nil
        }
    }
}

/// Sends replies with `sendto` on the listener's socket: non-blocking, from any thread, errors returned.
struct UDPReplySender: Sendable {
    let descriptor: Int32

    /// Nil when sent; otherwise why not.
    func send(_ line: String, to address: SocketAddress) -> String? {
        var bytes = Array(line.utf8)
        bytes.append(UInt8(ascii: "\n"))
        let sent = address.withSockAddr { pointer, length in
            bytes.withUnsafeBytes {
                sendto(
                    descriptor,
                    $0.baseAddress,
                    $0.count,
                    Int32(MSG_DONTWAIT) | Int32(MSG_NOSIGNAL),
                    pointer,
                    socklen_t(length)
                )
            }
        }
        return sent < 0 ? String(cString: strerror(errno)) : nil
    }
}
