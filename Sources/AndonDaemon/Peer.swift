import AndonCore
import AndonSystemd

/// Who sent a message: a UDP address, or a process on the UNIX socket with its credentials.
public enum Peer: Sendable, Hashable, CustomStringConvertible {
    case udp(String)
    case unix(PeerCredentials)

    /// The sender as the journal records it (`ANDON_SOURCE`).
    public var source: String {
        switch self {
        case .udp(let address): address
        case .unix(let credentials): "uid=\(credentials.uid)" + (credentials.userName.map { "(\($0))" } ?? "")
        }
    }

    public var description: String { source }
}
