import Foundation
import Glibc

/// Tests/notify/receiver.py on 127.0.0.1: a real HTTP receiver whose answers a test scripts per path, and which
/// records every POST it gets.
final class WebhookReceiver {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("notify/receiver.py").path

    struct Post: Decodable {
        var path: String
        var t: Double
        var action: String
        var key: String?
        var attempt: String?
        var delivery: String?
        var signature: String?
        var type: String?
        var body: String

        var json: [String: Any]? { try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any] }
    }

    let directory: URL
    let logPath: String
    private(set) var port: UInt16 = 0
    private var process: Process?

    /// Starts the receiver (on `port`, else an ephemeral one).
    init(port: UInt16? = nil) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("andond-receiver-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        logPath = directory.appendingPathComponent("posts.jsonl").path
        try start(port: port)
    }

    var url: String { "http://127.0.0.1:\(port)" }

    func start(port fixed: UInt16? = nil) throws {
        let portFile = directory.appendingPathComponent("port-\(UUID())").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = [Self.script, portFile, logPath] + (fixed.map { ["--port", String($0)] } ?? [])
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        self.process = process
        let deadline = Date().addingTimeInterval(15)
        while Date() < deadline {
            if let text = try? String(contentsOfFile: portFile, encoding: .utf8), let number = UInt16(text) {
                port = number
                return
            }
            guard process.isRunning else { break }
            usleep(20_000)
        }
        throw HarnessError("the receiver did not start")
    }

    /// The receiver gone: its port refuses connections until `start(port:)`.
    func stop() {
        guard let process, process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(at: directory)
    }

    /// Scripts the answers to `path`'s next POSTs (`200`, `500`, `429:2`, `hang`).
    func script(_ path: String, _ actions: [String]) throws {
        let answer = try HTTP.request(
            port: port,
            "PUT",
            "/_script\(path)",
            body: Array(actions.joined(separator: ",").utf8)
        )
        guard answer.status == 204 else { throw HarnessError("the receiver answered \(answer.status) to a script") }
    }

    /// Every POST so far.
    var posts: [Post] {
        guard let text = try? String(contentsOfFile: logPath, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { try? JSONDecoder().decode(Post.self, from: Data($0.utf8)) }
    }

    /// Waits (bounded) until the POSTs satisfy `done`; returns them.
    @discardableResult
    func wait(timeout: TimeInterval = 20, until done: ([Post]) -> Bool) throws -> [Post] {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let posts = self.posts
            if done(posts) { return posts }
            guard Date() < deadline else {
                throw HarnessError(
                    "the receiver's posts did not come within \(timeout) s: \(posts.map { "\($0.path) \($0.action) \($0.key ?? "")" })"
                )
            }
            usleep(50_000)
        }
    }
}

/// The built andon-notify, on a test's andond.
final class NotifierProcess {
    static let binary = DaemonHarness.buildDirectory.appendingPathComponent("andon-notify").path
    let process = Process()
    let stderr = Pipe()

    init(daemon: DaemonHarness) throws {
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = ["--config", daemon.configPath, "--socket", daemon.socketPath]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = stderr
        try process.run()
    }

    func kill9() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    deinit { kill9() }
}
