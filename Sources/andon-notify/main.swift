import AndonConfig
import AndonCore
import AndonNotify
import ArgumentParser
import Foundation

/// andon-notify: sends andond's notifications. andond keeps its network-free sandbox; this process has network,
/// only to the channels' addresses (systemd/andon-notify.service).
@main
struct AndonNotifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "andon-notify",
        abstract: "Send andond's notifications through the channels of the configuration (channels:)."
    )

    @Option(name: .long, help: "The configuration file (andond's).")
    var config = "/etc/andond/andond.yaml"

    @Option(name: .long, help: "andond's UNIX socket (default: $ANDOND_SOCKET, else /run/andond.sock).")
    var socket: String?

    @Option(name: .long, help: "Requests in flight at most.")
    var concurrency = 64

    @Flag(
        name: .long,
        help: "Print an IPAddressAllow= line with the addresses of the channels' receivers (resolved now), and exit."
    )
    var printAllowedAddresses = false

    func run() throws {
        let now = Instant(millisecondsSinceEpoch: Int64(Date().timeIntervalSince1970 * 1000))
        let configuration: Configuration
        do {
            configuration = try ConfigurationLoader.load(path: config, now: now, kpoGaps: .leaveToCaller)
        } catch {
            FileHandle.standardError.write(Data("andon-notify: \(error)\n".utf8))
            throw ExitCode(78)
        }
        if printAllowedAddresses {
            var addresses: [String] = []
            for settings in configuration.channels.values.sorted(by: { $0.id < $1.id }) {
                guard
                    let host = URLComponents(
                        string: settings.url.replacingOccurrences(of: "{{", with: "x")
                            .replacingOccurrences(of: "}}", with: "x")
                    )?.host
                else { continue }
                for address in Self.resolve(host) where !addresses.contains(address) { addresses.append(address) }
            }
            print("IPAddressAllow=" + (addresses.isEmpty ? "localhost" : addresses.joined(separator: " ")))
            return
        }
        let credentials = ProcessInfo.processInfo.environment["CREDENTIALS_DIRECTORY"]
        var channels: [String: PreparedChannel] = [:]
        for (id, settings) in configuration.channels {
            do {
                channels[id.rawValue] = try PreparedChannel(settings, credentials: credentials)
            } catch {
                FileHandle.standardError.write(Data("andon-notify: \(error)\n".utf8))
                throw ExitCode(78)
            }
        }
        if channels.isEmpty {
            FileHandle.standardError.write(
                Data("andon-notify: \(config) defines no channels: nothing to send (channels: in docs)\n".utf8)
            )
        }
        var options = NotifyLoop.Options()
        options.socket = socket
        options.concurrency = max(1, concurrency)
        options.ackURL = configuration.notify.ackURL
        let loop = NotifyLoop(channels: channels, options: options)
        for signal in [SIGTERM, SIGINT] {
            Foundation.signal(signal, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signal, queue: .global())
            source.setEventHandler { loop.stop() }
            source.resume()
            Self.sources.append(source)
        }
        FileHandle.standardError.write(
            Data("andon-notify: sending through \(channels.keys.sorted().joined(separator: ", "))\n".utf8)
        )
        loop.run()
    }

    /// The IPv4 and IPv6 addresses of `host` (a literal address is itself).
    static func resolve(_ host: String) -> [String] {
        let bare = host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : host
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(bare, nil, &hints, &result) == 0 else { return [] }
        defer { freeaddrinfo(result) }
        var addresses: [String] = []
        var entry = result
        while let current = entry {
            var buffer = [CChar](repeating: 0, count: Int(NI_MAXHOST))
            if getnameinfo(
                current.pointee.ai_addr,
                current.pointee.ai_addrlen,
                &buffer,
                socklen_t(buffer.count),
                nil,
                0,
                NI_NUMERICHOST
            ) == 0 {
                let text = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                if !addresses.contains(text) { addresses.append(text) }
            }
            entry = current.pointee.ai_next
        }
        return addresses
    }

    nonisolated(unsafe) static var sources: [any DispatchSourceSignal] = []
}
