import AndonConfig
import AndonProtocol
import ArgumentParser
import Foundation

extension Andonctl {
    struct Sign: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a controller message signed with a line's key, for scripts and for testing a controller.",
            discussion: """
                Appends ts= (now, unless the message has one) and sig=, the HMAC-SHA256 of the message under the key \\
                (docs/protocol.md, "Signed messages"). Send the line as it is, for example: \\
                andonctl sign --key-file /etc/andond/keys/L1.key stop line=L1 reason=jam | socat - UDP:andon:4950
                """
        )

        @Option(help: "The line's key file (hexadecimal, as 'openssl rand -hex 32' writes it).") var keyFile: String
        @Option(help: "ts= to sign with, in seconds since 1970 (default: now).") var at: Int64?
        @Argument(help: "The message, such as: stop line=L1 reason=jam seq=7") var message: [String]

        func run() throws {
            guard let data = FileManager.default.contents(atPath: keyFile) else {
                printError("andonctl sign: cannot read \(keyFile): \(String(cString: strerror(errno)))")
                throw ExitCode(66)
            }
            guard let key = SigningKey.parse(String(decoding: data, as: UTF8.self)) else {
                printError(
                    "andonctl sign: \(keyFile) holds no key: write at least 32 hexadecimal digits (openssl rand -hex 32)"
                )
                throw ExitCode(65)
            }
            let text = message.joined(separator: " ")
            if case .failure(let error) = Request.parse(Array(text.utf8)) {
                printError("andonctl sign: not a message andond takes: \(error.reason)")
                throw ExitCode(65)
            }
            print(MessageSigning.sign(text, key: key, at: at ?? Int64(Date().timeIntervalSince1970)))
        }
    }
}
