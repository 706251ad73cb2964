extension Event {
    /// A sentence a responder understands at a glance: what, where, who, how long.
    public func message(in plant: Plant) -> String {
        let what = subject
        let who = responders.map { plant.displayName(of: $0) }.joined(separator: ", ")
        let tierName = tier?.name ?? "?"
        switch kind {
        case .raised:
            return "\(what): calling \(tierName) \(who.isEmpty ? "(nobody on duty)" : who)"
                + (reason.map { ": \($0)" } ?? "")
        case .escalated:
            if let by {
                return "\(what) escalated by \(by) to \(tierName): calling \(who.isEmpty ? "nobody on duty" : who)"
                    + (note.map { " (\($0))" } ?? "")
            }
            return "\(what) not acknowledged within \(waited?.compactDescription ?? "?"): escalated to \(tierName), "
                + "calling \(who.isEmpty ? "nobody on duty" : who)"
        case .skipped:
            return "\(what): tier \(tierName) skipped, \(reason ?? "nobody on duty")"
        case .acknowledged:
            return
                "\(what) acknowledged by \(by.map { plant.displayName(of: $0) } ?? "?") after \(elapsed.compactDescription)"
                + (note.map { ": \($0)" } ?? "")
        case .overdue:
            return
                "\(what) acknowledged but not resolved within \(waited?.compactDescription ?? "?"): escalated to \(tierName), "
                + "calling \(who.isEmpty ? "nobody on duty" : who)"
        case .unanswered:
            return "UNANSWERED \(what): no acknowledgement for \(elapsed.compactDescription), KPO call \(count ?? 1): "
                + "calling \(who.isEmpty ? "NOBODY ON DUTY (\(reason ?? "KPO rota empty"))" : who)"
        case .repeated:
            return "\(what) signalled again (\(count ?? 2) times in \(elapsed.compactDescription))"
        case .promoted:
            return "\(what) (was an andon): calling \(tierName) \(who.isEmpty ? "(nobody on duty)" : who)"
                + (reason.map { ": \($0)" } ?? "")
        case .resolved:
            return
                "\(what) resolved by \(by.map { plant.displayName(of: $0) } ?? "?") after \(elapsed.compactDescription): "
                + (note ?? "")
        case .cleared:
            return "\(what) cleared by the station after \(elapsed.compactDescription)"
        case .resumed:
            return "Line \(line) runs again after a \(waited?.compactDescription ?? elapsed.compactDescription) stop "
                + "(incident \(incident))"
        case .silent:
            return
                "\(what): \(reason ?? "controller silent"); calling \(tierName) \(who.isEmpty ? "(nobody on duty)" : who)"
        case .heard:
            return
                "Line \(line) controller heard again after \(waited?.compactDescription ?? "?") of silence (incident \(incident))"
        }
    }

    /// `Quality andon on L2/S3`, `LINE STOP on L2 at S3`, `Line L1 controller silent`.
    public var subject: String {
        let place = line.rawValue + (station.map { "/\($0)" } ?? "")
        switch incidentKind {
        case .andon:
            return
                "\(category.map { $0.rawValue.prefix(1).uppercased() + $0.rawValue.dropFirst() } ?? "") andon on \(place)"
        case .stop: return "LINE STOP on \(line)" + (station.map { " at \($0)" } ?? "")
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

    public func displayName(of actor: Actor) -> String {
        switch actor {
        case .responder(let id): displayName(of: id)
        case .administrator(let user): user
        }
    }
}
