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

    /// The names of the peer's primary group and, when it has a user name, that user's other groups.
    public func groupNames(user: String?) -> [String] {
        var gids = [gid]
        if let user {
            var count: Int32 = 64
            var list = [gid_t](repeating: 0, count: Int(count))
            if getgrouplist(user, gid, &list, &count) == -1 {
                list = [gid_t](repeating: 0, count: Int(count))
                _ = getgrouplist(user, gid, &list, &count)
            }
            for found in list.prefix(Int(max(0, count))) where !gids.contains(found) { gids.append(found) }
        }
        return gids.compactMap(Self.groupName(of:))
    }

    public static func groupName(of gid: UInt32) -> String? {
        var entry = group()
        var result: UnsafeMutablePointer<group>?
        var buffer = [CChar](repeating: 0, count: 16_384)
        guard getgrgid_r(gid, &entry, &buffer, buffer.count, &result) == 0, let found = result,
            let name = found.pointee.gr_name
        else { return nil }
        return String(cString: name)
    }

    public var description: String { "uid=\(uid)" + (userName.map { "(\($0))" } ?? "") + " pid=\(pid)" }
}
