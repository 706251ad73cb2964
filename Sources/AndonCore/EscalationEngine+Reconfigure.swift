extension EscalationEngine {
    /// Swaps in a new configuration. Open incidents keep their state (tier, acknowledgement, deadline) and follow the
    /// new rotas and chains from the next time they notify anyone. A chain that lost tiers keeps the incident at its
    /// last tier; heartbeat watches start, change or stop with their lines.
    ///
    /// Who is on duty may change with it: open calls are handed over at once, as at a shift change.
    /// Why `newPlant` may not replace the running plant, or nil: it removes a line that still has open calls,
    /// which would keep escalating while their controller could no longer resume or clear them (`unknown-line`).
    /// A reload is refused with this; the calls are closed first (`andonctl resolve`), or the line stays.
    public func reconfigureRefusal(for newPlant: Plant) -> String? {
        var open: [LineID: [IncidentID]] = [:]
        for incident in incidents.values where newPlant.lines[incident.line] == nil {
            open[incident.line, default: []].append(incident.id)
        }
        guard !open.isEmpty else { return nil }
        let lines = open.keys.sorted().map { line in
            let ids = open[line, default: []].sorted()
            let shown = ids.prefix(10).map(\.description).joined(separator: ", ")
            return
                "line \(line) has \(ids.count) open call\(ids.count == 1 ? "" : "s") (incident\(ids.count == 1 ? "" : "s") "
                + shown + (ids.count > 10 ? ", ..." : "") + ")"
        }
        return "the new configuration removes "
            + (open.count == 1 ? "a line that has open calls: " : "lines that have open calls: ")
            + lines.joined(separator: "; ")
            + "; close them first (andonctl resolve ID, or the line's clear and resume), or keep the line"
    }

    public mutating func reconfigure(_ newPlant: Plant, at instant: Instant) -> [Event] {
        var events = advance(to: instant)
        plant = newPlant
        for incident in incidents.values {
            let tiers = policy(of: incident).tiers
            if incident.tierIndex >= tiers.count {
                var clamped = incident
                clamped.tierIndex = tiers.count - 1
                clamped.tierName = tiers[tiers.count - 1].name
                incidents[incident.id] = clamped
            }
        }
        reconfigureHeartbeats(at: now)
        startHandover(at: now, events: &events)
        armDutyChange(after: now)
        prune()
        return events
    }
}

extension Plant {
    /// What changed from `old` to this configuration, one line each, for the journal after a reload: rota
    /// members who joined or left, and lines, rotas, chains and shifts added, removed or changed.
    public func changes(from old: Plant) -> [String] {
        var changes: [String] = []
        if timeZone != old.timeZone { changes.append("time zone \(old.timeZone) -> \(timeZone)") }
        if calendar.shifts != old.calendar.shifts { changes.append("shifts changed") }
        func compare<Key: Comparable & CustomStringConvertible, Value: Equatable>(
            _ what: String,
            _ new: [Key: Value],
            _ old: [Key: Value],
            detail: (Value, Value) -> String? = { _, _ in nil }
        ) {
            for key in Set(new.keys).union(old.keys).sorted() {
                switch (old[key], new[key]) {
                case (nil, .some): changes.append("\(what) \(key) added")
                case (.some, nil): changes.append("\(what) \(key) removed")
                case (.some(let before), .some(let after)) where before != after:
                    changes.append("\(what) \(key) changed" + (detail(before, after).map { ": \($0)" } ?? ""))
                default: break
                }
            }
        }
        compare("line", lines, old.lines) { before, after in Self.lineChanges(before, after) }
        compare("rota", rotas, old.rotas) { before, after in Self.rotaChanges(before, after) }
        compare("chain", policies, old.policies)
        compare("responder", responders, old.responders)
        if handoverGrace != old.handoverGrace {
            changes.append(
                "handover_grace \(old.handoverGrace.compactDescription) -> \(handoverGrace.compactDescription)"
            )
        }
        if remindEvery != old.remindEvery {
            changes.append("remind_every \(old.remindEvery.compactDescription) -> \(remindEvery.compactDescription)")
        }
        if pageEveryone != old.pageEveryone {
            changes.append("page_everyone: " + pageEveryone.sorted().map(\.rawValue).joined(separator: ", "))
        }
        if kpoWidenAfter != old.kpoWidenAfter {
            changes.append("kpo_widen_after \(old.kpoWidenAfter) -> \(kpoWidenAfter)")
        }
        if coalesceWithin != old.coalesceWithin {
            changes.append(
                "coalesce_within \(old.coalesceWithin.compactDescription) -> \(coalesceWithin.compactDescription)"
            )
        }
        return changes
    }

