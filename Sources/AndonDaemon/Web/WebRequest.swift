import Foundation

/// One HTTP request as the web face routes it: method, path and query, the headers it reads, who sent it.
package struct WebRequest: Sendable {
    package var method: String
    package var path: String
    package var query: [String: String]
    package var lastEventID: String?
    package var peer: String

    /// Splits `target` (`/api/v1/calls?line=L1`) into a path and its query parameters (percent-decoded; the first of
    /// a repeated name wins). A malformed escape leaves the parameter out.
    package init(method: String, target: String, lastEventID: String? = nil, peer: String) {
        self.method = method
        self.lastEventID = lastEventID
        self.peer = peer
        let parts = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        path = String(parts.first ?? "/")
        var query: [String: String] = [:]
        if parts.count > 1 {
            for pair in parts[1].split(separator: "&") {
                let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                guard let name = kv.first.flatMap({ String($0).removingPercentEncoding }) else { continue }
                let value = kv.count > 1 ? String(kv[1]).replacingOccurrences(of: "+", with: " ") : ""
                guard let decoded = value.removingPercentEncoding, query[name] == nil else { continue }
                query[name] = decoded
            }
        }
        self.query = query
    }
}

/// What the web face answers: a whole response, or the start of an event stream.
package enum WebResponse: Sendable {
    case page(status: Int, contentType: String, body: [UInt8], headers: [(String, String)] = [])
    case events(line: String?, lastEventID: String?)

    static let html = "text/html; charset=utf-8"
    static let json = "application/json"
    static let text = "text/plain; charset=utf-8"
    static let metrics = "text/plain; version=0.0.4; charset=utf-8"

    static func plain(_ status: Int, _ text: String, headers: [(String, String)] = []) -> WebResponse {
        .page(status: status, contentType: Self.text, body: Array((text + "\n").utf8), headers: headers)
    }
}
