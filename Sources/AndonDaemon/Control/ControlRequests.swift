import AndonCore
import AndonProtocol
import Foundation

/// Answers to andonctl's read-only requests, as pure functions of a plant or an engine copy and an instant.
enum ControlRequests {
    /// `who`: the chain a call would follow now, or at `at` (a local "YYYY-MM-DD HH:MM" or an ISO 8601 instant).
    static func who(
        line: LineID,
        station: StationID?,
        category: AndonCore.Category?,
        stop: Bool,
        at: String?,
        plant: Plant,
        now: Instant,
        standing: String? = nil
    ) -> Reply {
        var instant = now
        if let at {
            if let local = LocalDateTime(parsing: at), let gap = plant.timeZone.gap(at: local) {
                return .error(WireError(.badValue, gap))
            }
            guard let parsed = plant.timeZone.parseInstant(at) else {
                return .error(WireError(.badValue, "at must be a local \"YYYY-MM-DD HH:MM\" or an ISO 8601 instant"))
            }
            instant = parsed
        }
        guard stop || category != nil else {
            return .error(WireError(.missingField, "who needs category= for an andon or stop=yes for a line stop"))
        }
        switch plant.chain(line: line, station: station, category: category, stop: stop, at: instant) {
        case .success(let chain):
            var report = WhoReport(chain: chain, plant: plant)
            if at == nil, let standing {
                report.standing = standing
                report.text += "\n" + standing
            }
            return .ok(["json": JSONWriter.encode(report)])
        case .failure(let rejection):
            return .error(WireError(WireError.Code(rawValue: rejection.code.rawValue), rejection.message))
        }
    }

    /// `ping`: andond's version, pid, and the UDP and HTTP addresses it listens on (tests bind port 0 and learn it
    /// here).
    static func ping(udp: [String], http: [String] = []) -> Reply {
        .ok([
            "version": andondVersion, "pid": String(getpid()),
            "udp": udp.isEmpty ? nil : udp.joined(separator: ","),
            "http": http.isEmpty ? nil : http.joined(separator: ","),
        ])
    }
}

/// andond's version, reported by `ping` and `--version`.
public let andondVersion = "0.6.0"