    /// `joined tl1b; left anna; shift early: anna -> tl1b`: who joined and left the rota, and each shift whose
    /// assignment changed (someone may leave one shift and stay on another), the rotation and the overrides.
    static func rotaChanges(_ before: Rota, _ after: Rota) -> String {
        func names(_ ids: [ResponderID]?) -> String {
            let list = ids ?? []
            return list.isEmpty ? "nobody" : list.map(\.rawValue).joined(separator: ", ")
        }
        let joined = after.members.subtracting(before.members).sorted()
        let left = before.members.subtracting(after.members).sorted()
        var parts: [String] = []
        if !joined.isEmpty { parts.append("joined " + joined.map(\.rawValue).joined(separator: ", ")) }
        if !left.isEmpty { parts.append("left " + left.map(\.rawValue).joined(separator: ", ")) }
        for shift in Set(before.byShift.keys).union(after.byShift.keys).sorted()
        where before.byShift[shift] ?? [] != after.byShift[shift] ?? [] {
            parts.append("shift \(shift): \(names(before.byShift[shift])) -> \(names(after.byShift[shift]))")
        }
        if before.rotation != after.rotation {
            parts.append("rotation: \(names(before.rotation?.members)) -> \(names(after.rotation?.members))")
        }
        if before.overrides != after.overrides {
            parts.append("overrides: \(before.overrides.count) -> \(after.overrides.count)")
        }
        return parts.isEmpty ? "assignments" : parts.joined(separator: "; ")
    }

    /// `categories +cost; team-leader: tl-l2 -> tl-l2b; heartbeat_within 30s -> 1m`: what of a line changed.
    static func lineChanges(_ before: Line, _ after: Line) -> String {
        var parts: [String] = []
        let added = Set(after.policies.keys).subtracting(before.policies.keys).sorted().map { "+\($0.rawValue)" }
        let removed = Set(before.policies.keys).subtracting(after.policies.keys).sorted().map { "-\($0.rawValue)" }
        if !(added + removed).isEmpty { parts.append("categories " + (added + removed).joined(separator: " ")) }
        for category in Category.allCases {
            guard let was = before.policies[category], let now = after.policies[category], was != now else { continue }
            parts.append("\(category.rawValue) follows \(now) (was \(was))")
        }
        if before.stopPolicy != after.stopPolicy {
            parts.append("stop_policy \(before.stopPolicy) -> \(after.stopPolicy)")
        }
        for role in Set(before.rotas.keys).union(after.rotas.keys).sorted()
        where before.rotas[role] != after.rotas[role] {
            parts.append("\(role): \(before.rotas[role]?.rawValue ?? "-") -> \(after.rotas[role]?.rawValue ?? "-")")
        }
        if before.heartbeatWithin != after.heartbeatWithin {
            parts.append(
                "heartbeat_within \(before.heartbeatWithin?.compactDescription ?? "none") -> "
                    + (after.heartbeatWithin?.compactDescription ?? "none")
            )
        }
        if before.stations != after.stations { parts.append("stations") }
        if before.controllers != after.controllers { parts.append("controllers") }
        if before.description != after.description { parts.append("description") }
        return parts.isEmpty ? "routing" : parts.joined(separator: "; ")
    }
}
