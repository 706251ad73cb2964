import AndonCore
import AndonProtocol
import AndonTestSupport
import Foundation
import Glibc
import Testing

/// The web face of the built andond over real TCP on 127.0.0.1: the open calls as JSON, live events with their ids
/// and resumption, the metrics beside `andonctl status` (and promtool when installed), the acknowledge link, and what
/// a hostile client gets.
@Suite(.serialized) struct WebDaemonTests {
    static let key = String(repeating: "3c", count: 32)

    /// andond with an HTTP port and acknowledge links (long timeouts: the calls stay where the test puts them).
    func daemon() throws -> DaemonHarness {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("andond-web-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let keyFile = directory.appendingPathComponent("ack.key").path
        try (Self.key + "\n").write(toFile: keyFile, atomically: true, encoding: .utf8)
        chmod(keyFile, 0o600)
        return try DaemonHarness(
            configuration: { socket in
                PlantFixture.yaml(socket: socket, within: "1h", resolveWithin: nil)
                    + "\nnotify: { ack_url: \"http://127.0.0.1/ack/\", ack_key_file: \(keyFile), ack_valid_for: 1h }\n"
            },
            http: "127.0.0.1:0"
        )
    }

    @Test func theOpenCallsAsJSONAreWhatStatusSays() throws {
        let daemon = try daemon()
        for station in ["S1", "S2"] {
            #expect(try daemon.udp("andon line=L1 station=\(station) category=help").hasPrefix("ok "))
        }
        let answer = try HTTP.request(port: daemon.httpPort, "GET", "/api/v1/calls")
        #expect(answer.status == 200)
        #expect(answer.header("Content-Type") == "application/json")
        let report = try JSONDecoder().decode(StatusReport.self, from: Data(answer.body))
        #expect(report.incidents.map(\.station) == ["S1", "S2"])
        #expect(report.plant?.pageEveryone != nil, "the board learns which categories are safety")
        let one = try HTTP.request(port: daemon.httpPort, "GET", "/api/v1/calls?line=L2")
        #expect(try JSONDecoder().decode(StatusReport.self, from: Data(one.body)).incidents.isEmpty)
        #expect(try HTTP.request(port: daemon.httpPort, "GET", "/api/v1/calls?line=L9").status == 404)
    }

    @Test func everyCommittedStepIsAnEventWithItsIDAndAReconnectResumes() throws {
        let daemon = try daemon()
        let stream = try HTTP.EventStream(port: daemon.httpPort, path: "/events")
        #expect(stream.status == 200)
        let sent = Date()
        let reply = try daemon.udp("andon line=L1 station=S4 category=help text=\"<script>x</script>\"")
        let incident = try #require(field("incident", of: reply))
        let raised = try #require(stream.next { $0.event == "call" })
        let latency = Date().timeIntervalSince(sent)
        #expect(latency < 0.5, "event after \(Int(latency * 1000)) ms")
        let object = try #require(JSONSerialization.jsonObject(with: Data(raised.data.utf8)) as? [String: Any])
        #expect(object["event"] as? String == "raised")
        #expect((object["call"] as? [String: Any])?["text"] as? String == "<script>x</script>")
        #expect(String(describing: object["id"] ?? "") == incident)
        let firstID = try #require(raised.id)
        #expect(firstID.contains("-"), "an ANDON_EVENT_ID: \(firstID)")

        // Two more steps while the client is away; it resumes with Last-Event-ID and gets exactly those.
        stream.close()
        #expect(try daemon.control("ack id=\(incident)").hasPrefix("ok"))
        #expect(try daemon.udp("clear line=L1 station=S4").hasPrefix("ok "))
        let resumed = try HTTP.EventStream(port: daemon.httpPort, path: "/events", lastEventID: firstID)
        let acknowledged = try #require(resumed.next { $0.event == "call" })
        let cleared = try #require(resumed.next { $0.event == "call" })
        #expect(acknowledged.data.contains(#""event":"acknowledged""#))
        #expect(cleared.data.contains(#""event":"cleared""#) && !cleared.data.contains(#""call""#))
        #expect(
            (try? JSONSerialization.jsonObject(with: Data(cleared.data.utf8))) != nil,
            "valid JSON: \(cleared.data)"
        )
        resumed.close()

        let unknown = try HTTP.EventStream(port: daemon.httpPort, path: "/events", lastEventID: "elsewhere-9")
        #expect(unknown.next { $0.event != nil }?.event == "reset")
        unknown.close()
    }

