extension Event {
    /// A sentence a responder understands at a glance: what, where, who, how long.
    public func message(in plant: Plant) -> String {
        let text = sentence(in: plant)
        return madeReal ? text + "; a real signal: no longer a drill" : text
    }

    private func sentence(in plant: Plant) -> String {
        let what = subject
        let who = responders.map { plant.displayName(of: $0) }.joined(separator: ", ")
        let tierName = tier?.name ?? "?"
        switch kind {
        case .raised where shelf != nil:
            return "\(what): SHELVED (shelf \(shelf!)), nobody called" + (reason.map { ": \($0)" } ?? "")
        case .raised:
            return "\(what): calling \(tierName) \(who.isEmpty ? "(nobody on duty)" : who)"
                + (reason.map { ": \($0)" } ?? "")
        case .escalated:
            if let by {
                return "\(what) escalated by \(by) to \(tierName): calling \(who.isEmpty ? "nobody on duty" : who)"
                    + (note.map { " (\($0))" } ?? "")
            }
            guard let waited else {
                return "\(what) escalated to \(tierName): \(reason ?? "moved on"); "
                    + "calling \(who.isEmpty ? "nobody on duty" : who)"
            }
            return "\(what) not acknowledged within \(waited.compactDescription): escalated to \(tierName), "
                + "calling \(who.isEmpty ? "nobody on duty" : who)"
        case .skipped:
            return "\(what): tier \(tierName) skipped, \(reason ?? "nobody on duty")"
        case .acknowledged:
            return
                "\(what) acknowledged by \(by.map { plant.displayName(of: $0) } ?? "?") after \(elapsed.compactDescription)"
                + (note.map { ": \($0)" } ?? "")
        case .overdue:
            let missed = self.missed == .arrive ? "nobody at the station" : "not resolved"
            return
                "\(what) acknowledged but \(missed) within \(waited?.compactDescription ?? "?"): escalated to \(tierName), "
                + "calling \(who.isEmpty ? "nobody on duty" : who)"
        case .unanswered:
            let widened = (count ?? 1) > plant.kpoWidenAfter && tier?.isKPO == true
            // How long KPO has had it without an answer (the call may have been acknowledged at a tier before and
            // come to KPO as overdue), and how long the call is open.
            return "UNANSWERED \(what): not acknowledged at KPO within \(waited?.compactDescription ?? "?") "
                + "(open \(elapsed.compactDescription)), KPO call \(count ?? 1): "
                + (widened && !who.isEmpty ? "calling every KPO member: " : "calling ")
                + (who.isEmpty ? "NOBODY ON DUTY (\(reason ?? "KPO rota empty"))" : who)
        case .shelved:
            return "\(what) shelved by \(by.map { plant.displayName(of: $0) } ?? "?"): recorded, nobody called"
                + (reason.map { ": \($0)" } ?? "")
        case .unshelved:
            return "\(what) no longer shelved (\(reason ?? "unshelved")): calling \(tierName) "
                + (who.isEmpty ? "(nobody on duty)" : who)
        case .repeated:
            return "\(what) signalled again (\(count ?? 2) times in \(elapsed.compactDescription))"
        case .promoted:
            if incidentKind != .stop, let lineStop {
                return
                    "\(what) taken up by LINE STOP \(lineStop) on \(line); still with \(who.isEmpty ? "nobody" : who)"
            }
            return "\(what) (was an andon): calling \(tierName) \(who.isEmpty ? "(nobody on duty)" : who)"
                + (reason.map { ": \($0)" } ?? "")
        case .resolved:
            return
                "\(what) resolved by \(by.map { plant.displayName(of: $0) } ?? "?") after \(elapsed.compactDescription): "
                + (note ?? "")
        case .cleared:
            if needsReview {
                return "\(what) cleared by the station after \(elapsed.compactDescription) with no countermeasure "
                    + "recorded: flagged for KPO review"
            }
            return "\(what) cleared by the station after \(elapsed.compactDescription)"
        case .resumed:
            let at = stations.isEmpty ? "" : ", stopped at " + stations.map(\.rawValue).joined(separator: ", ")
            return "Line \(line) runs again after a \(waited?.compactDescription ?? elapsed.compactDescription) stop "
                + "(incident \(incident)\(at))"
        case .silent:
            return
                "\(what): \(reason ?? "controller silent"); calling \(tierName) \(who.isEmpty ? "(nobody on duty)" : who)"
        case .heard:
            return
                "Line \(line) controller heard again after \(waited?.compactDescription ?? "?") of silence (incident \(incident))"
        case .handedOver:
            let from = previous.map { plant.displayName(of: $0) }.joined(separator: ", ")
            let grace =
                graceUntil.map {
                    "; \(previous.map { plant.displayName(of: $0) }.joined(separator: ", ")) may act until "
                        + Self.clockTime($0, in: plant)
                } ?? ""
            return "\(what) handed over at \(plant.timeZone.local(at).time) from \(from.isEmpty ? "nobody" : from) "
                + "to \(who.isEmpty ? "NOBODY ON DUTY" : who) (\(state), \(elapsed.compactDescription) old)\(grace)"
        case .arrived:
            let by = by.map { plant.displayName(of: $0) } ?? "someone"
            return "\(what): \(by) at the station after \(elapsed.compactDescription)" + (note.map { ": \($0)" } ?? "")
        case .reminder:
            return "\(what) still open \(waited?.compactDescription ?? "?") after it was acknowledged "
                + "(reminder \(count ?? 1)): \(who.isEmpty ? "nobody on duty" : who)"
        case .joined:
            return "LINE STOP on \(line) stopped again at \(station ?? stations.last ?? "?") (stations "
                + stations.map(\.rawValue).joined(separator: ", ")
                + "; stopped \(waited?.compactDescription ?? "?") ago)"
        }
    }

