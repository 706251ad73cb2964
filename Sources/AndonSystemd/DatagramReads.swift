import CSystemd
import Glibc

/// Vector reads (`recvmmsg`) of a datagram socket into buffers allocated once: reading a datagram allocates nothing,
/// so a reader can look at a flood's datagrams (and drop most of them) at the cost of the kernel's copy. For one
/// thread; `read` is not reentrant.
public final class DatagramReads {
    /// Datagrams per system call, and the room for each (a longer one is cut to it: the caller sees `room` bytes).
    public let count: Int
    public let room: Int
    private let buffer: UnsafeMutableRawPointer
    private let names: UnsafeMutablePointer<sockaddr_storage>
    private let vectors: UnsafeMutablePointer<iovec>
    private let messages: UnsafeMutablePointer<andond_mmsghdr>

    public init(count: Int, room: Int) {
        self.count = count
        self.room = room
        buffer = .allocate(byteCount: count * room, alignment: 16)
        names = .allocate(capacity: count)
        vectors = .allocate(capacity: count)
        messages = .allocate(capacity: count)
    }

    deinit {
        buffer.deallocate()
        names.deallocate()
        vectors.deallocate()
        messages.deallocate()
    }

    /// Reads what waits on `descriptor`, at most `count` datagrams, without waiting, and calls `body` for each with
    /// its bytes (at most `room`), its real length (more than `room` when it was cut) and its source (a `sockaddr`
    /// and its length). Returns how many were read, or `-errno` (`-EAGAIN` when none waits). The pointers are valid
    /// only within `body`.
    public func read(
        _ descriptor: Int32,
        _ body:
            (
                _ datagram: UnsafeRawBufferPointer, _ fullLength: Int, _ source: UnsafeRawPointer,
                _ sourceLength: Int
            ) -> Void
    ) -> Int {
        for index in 0..<count {
            vectors[index] = iovec(iov_base: buffer + index * room, iov_len: room)
            messages[index] = andond_mmsghdr()
            messages[index].msg_hdr.msg_name = UnsafeMutableRawPointer(names + index)
            messages[index].msg_hdr.msg_namelen = socklen_t(MemoryLayout<sockaddr_storage>.size)
            messages[index].msg_hdr.msg_iov = vectors + index
            messages[index].msg_hdr.msg_iovlen = 1
        }
        let received = andond_recvmmsg(descriptor, messages, UInt32(count))
        guard received >= 0 else { return -Int(errno) }
        for index in 0..<Int(received) {
            let fullLength = Int(messages[index].msg_len)
            body(
                UnsafeRawBufferPointer(start: buffer + index * room, count: min(fullLength, room)),
                fullLength,
                UnsafeRawPointer(names + index),
                Int(messages[index].msg_hdr.msg_namelen)
            )
        }
        return Int(received)
    }
}
