import AndonCore
import Foundation

/// Who may send for a line over UDP: the source addresses allowed (`senders:`) and the key its messages are signed
/// with (`key_file:`). The UNIX socket has its own rule, `controllers:`, on the peer's credentials.
public struct LineSecurity: Sendable, Hashable {
    /// Nil: any source address.
    public var senders: [AddressRange]?
    /// Nil: the line takes unsigned messages.
    public var keyFile: KeyFile?

    public init(senders: [AddressRange]? = nil, keyFile: KeyFile? = nil) {
        self.senders = senders
        self.keyFile = keyFile
    }
}

/// Where a line's key is, and where the configuration names it (for a positioned error when it cannot be read).
public struct KeyFile: Sendable, Hashable {
    /// As written; `%d/` at its start stands for `$CREDENTIALS_DIRECTORY` (systemd's `LoadCredential=`).
    public var path: String
    public var file: String
    public var line: Int
    public var column: Int

    public init(path: String, file: String, line: Int, column: Int) {
        self.path = path
        self.file = file
        self.line = line
        self.column = column
    }

    /// The path with `%d` resolved.
    public func resolved(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        guard path.hasPrefix("%d/") else { return path }
        return (environment["CREDENTIALS_DIRECTORY"] ?? "/run/credentials/andond.service") + path.dropFirst(2)
    }
}

/// How signed messages are checked: the time window around andond's clock, and how long a replaced key is still
/// accepted after the reload that replaced it.
public struct SigningSettings: Sendable, Hashable {
    public var window: Duration = .seconds(30)
    public var overlap: Duration = .seconds(600)

    public init() {}
}

/// A line's key, read from its file.
public struct SigningKey: Sendable, Hashable {
    public var bytes: [UInt8]
    public var file: String

    public init(bytes: [UInt8], file: String) {
        self.bytes = bytes
        self.file = file
    }

    /// The key a file holds: hexadecimal digits (at least 32, that is 16 bytes; 64 recommended, as
    /// `openssl rand -hex 32` writes them), surrounding white space ignored.
    public static func parse(_ text: String) -> [UInt8]? {
        let digits = Array(text.trimmingCharacters(in: .whitespacesAndNewlines).utf8)
        guard digits.count >= 32 else { return nil }
        return Hex.decode(digits)
    }
}

extension Configuration {
    /// Reads every line's key file. Separate from loading the configuration: a restore or a replay parses recorded
    /// configurations whose key files may be gone, and only the running andond (and `check-config`) needs keys.
    /// A file that cannot be read, or holds no key, is an error at its `key_file:`; one that others may read is
    /// a warning there.
    ///
    /// On success, `keys` holds them and `warnings` the warnings.
    public mutating func loadKeys(
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(ConfigurationError) {
        var keys: [LineID: SigningKey] = [:]
        var diagnostics: [Diagnostic] = []
        /// Reads one key file; nil (with the diagnostic) when it cannot be used.
        func read(_ keyFile: KeyFile, _ what: String, _ misuse: String) -> SigningKey? {
            let path = keyFile.resolved(environment: environment)
            func report(_ severity: Diagnostic.Severity, _ message: String, hint: String) {
                diagnostics.append(
                    Diagnostic(
                        severity: severity,
                        file: keyFile.file,
                        line: keyFile.line,
                        column: keyFile.column,
                        message: message,
                        hint: hint
                    )
                )
            }
            guard let data = FileManager.default.contents(atPath: path) else {
                let reason = access(path, F_OK) == 0 ? "it cannot be read (Permission denied)" : "it does not exist"
                report(
                    .error,
                    "\(what) \(path): \(reason)",
                    hint: "make it readable by andond only (chown andond, chmod 0400), or pass it with LoadCredential="
                        + " and write %d/NAME"
                )
                return nil
            }
            guard let bytes = SigningKey.parse(String(decoding: data, as: UTF8.self)) else {
                report(
                    .error,
                    "\(what) \(path) holds no key",
                    hint: "write at least 32 hexadecimal digits, as 'openssl rand -hex 32' prints them"
                )
                return nil
            }
            var info = stat()
            if stat(path, &info) == 0, info.st_mode & 0o077 != 0 {
                report(
                    .warning,
                    "\(what) \(path) may be read by others (mode \(String(info.st_mode & 0o777, radix: 8)))",
                    hint: "chmod 0400 it: whoever reads it can \(misuse)"
                )
            }
            return SigningKey(bytes: bytes, file: path)
        }
        for (line, security) in security.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            guard let keyFile = security.keyFile else { continue }
            keys[line] = read(keyFile, "line \(line)'s key file", "sign for the line")
        }
        var ackKey: SigningKey?
        if let keyFile = notify.ackKeyFile {
            ackKey = read(keyFile, "the acknowledge links' key file", "acknowledge calls in anyone's name")
        }
        if diagnostics.contains(where: { $0.severity == .error }) {
            throw ConfigurationError(diagnostics: diagnostics)
        }
        self.keys = keys
        self.ackKey = ackKey
        warnings += diagnostics
    }
}
