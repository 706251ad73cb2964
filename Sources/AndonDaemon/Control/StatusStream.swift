import AndonCore
import AndonProtocol

/// A `status` reply written in pieces: `ok json="..."` as `Reply.rendered` would give it, its JSON rendered from an
/// engine copy a few hundred incidents at a time. andond's memory holds one piece, not 34 MB for 100,000 calls, and
/// the connection's writes pace the rendering (a slow reader slows only its own reply).
public struct StatusStream: Sendable {
    let view: StatusView
    /// About how many bytes of wire text a piece holds.
    var pieceSize = 64 << 10

    /// The reply line's pieces, in order; the line's newline is not among them.
    public func pieces() -> Pieces { Pieces(stream: self) }

    public struct Pieces: Sequence, IteratorProtocol {
        let stream: StatusStream
        private var written = 0
        private var wroteAny = false
        private var started = false
        private var finished = false
        private var writer = JSONWriter()
        private let frame: StatusReport.Frame

        init(stream: StatusStream) {
            self.stream = stream
            frame = Self.frame(stream.view)
        }

        public mutating func next() -> [UInt8]? {
            guard !finished else { return nil }
            let view = stream.view
            // The incidents of this piece as JSON, then the piece as the reply line carries it (quoted once).
            while writer.bytes.count < stream.pieceSize, written < view.ids.count {
                let id = view.ids[view.ids.startIndex + written]
                written += 1
                guard let report = view.report(id) else { continue }
                if wroteAny { writer.raw(CollectionOfOne(UInt8(ascii: ","))) }
                wroteAny = true
                report.write(to: &writer)
            }
            var out: [UInt8] = []
            out.reserveCapacity(writer.bytes.count + writer.bytes.count / 4 + frame.prefix.count + 64)
            if !started {
                started = true
                out.append(contentsOf: Array(#"ok json=""#.utf8))
                WireMessage.appendQuoted(frame.prefix, to: &out)
            }
            WireMessage.appendQuoted(writer.bytes, to: &out)
            writer.removeAll()
            if written >= view.ids.count {
                WireMessage.appendQuoted(frame.suffix, to: &out)
                out.append(UInt8(ascii: "\""))
                finished = true
            }
            return out
        }

        static func frame(_ view: StatusView) -> StatusReport.Frame {
            StatusReport.Frame(
                site: view.engine.plant.name,
                now: view.now.millisecondsSinceEpoch,
                counters: view.counters,
                total: view.engine.openIncidentCount,
                omitted: view.matching - view.ids.count,
                plant: StatusView.plantView(view.engine, at: view.now)
            )
        }
    }
}
