import AndonCore

extension ConfigurationLoader {
    /// A line with neither `senders:` nor `key_file:` takes stops, resumes and clears from any address: fine on
    /// loopback, not once andond listens where the plant network reaches it. One warning per such line, at it.
    static func warnAboutOpenLines(
        _ raw: RawConfiguration,
        listen: ListenSettings,
        security: [LineID: LineSecurity],
        sink: DiagnosticSink
    ) {
        guard let exposed = listen.udp.first(where: { !ListenSettings.isLoopback($0) }) else { return }
        for (name, line) in (raw.lines ?? [:]).sorted(by: { $0.key < $1.key })
        where security[LineID(rawValue: name)] == nil {
            sink.warning(
                line.path,
                key: true,
                "line \(name) takes UDP signals from any address while andond listens on \(exposed): anyone who "
                    + "reaches that port can stop, resume or clear it",
                hint: "list its controllers under senders: (such as senders: [10.20.2.0/24]), or sign its messages "
                    + "(key_file:)"
            )
        }
    }
}
