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

    public var description: String { source }
}
