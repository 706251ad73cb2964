import AndonCore
import AndonSystemd

/// Who sent a message: a UDP address, a process on the UNIX socket with its credentials, or a web client (which may
/// only use an acknowledge link).
public enum Peer: Sendable, Hashable, CustomStringConvertible {
    case udp(String)
    /// `HOST:PORT` of an HTTP client (`POST /ack/TOKEN`).
    case http(String)
    /// A UNIX socket peer; `user` is its uid's name and `groups` its user's groups, looked up once per connection
    /// (not per message).
    case unix(PeerCredentials, user: String?, groups: [String])

    /// A UNIX socket peer, its user name and groups looked up now.
    public static func unix(_ credentials: PeerCredentials) -> Peer {
        let user = credentials.userName
        return .unix(credentials, user: user, groups: credentials.groupNames(user: user))
    }

    /// The sender as a line's `controllers:` rule sees it; nil for UDP.
    public var localSender: LocalSender? {
        guard case .unix(let credentials, let user, let groups) = self else { return nil }
        return LocalSender(uid: credentials.uid, user: user, groups: groups)
    }

    /// The sender as the journal records it (`ANDON_SOURCE`).
    public var source: String {
        switch self {
        case .udp(let address): address
        case .http(let address): "http \(address)"
        case .unix(let credentials, let user, _): "uid=\(credentials.uid)" + (user.map { "(\($0))" } ?? "")
        }
    }

    /// Who is rate-limited as one sender: a UDP host whatever its source port (a controller or a script may send
    /// each message from a new port), or a Unix user on the socket.
    public var sender: String {
        switch self {
        case .udp(let address), .http(let address):
            guard let colon = address.lastIndex(of: ":") else { return address }
            return String(address[..<colon])
        case .unix: return source
        }
    }

    public var description: String { source }
}
