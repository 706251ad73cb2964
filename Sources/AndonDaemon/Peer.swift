import AndonCore
import AndonSystemd

/// Who sent a message: a UDP address, or a process on the UNIX socket with its credentials.
public enum Peer: Sendable, Hashable, CustomStringConvertible {
    case udp(String)
    /// A UNIX socket peer; `user` is its uid's name, looked up once per connection (not per message).
    case unix(PeerCredentials, user: String?)

    /// A UNIX socket peer, its user name looked up now.
    public static func unix(_ credentials: PeerCredentials) -> Peer { .unix(credentials, user: credentials.userName) }

    /// The sender as the journal records it (`ANDON_SOURCE`).
    public var source: String {
        switch self {
        case .udp(let address): address
        case .unix(let credentials, let user): "uid=\(credentials.uid)" + (user.map { "(\($0))" } ?? "")
        }
    }

    /// Who is rate-limited as one sender: a UDP host whatever its source port (a controller or a script may send
    /// each message from a new port), or a Unix user on the socket.
    public var sender: String {
        guard case .udp(let address) = self, let colon = address.lastIndex(of: ":") else { return source }
        return String(address[..<colon])
    }

    public var description: String { source }
}
