import AndonConfig
import AndonCore
import AndonProtocol
import AndonTestSupport
import Foundation
import Testing

/// The wire protocol: every shared vector, and the parser's rules one by one.
@Suite struct ProtocolTests {
    static let example = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("etc/andond/andond.yaml").path
    static let now = SiteTimeZone(identifier: "Europe/Berlin")!.instant(of: LocalDateTime(parsing: "2026-11-25 10:00")!)
    static let plant = try! ConfigurationLoader.load(path: example, now: now).plant  // the example is valid (tested)

    /// What andond replies to one message on a fresh engine.
    static func reply(to bytes: [UInt8]) -> Reply {
        switch Request.parse(bytes) {
        case .failure(let error): return .error(error)
        case .success(.signal(let signal, let sequence, _)):
            var engine = EscalationEngine(plant: plant, startingAt: now)
            let outcome = engine.receive(signal, at: now, origin: SignalOrigin(source: "test", sequence: sequence))
            return .signal(outcome, sequence: sequence, plant: plant)
        case .success(.stateQuery(let line, _, let sequence)):
            if case .failure(let rejection) = plant.line(line) {
                return .error(WireError(.unknownLine, rejection.message))
            }
            return .ok(["line": line.rawValue, "calls": "0", "incidents": "-", "seq": sequence.map(String.init)])
        case .success(let request): return .error(WireError(.notAuthorized, "control request \(request) in a vector"))
        }
    }

    @Test func theVectorFileIsComplete() {
        let shared = ProtocolVector.all.filter { $0.file == "vectors.tsv" }
        #expect(shared.count == 28)
        #expect(shared.filter(\.expectsOK).count == 11)
        let own = ProtocolVector.all.filter { $0.file == "vectors-0.4.tsv" }
        #expect(own.count == 10)
        #expect(own.filter(\.expectsOK).count == 3)
        let questions = ProtocolVector.all.filter { $0.file == "vectors-0.7.tsv" }
        #expect(questions.count == 13)
        #expect(questions.filter(\.expectsOK).count == 4)
    }

    @Test(arguments: ProtocolVector.all)
    func everyVectorGetsItsReply(_ vector: ProtocolVector) throws {
        let reply = Self.reply(to: vector.bytes).rendered
        #expect(vector.matches(reply), "\(reply)")
        // Every reply is itself one valid line that a client can parse.
        #expect(!reply.contains("\n"))
        #expect((try? Reply.parse(reply).get()) != nil)
    }

    @Test func aRaisedAndonRepliesWithItsIncidentTierAndResponders() {
        let reply = Self.reply(to: Array("andon line=L1 station=S3 category=quality seq=7".utf8))
        #expect(reply.rendered == "ok incident=1 event=raised tier=team-leader responders=anna seq=7")
    }

    @Test func quotedValuesRoundTrip() throws {
        let text = #"andon line=L2 station=S12 category=material text="say \"hi\" \\ bye""#
        let message = try WireMessage.parse(text).get()
        #expect(message["text"] == #"say "hi" \ bye"#)
        #expect(message.rendered == text)
        let request = try Request.parse(Array(text.utf8)).get()
        #expect(
            request
                == .signal(
                    .andon(line: "L2", station: "S12", category: .material, text: #"say "hi" \ bye"#),
                    sequence: nil
                )
        )
        #expect(request.message.rendered == text)
    }

    /// The verbs are defined once (`Request.Verb`); the core's name of a signal (in its refusals) is the same word.
    @Test func everyVerbParsesAsItselfAndTheCoreNamesSignalsAlike() throws {
        let signals: [Signal] = [
            .andon(line: "L1", station: "S1", category: .help, text: nil), .stop(line: "L1", station: nil, reason: nil),
            .clear(line: "L1", station: "S1"), .arrived(line: "L1", station: "S1", responder: nil), .resume(line: "L1"),
            .heartbeat(line: "L1"), .lost(line: "L1", reason: nil),
        ]
        for signal in signals {
            #expect(Request.Verb(of: signal).rawValue == signal.verb)
            #expect(Request.Verb(of: signal).isController)
        }
        // And the question a controller may ask for its line's lights.
        #expect(Set(Request.controllerVerbs) == Set(signals.map(\.verb) + ["state?"]))
        // An unknown verb is refused, never taken for another.
        guard case .failure(let error) = Request.parse(Array("pong".utf8)) else {
            Issue.record("an unknown verb parsed")
            return
        }
        #expect(error.code == .unknownVerb)
        #expect(try Request.parse(Array("ping".utf8)).get() == .ping)
    }

    /// The canonical form andond stores in its input log and matches retransmits by: it parses back to the same
    /// request for every text the protocol takes, invisible characters included (the views escape those).
    @Test func aRequestWithInvisibleCharactersRendersAsWhatParsesBackToItself() throws {
        let texts = [
            "x\u{202E}y", "a\u{2066}b\u{2069}c\u{200F}d", "l\u{2028}m\u{2029}n", "z\u{200B}w\u{FEFF}",
            "\u{202E}\\u{202e}",
        ]
        for text in texts {
            let request = Request.signal(.andon(line: "L1", station: "S1", category: .help, text: text), sequence: 3)
            let rendered = request.message.rendered
            #expect(try Request.parse(Array(rendered.utf8)).get() == request, "\(text.debugDescription)")
            let note = Request.acknowledge(IncidentID(4), note: text)
            #expect(try Request.parse(Array(note.message.rendered.utf8)).get() == note)
        }
        // Control characters, which no request holds (the parser refuses them), are escaped: a message stays one line.
        let forged = Request.acknowledge(IncidentID(4), note: "a\nb\u{1B}[2J\u{9B}")
        #expect(forged.message.rendered == #"ack id=4 note="a\\x0ab\\x1b[2J\\u{009b}""#)
    }

