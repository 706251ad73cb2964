import CSystemd
import Glibc

/// The credentials of the process at the other end of a UNIX socket (`SO_PEERCRED`).
/// Mirrors `struct ucred`, which Swift cannot see without `_GNU_SOURCE`.
public struct PeerCredentials: Sendable, Hashable, CustomStringConvertible {
    public var pid: Int32
    public var uid: UInt32
    public var gid: UInt32

    public init(pid: Int32, uid: UInt32, gid: UInt32) {
        self.pid = pid
        self.uid = uid
        self.gid = gid
    }

    /// `SOL_SOCKET` / `SO_PEERCRED` on Linux.
    public static let socketOptionLevel: Int32 = SOL_SOCKET
    public static let socketOptionName: Int32 = 17

    /// The Unix user name of `uid`, or nil when it has none.
    public var userName: String? { Self.userName(of: uid) }

    public static func userName(of uid: UInt32) -> String? {
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 4096)
        guard getpwuid_r(uid, &entry, &buffer, buffer.count, &result) == 0, let found = result,
            let name = found.pointee.pw_name
        else { return nil }
        return String(cString: name)
    }

    public var description: String { "uid=\(uid)" + (userName.map { "(\($0))" } ?? "") + " pid=\(pid)" }
}
