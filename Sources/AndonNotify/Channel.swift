import AndonConfig
import AndonCore
import AndonProtocol
import Crypto
import Foundation
import Mustache

/// A channel ready to send: its settings with the secrets read and the templates parsed (once, at start).
public struct PreparedChannel: Sendable {
    public var settings: ChannelSettings
    let url: MustacheTemplate
    let body: MustacheTemplate
    let headers: [(name: String, value: String)]
    let signingKey: [UInt8]?

    public struct Problem: Error, CustomStringConvertible {
        public var description: String
    }

    /// Reads `settings`' header files, key and template; `credentials` is `$CREDENTIALS_DIRECTORY` for `%d/`.
    public init(_ settings: ChannelSettings, credentials: String?) throws(Problem) {
        _ = NotificationTemplates.registered
        self.settings = settings
        func read(_ path: String, _ what: String) throws(Problem) -> String {
            var resolved = path
            if path.hasPrefix("%d/") {
                guard let credentials else {
                    throw Problem(description: "\(what) \(path) names a credential, and no credentials are passed")
                }
                resolved = credentials + "/" + path.dropFirst(3)
            }
            guard let text = try? String(contentsOfFile: resolved, encoding: .utf8) else {
                throw Problem(
                    description:
                        "channel \(settings.id): cannot read \(what) \(resolved): \(String(cString: strerror(errno)))"
                )
            }
            return text
        }
        do {
            url = try MustacheTemplate(string: "{{% CONTENT_TYPE: URL}}" + settings.url)
            let text = try settings.templateFile.map { path throws(Problem) in try read(path, "the template") }
            body = try MustacheTemplate(string: text ?? NotificationTemplates.defaultTemplate(for: settings.format))
        } catch let problem as Problem {
            throw problem
        } catch {
            throw Problem(description: "channel \(settings.id): the template does not parse: \(error)")
        }
        var headers: [(String, String)] = []
        for (name, value) in settings.headers {
            switch value {
            case .text(let text): headers.append((name, text))
            case .file(let path):
                let secret = try read(path, "header \(name)'s file").trimmingCharacters(in: .whitespacesAndNewlines)
                headers.append((name, secret))
            }
        }
        self.headers = headers.map { (name: $0.0, value: $0.1) }
        if let file = settings.signingKeyFile {
            guard let key = SigningKey.parse(try read(file, "the signing key")) else {
                throw Problem(description: "channel \(settings.id): \(file) holds no key (64 hexadecimal digits)")
            }
            signingKey = key
        } else {
            signingKey = nil
        }
    }

    /// The request for one delivery: URL, headers and body.
    public func request(
        for delivery: DeliveryPayload,
        ackURL: String?
    ) -> (url: String, headers: [(String, String)], body: [UInt8]) {
        let context = NotificationTemplates.context(for: delivery, ackURL: ackURL)
        let url = self.url.render(delivery.parameters)
        let body = Array(self.body.render(context).utf8)
        var headers: [(String, String)] = [
            ("Content-Type", NotificationTemplates.contentType(for: settings.format)),
            ("Idempotency-Key", delivery.key),
            ("X-Andon-Event", delivery.eventID),
            ("X-Andon-Delivery", String(delivery.id)),
            ("X-Andon-Attempt", String(delivery.attempt)),
        ]
        if let signingKey {
            let mac = HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: signingKey))
            headers.append(("X-Andon-Signature", "sha256=" + MessageSigning.hex(Array(mac))))
        }
        headers += self.headers.map { ($0.name, $0.value) }
        return (url, headers, body)
    }
}