    /// `14:15`, or `14:00:20` when the instant is not on a whole minute (a grace of 20 s is not shown to the minute).
    static func clockTime(_ instant: Instant, in plant: Plant) -> String {
        let time = plant.timeZone.local(instant).time
        let seconds = ((instant.millisecondsSinceEpoch / 1000) % 60 + 60) % 60
        guard seconds != 0 else { return "\(time)" }
        return "\(time):\(seconds < 10 ? "0" : "")\(seconds)"
    }

    /// `Quality andon on L2/S3`, `LINE STOP on L2 at S3`, `Line L1 controller silent`.
    public var subject: String {
        let place = line.rawValue + (station.map { "/\($0)" } ?? "")
        switch incidentKind {
        case .andon:
            return
                "\(category.map { $0.rawValue.prefix(1).uppercased() + $0.rawValue.dropFirst() } ?? "") andon on \(place)"
        case .stop: return "LINE STOP on \(line)" + (stations.first ?? station).map { " at \($0)" }.orEmpty
        case .silent: return "Line \(line) controller silent"
        }
    }
}

extension Plant {
    /// `Felix Maier (felix)`, or the bare ID of a responder not in the configuration.
    public func displayName(of responder: ResponderID) -> String {
        guard let entry = responders[responder] else { return responder.rawValue }
        return entry.name == entry.user ? entry.user : "\(entry.name) (\(entry.user))"
    }

    /// The Unix user of a responder, as `ANDON_RESPONDER`, replies and every view name them; the bare ID of one not
    /// in the configuration (a call restored under a configuration that dropped them).
    public func user(of responder: ResponderID) -> String { responders[responder]?.user ?? responder.rawValue }

    /// The Unix user of an actor, as `ANDON_BY` and `andonctl status` name it (`station L2/A2` for a station).
    public func userName(of actor: Actor) -> String {
        switch actor {
        case .responder(let id): user(of: id)
        case .administrator(let user): user
        case .station: actor.description
        }
    }

    public func displayName(of actor: Actor) -> String {
        switch actor {
        case .responder(let id): displayName(of: id)
        case .administrator(let user): user
        case .station: actor.description
        }
    }
}

extension Optional where Wrapped == String {
    fileprivate var orEmpty: String { self ?? "" }
}