    @Test(
        arguments: [
            ("andon line=L1 station=S3 category=quality", nil),
            ("  andon\tline=L1 station=S3 category=quality  ", nil),
            ("andon line=L1 station=S3 category=quality text=\"\"", nil),
            ("andon line=L1 station=S3 category=quality text=a\"b", "syntax"),
            ("andon line=L1 station=S3 category=quality text=\"a\\nb\"", "syntax"),
            ("andon line=L1 station=S3 category=quality text=\"x\"y", "syntax"),
            ("andon line=L1 station=S3 category=quality text=\"tab\tinside\"", "bad-value"),
            ("andon line=L1 station=S3 category=quality text=\"\u{1B}[31mred\"", "bad-value"),
            ("andon line=L1 station=S3 category=quality text=\"\u{85}\"", "bad-value"),
            ("andon line=L1 station=S3 category=quality text=\"Presse 4: Ölleck\"", nil),
            ("andon line=L1 station=S3 category=quality seq=18446744073709551615", nil),
            ("andon line=L1 station=S3 category=quality seq=18446744073709551616", "bad-value"),
            ("andon line=L1 station=S3 category=QUALITY", "bad-value"),
            ("andon line=L1 station=-S3 category=quality", "bad-value"),
            ("ANDON line=L1", "syntax"),
            ("andon Line=L1", "syntax"),
            ("andon line", "syntax"),
            ("stop line=L1 station=", "bad-value"),
            ("status extra=1", "unknown-field"),
            ("ack", "missing-field"),
            ("ack id=abc", "bad-value"),
            ("resolve id=4", "missing-field"),
            ("who line=L1 stop=maybe", "bad-value"),
        ] as [(String, String?)]
    )
    func parserRules(_ text: String, code: String?) {
        switch Request.parse(Array(text.utf8)) {
        case .success(let request): #expect(code == nil, "\(text) parsed as \(request)")
        case .failure(let error): #expect(error.code.rawValue == code, "\(text): \(error)")
        }
    }

    @Test func lengthIsCountedInBytesWithoutTheNewline() {
        let prefix = "andon line=L1 station=S3 category=quality text="
        let fits = prefix + String(repeating: "x", count: WireMessage.maximumLength - prefix.utf8.count)
        #expect((try? Request.parse(Array((fits + "\n").utf8)).get()) != nil)
        let over = fits + "x"
        guard case .failure(let error) = Request.parse(Array(over.utf8)) else {
            Issue.record("1025 bytes must be refused")
            return
        }
        #expect(error.code == .tooLong)
    }

    @Test func repliesQuoteWhatNeedsIt() {
        #expect(
            Reply.error(WireError(.badValue, #"a "b" \ c"#)).rendered == #"err code=bad-value reason="a \"b\" \\ c""#
        )
        #expect(Reply.ok(["incident": "4", "note": nil]).rendered == "ok incident=4")
        #expect(
            (try? Reply.parse(#"err code=x reason="y z""#).get())
                == .error(WireError(WireError.Code(rawValue: "x"), "y z"))
        )
    }

    @Test func anErrorsDetailsSurviveTheWireLineForLine() throws {
        // A refused reload carries every positioned error; andonctl must get all of them back, exactly.
        let details = [
            "/etc/andond/andond.yaml:26:1: error: unknown key 'bogus_key' in the configuration",
            "    hint: the configuration takes: site, shifts, \"rotas\"",
            #"C:\odd\path: a backslash, then n: \n"#,
            "",
        ]
        let sent = Reply.error(
            WireError(.invalidConfiguration, "2 errors in /etc/andond/andond.yaml", details: details)
        )
        #expect(!sent.rendered.contains("\n"))
        guard case .error(let received) = try Reply.parse(sent.rendered).get() else {
            Issue.record("an err reply parsed as ok")
            return
        }
        #expect(received.code == .invalidConfiguration)
        #expect(received.reason == "2 errors in /etc/andond/andond.yaml")
        #expect(received.details == details)
    }
}

/// D11: andond's own diagnostics keep their lines; only what a file or a sender wrote is escaped.
@Suite struct DiagnosticEscapingTests {
    @Test func aDetailKeepsItsHintLineAndEscapesWhatItQuotes() throws {
        let diagnostic = "andond.yaml:12:3: error: unknown responder 'x\u{1B}[2J'\n    hint: responders: a, b"
        let error = WireError(.invalidConfiguration, "1 error in andond.yaml", details: [diagnostic])
        #expect(error.details == ["andond.yaml:12:3: error: unknown responder 'x\\x1b[2J'\n    hint: responders: a, b"])
        guard case .error(let back) = try Reply.parse(Reply.error(error).rendered).get() else {
            Issue.record("an error reply parses as an error")
            return
        }
        #expect(
            back.details == ["andond.yaml:12:3: error: unknown responder 'x\\x1b[2J'", "    hint: responders: a, b"]
        )
        #expect(!Reply.error(error).rendered.contains("\\x0a"))
    }
}
