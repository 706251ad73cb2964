import Foundation

/// An IPv4 or IPv6 address with a prefix length: `10.1.0.0/24`, `192.168.1.5` (a /32), `fd00::/8`, `::1`. An IPv4
/// address mapped into IPv6 (`::ffff:10.1.0.5`, as a dual-stack socket reports it) counts as that IPv4 address.
public struct AddressRange: Sendable, Hashable, CustomStringConvertible {
    /// 4 or 16 bytes, the bits past `prefix` zero.
    public let network: [UInt8]
    public let prefix: Int

    public init?(_ text: String) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let address = Self.bytes(of: String(parts[0])) else { return nil }
        let bits = address.count * 8
        var prefix = bits
        if parts.count == 2 {
            guard let given = Int(parts[1]), (0...bits).contains(given), parts[1].allSatisfy(\.isASCII) else {
                return nil
            }
            prefix = given
        }
        self.prefix = prefix
        network = Self.masked(address, prefix: prefix)
    }

    /// Whether `address` (4 or 16 bytes, as `bytes(of:)` gives) is in the range.
    public func contains(_ address: [UInt8]) -> Bool {
        address.count == network.count && Self.masked(address, prefix: prefix) == network
    }

    public var description: String {
        var storage = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        let family = network.count == 4 ? AF_INET : AF_INET6
        let text = network.withUnsafeBytes { inet_ntop(family, $0.baseAddress, &storage, socklen_t(storage.count)) }
        let address =
            text == nil
            ? "?" : String(decoding: storage.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return prefix == network.count * 8 ? address : "\(address)/\(prefix)"
    }

    /// The address's bytes (IPv4: 4, IPv6: 16; an IPv4-mapped IPv6 address: its 4), from its text (brackets
    /// allowed); nil when it is not an address.
    public static func bytes(of host: String) -> [UInt8]? {
        var text = host
        if text.hasPrefix("["), text.hasSuffix("]") { text = String(text.dropFirst().dropLast()) }
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        guard inet_pton(AF_INET6, text, &v6) == 1 else { return nil }
        let bytes = withUnsafeBytes(of: &v6) { Array($0) }
        if bytes[0..<10].allSatisfy({ $0 == 0 }), bytes[10] == 0xff, bytes[11] == 0xff { return Array(bytes[12...]) }
        return bytes
    }

    private static func masked(_ address: [UInt8], prefix: Int) -> [UInt8] {
        address.enumerated().map { index, byte in
            let keep = max(0, min(8, prefix - index * 8))
            return keep == 8 ? byte : byte & ~(UInt8(0xff) >> keep)
        }
    }
}
