import Foundation

/// Says who holds an address andond wanted, so a second andond can name the first.
enum SocketHolder {
    /// The process with a UDP socket bound to `port` (from /proc/net/udp and /proc/PID/fd), as `andond (pid 123)`.
    static func find(udpPort port: Int) -> String? {
        var inodes: Set<String> = []
        for table in ["/proc/net/udp", "/proc/net/udp6"] {
            guard let text = try? String(contentsOfFile: table, encoding: .utf8) else { continue }
            for line in text.split(separator: "\n").dropFirst() {
                let columns = line.split(separator: " ", omittingEmptySubsequences: true)
                guard columns.count > 9, let colon = columns[1].lastIndex(of: ":"),
                    Int(columns[1][columns[1].index(after: colon)...], radix: 16) == port
                else { continue }
                inodes.insert(String(columns[9]))
            }
        }
        guard !inodes.isEmpty else { return nil }
        let targets = Set(inodes.map { "socket:[\($0)]" })
        let processes = (try? FileManager.default.contentsOfDirectory(atPath: "/proc"))?.filter { Int($0) != nil } ?? []
        for pid in processes where Int32(pid) != getpid() {
            let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd")) ?? []
            for fd in fds {
                guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/fd/\(fd)"),
                    targets.contains(target)
                else { continue }
                let name =
                    (try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8))?
                    .trimmingCharacters(in: .whitespacesAndNewlines) ?? "process"
                return "\(name) (pid \(pid))"
            }
        }
        return nil
    }

    /// When a process answers on the UNIX stream socket at `path`: what it says to `ping` (an andond gives its pid),
    /// or a plain description. Nil when nothing answers (a socket file left behind, or no file).
    static func answering(unixPath path: String) -> String? {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { return nil }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) == 0
            }
        }
        guard connected else { return nil }
        var timeout = timeval(tv_sec: 1, tv_usec: 0)
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let ping = Array("ping\n".utf8)
        _ = ping.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        var buffer = [UInt8](repeating: 0, count: 512)
        let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        let reply = count > 0 ? String(decoding: buffer[..<count], as: UTF8.self) : ""
        if let range = reply.range(of: "pid=") {
            let pid = reply[range.upperBound...].prefix { $0.isNumber }
            return "another andond (pid \(pid))"
        }
        return "another process"
    }
}
