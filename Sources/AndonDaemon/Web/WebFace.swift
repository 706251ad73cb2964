import AndonConfig
import AndonCore
import AndonProtocol
import AndonSystemd
import Foundation
import Mustache

/// The web face's routes: what each request gets. Reads only copies (a status view, a scrape of the metrics) and
/// changes nothing but through an acknowledge link, which takes the same path as `andonctl ack --token`.
///
/// `GET /` the board; `GET /events` the live events; `GET /api/v1/calls` the open calls as `andonctl status --json`
/// shows them; `GET /metrics` Prometheus; `GET /ack/TOKEN` a page naming the call with a button that `POST`s it.
/// Rendering a large answer happens on the web face's queue, never on an event loop that ingest shares.
package final class WebFace: Sendable {
    let signals: SignalPath
    let metrics: DaemonMetrics
    let live: LiveEvents
    // Below the signal path: a scrape or a large status must wait for a controller, never the other way round.
    private let queue = DispatchQueue(label: "andond.web", qos: .background, attributes: .concurrent)
    private let ackPage: MustacheTemplate
    private let answerPage: MustacheTemplate

    package init(signals: SignalPath, metrics: DaemonMetrics, live: LiveEvents) {
        self.signals = signals
        self.metrics = metrics
        self.live = live
        // try!: the templates are constants of this file's module, parsed in every test that starts andond; a parse
        // failure is a defect of the build, never of input.
        ackPage = try! MustacheTemplate(string: WebPages.acknowledge)
        answerPage = try! MustacheTemplate(string: WebPages.answer)
    }

    /// Answers `request`; `respond` is called once, on any thread.
    package func handle(_ request: WebRequest, respond: @escaping @Sendable (WebResponse) -> Void) {
        let path = request.path
        if path.hasPrefix("/ack/") {
            let token = String(path.dropFirst("/ack/".count))
            switch request.method {
            case "GET", "HEAD": respond(showLink(token, peer: request.peer))
            case "POST": useLink(token, peer: request.peer, respond: respond)
            default: respond(Self.notAllowed("GET, POST"))
            }
            return
        }
        let known = ["/", "/index.html", "/events", "/api/v1/calls", "/metrics"]
        guard known.contains(path) else {
            respond(.plain(404, "not found: andond serves /, /events, /api/v1/calls, /metrics and /ack/TOKEN"))
            return
        }
        guard request.method == "GET" || request.method == "HEAD" else {
            respond(Self.notAllowed("GET"))
            return
        }
        let line = request.query["line"].flatMap { $0.isEmpty ? nil : $0 }
        if let line, signals.escalation.engine.plant.lines[LineID(rawValue: line)] == nil {
            respond(.plain(404, "no line \(line) in the configuration"))
            return
        }
        switch path {
        case "/events":
            respond(.events(line: line, lastEventID: request.lastEventID ?? request.query["lastEventId"]))
        case "/api/v1/calls":
            queue.async { [signals] in
                let view = signals.statusView(line: line.map(LineID.init(rawValue:)), limit: nil)
                respond(.page(status: 200, contentType: WebResponse.json, body: Array(view.json.utf8)))
            }
        case "/metrics":
            queue.async { [self] in respond(scrape()) }
        default:
            respond(
                .page(
                    status: 200,
                    contentType: WebResponse.html,
                    body: WebPages.boardBytes,
                    headers: [("Content-Security-Policy", WebPages.contentSecurityPolicy)]
                )
            )
        }
    }

    /// The metrics' text, with the gauges read from a copy of the engine now.
    package func scrape() -> WebResponse {
        let engine = signals.escalation.engine
        metrics.configureIfChanged(engine.plant)
        let journal = signals.journal.statistics
        let reading = DaemonMetrics.Reading(
            open: engine.openMetrics,
            now: signals.clock.now,
            deliveriesPending: signals.notifications.pendingCount,
            journalWaiting: journal.waiting,
            refusals: signals.admission.refusalTotals
        )
        return .page(status: 200, contentType: WebResponse.metrics, body: metrics.scrape(reading))
    }

    // MARK: The acknowledge link

    /// `GET /ack/TOKEN`: the call it is for and a button; never acknowledges (a chat app's link preview GETs too).
    private func showLink(_ text: String, peer: String) -> WebResponse {
        let token: AckToken
        let plant: Plant
        switch check(text, peer: peer) {
        case .failure(let refusal): return refusal.response
        case .success(let checked): (token, plant) = checked
        }
        let engine = signals.escalation.engine
        guard let incident = engine.incident(token.incident) else {
            return page(410, title: "This call is over", text: "Call \(token.incident) is no longer open.")
        }
        var context: [String: Any] = [
            "site": plant.name,
            "call": token.incident.number,
            "what": Self.describe(incident),
            "raised": Self.clockTime(incident.raisedAt, plant: plant),
            "tier": incident.tierName,
            "name": plant.displayName(of: token.recipient),
        ]
        if let text = incident.text ?? incident.reason { context["text"] = text }
        if let by = incident.acknowledgedBy { context["acknowledgedBy"] = plant.displayName(of: by) }
        let html = ackPage.render(context)
        return .page(
            status: 200,
            contentType: WebResponse.html,
            body: Array(html.utf8),
            headers: [("Content-Security-Policy", WebPages.pageSecurityPolicy), ("Cache-Control", "no-store")]
        )
    }

    /// `POST /ack/TOKEN`: acknowledges as the token's recipient, through the signal path (single use, journaled as
    /// "via link").
    private func useLink(_ token: String, peer: String, respond: @escaping @Sendable (WebResponse) -> Void) {
        let decoded: AckToken
        let plant: Plant
        switch check(token, peer: peer) {
        case .failure(let refusal):
            respond(refusal.response)
            return
        case .success(let checked): (decoded, plant) = checked
        }
        let message = Array("ack token=\(token)".utf8)
        signals.handle(message, from: .http(peer)) { [self] reply in
            switch reply {
            case .ok:
                respond(
                    page(
                        200,
                        title: "Acknowledged",
                        text: "Call \(decoded.incident) is yours, \(plant.displayName(of: decoded.recipient)). "
                            + "The board and the journal say so."
                    )
                )
            case .error(let error):
                let status =
                    switch error.code {
                    case .unknownIncident: 410
                    case .alreadyAcknowledged, .badValue: 409
                    case .storageFailing, .unavailable: 503
                    case .notAuthorized: 403
                    default: 400
                    }
                respond(page(status, title: "Not acknowledged", text: error.reason))
            }
        }
    }

    /// The token checked against the key in use (expiry and signature), or the answer that refuses it. A refused
    /// token is bad input like any other: counted by reason and warned about in the journal, rate-limited per sender.
    private func check(_ token: String, peer: String) -> Result<(AckToken, Plant), WebResponseError> {
        guard !token.isEmpty, token.count <= 256,
            token.utf8.allSatisfy({ Self.tokenCharacters.contains($0) })
        else {
            _ = signals.admission.refuse(WireError(.badValue, "malformed acknowledge token"), from: .http(peer))
            return .failure(WebResponseError(page(400, title: "Not a link of this plant", text: "malformed token")))
        }
        let configuration = signals.admission.configuration
        guard let key = configuration.ackKey else {
            return .failure(
                WebResponseError(
                    page(404, title: "No acknowledge links", text: "this plant has no acknowledge links")
                )
            )
        }
        switch AckToken.decode(token, key: key.bytes, now: signals.clock.now.millisecondsSinceEpoch / 1000) {
        case .failure(let error):
            _ = signals.admission.refuse(error, from: .http(peer))
            return .failure(WebResponseError(page(403, title: "This link does not work", text: error.reason)))
        case .success(let decoded):
            return .success((decoded, configuration.plant))
        }
    }

    private static let tokenCharacters = Set(
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._~-".utf8
    )

    private func page(_ status: Int, title: String, text: String) -> WebResponse {
        let html = answerPage.render(["title": title, "text": text])
        return .page(
            status: status,
            contentType: WebResponse.html,
            body: Array(html.utf8),
            headers: [("Content-Security-Policy", WebPages.pageSecurityPolicy), ("Cache-Control", "no-store")]
        )
    }

    static func notAllowed(_ allow: String) -> WebResponse {
        .plain(405, "method not allowed (allowed: \(allow))", headers: [("Allow", allow)])
    }

    static func describe(_ incident: Incident) -> String {
        let place = [incident.line.rawValue, incident.station?.rawValue].compactMap { $0 }.joined(separator: " ")
        switch incident.kind {
        case .andon: return "\(incident.category?.rawValue ?? "andon") call at \(place)"
        case .stop: return "line stop at \(place)"
        case .silent: return "silent controller of \(incident.line)"
        }
    }

    static func clockTime(_ instant: Instant, plant: Plant) -> String {
        plant.timeZone.local(instant).time.description
    }
}

/// A refusal carried as an error, for `Result`.
struct WebResponseError: Error {
    var response: WebResponse
    init(_ response: WebResponse) { self.response = response }
}
