import AndonCore
import AndonSystemd
import Logging

/// swift-log into the journal, for andond's own messages (and ServiceLifecycle's). Metadata goes into the message:
/// swift-log's lower-case keys would be dropped silently as journal fields.
struct JournalLogHandler: LogHandler {
    let journal: JournalWriter
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var text = "\(event.message)"
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        if !merged.isEmpty {
            text +=
                " (" + merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ") + ")"
        }
        let priority: Severity =
            switch event.level {
            case .trace, .debug, .info: .info
            case .notice: .notice
            case .warning: .warning
            case .error: .error
            case .critical: .critical
            }
        journal.submit(.daemon(text, priority: priority))
    }
}