    @Test func theMetricsAgreeWithStatusAndPassPromtool() throws {
        let daemon = try daemon()
        #expect(try daemon.udp("andon line=L1 station=S1 category=help").hasPrefix("ok "))
        #expect(try daemon.udp("andon line=L2 station=S1 category=help").hasPrefix("ok "))
        #expect(try daemon.udp("stop line=L2 reason=jam").hasPrefix("ok "))
        #expect(try daemon.udp("andon line=L9 station=S1 category=help").hasPrefix("err code=unknown-line"))
        let scrape = try HTTP.request(port: daemon.httpPort, "GET", "/metrics")
        #expect(scrape.status == 200)
        #expect(scrape.header("Content-Type")?.hasPrefix("text/plain; version=0.0.4") == true)
        let text = String(decoding: scrape.body, as: UTF8.self)
        func value(_ series: String) -> Double? {
            text.split(separator: "\n").first { $0.hasPrefix(series + " ") }.flatMap {
                Double($0.split(separator: " ")[1])
            }
        }
        let open = text.split(separator: "\n").filter { $0.hasPrefix("andond_open_calls{") }
            .compactMap { Double($0.split(separator: " ").last ?? "") }.reduce(0, +)
        #expect(Int(open) == (try daemon.openIncidents()).count)
        #expect(value(#"andond_line_stopped{line="L2"}"#) == 1)
        #expect(value(#"andond_line_stopped{line="L1"}"#) == 0)
        #expect(value(#"andond_calls_raised_total{line="L1",category="help"}"#) == 1)
        #expect(value(#"andond_calls_raised_total{line="L1",category="quality"}"#) == 0, "label sets exist at 0")
        #expect(value(#"andond_refusals_total{reason="unknown-line"}"#) == 1)
        #expect(value(#"andond_signals_total{line="L2",kind="stop"}"#) == 1)
        #expect(text.contains("andond_commit_latency_seconds_bucket"))
        #expect(!text.contains(PlantFixture.teamLeader), "no label carries a person")
        let promtool = "/usr/bin/promtool"
        if FileManager.default.isExecutableFile(atPath: promtool) {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: promtool)
            process.arguments = ["check", "metrics"]
            let input = Pipe()
            let output = Pipe()
            process.standardInput = input
            process.standardOutput = output
            process.standardError = output
            try process.run()
            input.fileHandleForWriting.write(Data(scrape.body))
            try input.fileHandleForWriting.close()
            let said = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            #expect(process.terminationStatus == 0, "promtool check metrics: \(said)")
        }
    }

    @Test func anAcknowledgeLinkShowsTheCallThenAcknowledgesOnceByPOST() throws {
        let daemon = try daemon()
        let reply = try daemon.udp("andon line=L1 station=S7 category=help")
        let incident = try #require(field("incident", of: reply).flatMap { UInt64($0) })
        let key = try #require(Hex.decode(Self.key.utf8))
        let token = AckToken(
            incident: IncidentID(incident),
            recipient: ResponderID(rawValue: "tl"),
            expires: Int64(Date().timeIntervalSince1970) + 600,
            delivery: 77
        ).encoded(key: key)
        let page = try HTTP.request(port: daemon.httpPort, "GET", "/ack/\(token)")
        #expect(page.status == 200)
        let html = String(decoding: page.body, as: UTF8.self)
        #expect(html.contains("<form method=\"post\">") && html.contains("help call at L1 S7"))
        #expect(try daemon.openIncidents().first?["acknowledgedBy"] == nil, "a GET acknowledges nothing")
        let posted = try HTTP.request(port: daemon.httpPort, "POST", "/ack/\(token)")
        #expect(posted.status == 200, "\(String(decoding: posted.body, as: UTF8.self))")
        #expect(try daemon.openIncidents().first?["acknowledgedBy"] as? String == PlantFixture.teamLeader)
        #expect(try HTTP.request(port: daemon.httpPort, "POST", "/ack/\(token)").status == 409, "single use")
        var forged = token
        forged.removeLast()
        forged += token.hasSuffix("A") ? "B" : "A"
        #expect(try HTTP.request(port: daemon.httpPort, "POST", "/ack/\(forged)").status == 403)
        #expect(try HTTP.request(port: daemon.httpPort, "POST", "/ack/not<a>token").status == 400)
        #expect(try daemon.udp("clear line=L1 station=S7").hasPrefix("ok "))
        #expect(try HTTP.request(port: daemon.httpPort, "GET", "/ack/\(token)").status == 410, "the call is over")
        let entries = try daemon.journal { entries in
            entries.contains { $0["ANDON_EVENT"] == "acknowledged" && ($0["MESSAGE"] ?? "").contains("via link") }
        }
        #expect(entries.contains { $0["ANDON_EVENT"] == "acknowledged" && ($0["MESSAGE"] ?? "").contains("via link") })
    }

    @Test func hostileClientsGetShortAnswers() throws {
        let daemon = try daemon()
        #expect(try HTTP.request(port: daemon.httpPort, "GET", "/etc/passwd").status == 404)
        #expect(try HTTP.request(port: daemon.httpPort, "POST", "/metrics").status == 405)
        #expect(try HTTP.request(port: daemon.httpPort, "DELETE", "/").status == 405)
        let big = [UInt8](repeating: UInt8(ascii: "x"), count: 10_000)
        #expect(try HTTP.request(port: daemon.httpPort, "POST", "/ack/x", body: big).status == 413)
        let header = String(repeating: "y", count: 20_000)
        let answer = try? HTTP.request(port: daemon.httpPort, "GET", "/", headers: [("X-Big", header)])
        #expect(answer.map { $0.status >= 400 } ?? true, "an oversized header is refused or cut off")
        // Still serving, and a controller is still answered.
        #expect(try HTTP.request(port: daemon.httpPort, "GET", "/").status == 200)
        #expect(try daemon.udp("heartbeat line=L1").hasPrefix("ok"))
    }
}

