import AndonProtocol
import Foundation
import Testing

/// What a sender writes is data in every view: every class of character the protocol takes goes through
/// `status --json`, `board --once`, `tail --json`, `report --format json` and the HTML report, each read back by a
/// real JSON parser or checked as HTML; control characters are refused and change nothing.
@Suite struct SenderTextTests {
    /// The texts the protocol accepts, one per class.
    static let texts: [(name: String, text: String)] = [
        ("bidi override", "x\u{202E}y"),
        ("bidi isolates and marks", "a\u{2066}b\u{2069}c\u{200F}d\u{202A}e"),
        ("line and paragraph separators", "l\u{2028}m\u{2029}n"),
        ("zero-width", "z\u{200B}w\u{200D}j\u{FEFF}"),
        ("combining marks", "e\u{0301}\u{0308} a\u{0323}"),
        ("emoji", "🛑 🔧 👩‍🔧 🇩🇪"),
        ("markup and quotes", #"<b>"q" & 'r'</b> \ end"#),
    ]

    /// `text="..."` as a message carries it: only `"` and `\` are escaped; the rest goes as the sender's bytes.
    static func quoted(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }

    /// The longest text one message can carry: the message is exactly `WireMessage.maximumLength` bytes.
    static func longest(prefix: String) -> String {
        var text = ""
        while (prefix + quoted(text + "é")).utf8.count <= WireMessage.maximumLength { text += "é" }
        while (prefix + quoted(text + "x")).utf8.count <= WireMessage.maximumLength { text += "x" }
        return text
    }

    /// Whether `text` holds a character that could reorder, hide or break what a reader sees.
    static func hasInvisible(_ text: String) -> Bool {
        text.unicodeScalars.contains { scalar in
            switch scalar.value {
            case 0x0a: false
            case 0..<0x20, 0x7f...0x9f, 0x200e, 0x200f, 0x2028...0x202e, 0x2066...0x2069, 0xfeff: true
            default: false
            }
        }
    }

    @Test func everyTextIsDataInEveryView() throws {
        let daemon = try DaemonHarness()
        var sent: [String: String] = [:]
        for (index, entry) in Self.texts.enumerated() {
            let reply = try daemon.udp("andon line=L1 station=T\(index) category=help text=\(Self.quoted(entry.text))")
            #expect(reply.hasPrefix("ok incident="), "\(entry.name): \(reply)")
            sent["T\(index)"] = entry.text
        }
        let prefix = "andon line=L2 station=LONG category=help text="
        let longest = Self.longest(prefix: prefix)
        let message = prefix + Self.quoted(longest)
        #expect(message.utf8.count == WireMessage.maximumLength || message.utf8.count == WireMessage.maximumLength - 1)
        #expect(try daemon.udp(message).hasPrefix("ok incident="), "the longest text")
        sent["LONG"] = longest
        // A line stop whose reason mixes them all: it reaches the report's stop minutes.
        let reason = Self.texts.map(\.text).joined(separator: "|")
        #expect(try daemon.udp("stop line=L3 station=R1 reason=\(Self.quoted(reason))").hasPrefix("ok incident="))
        // Controls are refused, C0, DEL and C1 alike, and open nothing.
        for control in ["\u{1B}[2J", "bell\u{07}", "del\u{7F}", "nel\u{85}", "csi\u{9B}"] {
            let reply = try daemon.udp("andon line=L1 station=C1 category=help text=\(Self.quoted(control))")
            #expect(reply.hasPrefix("err code=bad-value"), "\(control.debugDescription): \(reply)")
        }

        // status --json: valid JSON for everyone, every text back exactly, nothing invisible in the bytes.
        let status = try daemon.andonctl(["status", "--json"])
        #expect(status.status == 0, "\(status.stderr)")
        #expect(!Self.hasInvisible(status.stdout))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any])
        let incidents = try #require(object["incidents"] as? [[String: Any]])
        #expect(incidents.count == sent.count + 1)
        for incident in incidents where incident["line"] as? String != "L3" {
            let station = try #require(incident["station"] as? String)
            #expect(incident["text"] as? String == sent[station], "status --json, station \(station)")
        }
        #expect(incidents.contains { $0["line"] as? String == "L3" && $0["text"] as? String == reason })
        // And the table: every call, the texts escaped.
        let table = try daemon.andonctl(["status"])
        #expect(table.status == 0)
        #expect(!Self.hasInvisible(table.stdout))
        #expect(table.stdout.contains("\(sent.count + 1) open calls"))

        // board --once: the calls counted, nothing invisible, no colours into a pipe.
        let board = try daemon.andonctl(["board", "--once"])
        #expect(board.status == 0, "\(board.stderr)")
        #expect(board.stdout.contains("\(sent.count + 1) open"), "\(board.stdout)")
        #expect(!board.stdout.contains("KPO on duty: ?"))
        #expect(!Self.hasInvisible(board.stdout), "\(board.stdout.debugDescription)")

        #expect(try daemon.udp("resume line=L3").hasPrefix("ok"))
        let entries = try daemon.journal { $0.contains { $0["ANDON_EVENT"] == "resumed" } }
        let raisedTexts = Set(entries.filter { $0["ANDON_EVENT"] == "raised" }.compactMap { $0["ANDON_REASON"] })
        #expect(raisedTexts == Set(sent.values).union([reason]), "the journal keeps each text as sent")
        #expect(
            entries.allSatisfy { !Self.hasInvisible($0["MESSAGE"] ?? "") },
            "MESSAGE escapes what senders wrote"
        )

        // tail --json: one parseable object a line, ANDON_TEXT exactly as sent.
        let tail = try DaemonHarness.runAndonctl([
            "tail", "--json", "--no-follow", "--match", "_PID=\(daemon.pid)", "-n", "1000",
        ])
        #expect(tail.status == 0)
        #expect(!Self.hasInvisible(tail.stdout))
        var tailTexts: Set<String> = []
        for line in tail.stdout.split(separator: "\n") {
            let entry = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            if entry["ANDON_EVENT"] as? String == "raised", let text = entry["ANDON_REASON"] as? String {
                tailTexts.insert(text)
            }
        }
        #expect(tailTexts == Set(sent.values).union([reason]), "tail --json")

        // report: JSON parses and keeps the stop's reason; the HTML page shows it escaped, markup and all.
        let window = ["--match", "_PID=\(daemon.pid)", "--since", "today"]
        let report = try DaemonHarness.runAndonctl(["report", "--format", "json"] + window)
        #expect(report.status == 0)
        #expect(!Self.hasInvisible(report.stdout))
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(report.stdout.utf8)) as? [String: Any])
        #expect((parsed["total"] as? [String: Any])?["calls"] as? Int == sent.count + 1)
        #expect(report.stdout.contains(#"<b>\"q\""#), "the reason in the report's JSON: \(report.stdout)")
        let html = try DaemonHarness.runAndonctl(["report", "--format", "html"] + window)
        #expect(html.status == 0)
        #expect(!html.stdout.contains("<b>"), "markup from a sender is text, not markup")
        #expect(html.stdout.contains("&lt;b&gt;&quot;q&quot; &amp; &#39;r&#39;&lt;/b&gt;"))
        #expect(!Self.hasInvisible(html.stdout))
        #expect(html.stdout.contains(#"x\u{202e}y"#), "a bidi override is shown, not obeyed")
        let tables = html.stdout.components(separatedBy: "<table").count
        #expect(tables > 1 && tables == html.stdout.components(separatedBy: "</table>").count)
    }
}
