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

    func run() throws {
        let now = Instant(millisecondsSinceEpoch: Int64(Date().timeIntervalSince1970 * 1000))
        let configuration: Configuration
        do {
            configuration = try ConfigurationLoader.load(path: config, now: now, kpoGaps: .leaveToCaller)
        } catch {
            FileHandle.standardError.write(Data("andon-notify: \(error)\n".utf8))
            throw ExitCode(78)
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

    nonisolated(unsafe) static var sources: [any DispatchSourceSignal] = []
}