/// A minimal HTTP/1.1 client over a blocking socket to 127.0.0.1 (one request per connection), and an event-stream
/// reader.
enum HTTP {
    struct Answer {
        var status: Int
        var headers: [(String, String)]
        var body: [UInt8]
        func header(_ name: String) -> String? {
            headers.first { $0.0.caseInsensitiveCompare(name) == .orderedSame }?.1
        }
    }

    static func connect(_ port: UInt16, timeoutSeconds: Int = 10) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            close(fd)
            throw HarnessError("connect: \(String(cString: strerror(errno)))")
        }
        return fd
    }

    static func send(_ fd: Int32, _ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes {
                Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
            }
            if sent <= 0 { return }
            offset += sent
        }
    }

    static func request(
        port: UInt16,
        _ method: String,
        _ path: String,
        headers: [(String, String)] = [],
        body: [UInt8] = []
    ) throws -> Answer {
        let fd = try connect(port)
        defer { close(fd) }
        var text = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        for (name, value) in headers { text += "\(name): \(value)\r\n" }
        if !body.isEmpty || method == "POST" { text += "Content-Length: \(body.count)\r\n" }
        send(fd, Array((text + "\r\n").utf8) + body)
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count <= 0 { break }
            received += buffer[..<count]
        }
        return try parse(received)
    }

    static func parse(_ bytes: [UInt8]) throws -> Answer {
        let separator: [UInt8] = Array("\r\n\r\n".utf8)
        guard let end = bytes.firstRange(of: separator) else {
            throw HarnessError("no HTTP answer: \(bytes.count) bytes")
        }
        let head = String(decoding: bytes[..<end.lowerBound], as: UTF8.self).components(separatedBy: "\r\n")
        let status = Int(head.first?.split(separator: " ").dropFirst().first ?? "") ?? 0
        let headers = head.dropFirst().compactMap { line -> (String, String)? in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        return Answer(status: status, headers: headers, body: Array(bytes[end.upperBound...]))
    }

    /// `GET /events`: the status, then frames as they come.
    final class EventStream {
        struct Frame {
            var id: String?
            var event: String?
            var data: String
        }

        let fd: Int32
        private(set) var status = 0
        private var pending = ""

        init(port: UInt16, path: String, lastEventID: String? = nil) throws {
            fd = try HTTP.connect(port, timeoutSeconds: 5)
            var text = "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n"
            if let lastEventID { text += "Last-Event-ID: \(lastEventID)\r\n" }
            HTTP.send(fd, Array((text + "\r\n").utf8))
            while !pending.contains("\r\n\r\n") {
                guard read() else { throw HarnessError("no event-stream head") }
            }
            let head = pending.components(separatedBy: "\r\n\r\n")
            status = Int(head[0].split(separator: " ").dropFirst().first ?? "") ?? 0
            pending = head.dropFirst().joined(separator: "\r\n\r\n")
        }

        private func read() -> Bool {
            var buffer = [UInt8](repeating: 0, count: 65_536)
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { return false }
            pending += String(decoding: buffer[..<count], as: UTF8.self)
            return true
        }

        /// The next frame that `matches` (others are skipped), or nil after the receive timeout. Chunked framing is
        /// stripped: a chunk-size line is never a `field: value` line of the stream.
        func next(within seconds: TimeInterval = 5, _ matches: (Frame) -> Bool) -> Frame? {
            let deadline = Date().addingTimeInterval(seconds)
            while Date() < deadline {
                while let range = pending.range(of: "\n\n") {
                    let block = pending[..<range.lowerBound]
                    pending = String(pending[range.upperBound...])
                    var frame = Frame(id: nil, event: nil, data: "")
                    for line in block.split(whereSeparator: \.isNewline) {
                        if line.hasPrefix("id: ") { frame.id = String(line.dropFirst(4)) }
                        if line.hasPrefix("event: ") { frame.event = String(line.dropFirst(7)) }
                        if line.hasPrefix("data: ") { frame.data = String(line.dropFirst(6)) }
                    }
                    if matches(frame) { return frame }
                }
                guard read() else { return nil }
            }
            return nil
        }

        func close() { Glibc.close(fd) }
    }
}
