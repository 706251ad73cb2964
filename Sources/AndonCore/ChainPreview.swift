/// The chain a call would follow from an instant, if nobody acknowledged: each tier, who is on duty when the call
/// would reach it, its timeout, and why a tier would be skipped. What `andonctl who` prints.
public struct ChainPreview: Sendable, Hashable {
    public struct Step: Sendable, Hashable {
        public var position: TierPosition
        public var tier: Tier
        /// When the call would reach this tier (the previous tiers' timeouts added up).
        public var reachedAt: Instant
        public var duty: Duty
        /// True when the tier has nobody on duty and is passed at once.
        public var isSkipped: Bool
    }

    public var line: LineID
    public var station: StationID?
    public var category: Category?
    public var kind: IncidentKind
    public var at: Instant
    public var shift: ShiftOccurrence?
    public var policy: PolicyID
    public var steps: [Step]
}

extension Plant {
    /// The chain a signal would start at `instant`. Rejects what the engine would reject.
    public func chain(
        line lineID: LineID,
        station: StationID?,
        category: Category?,
        stop: Bool,
        at instant: Instant
    ) -> Result<ChainPreview, SignalRejection> {
        let line: Line
        let policyID: PolicyID
        switch self.line(lineID) {
        case .success(let found): line = found
        case .failure(let rejection): return .failure(rejection)
        }
        if stop {
            policyID = line.stopPolicy
        } else if let category {
            switch policy(for: category, on: line) {
            case .success(let routed): policyID = routed
            case .failure(let rejection): return .failure(rejection)
            }
        } else {
            policyID = line.silentPolicy
        }
        let policy = self.policy(policyID)
        var steps: [ChainPreview.Step] = []
        var reachedAt = instant
        for (index, tier) in policy.tiers.enumerated() {
            let rota = line.rota(for: tier)
            let duty = duty(of: rota, at: reachedAt, shift: calendar.occurrence(at: reachedAt)?.shift)
            let isLast = index == policy.tiers.count - 1
            steps.append(
                ChainPreview.Step(
                    position: TierPosition(
                        number: index + 1,
                        of: policy.tiers.count,
                        name: tier.name,
                        rota: rota,
                        policy: policyID
                    ),
                    tier: tier,
                    reachedAt: reachedAt,
                    duty: duty,
                    isSkipped: duty.isEmpty && !isLast
                )
            )
            if !duty.isEmpty { reachedAt += tier.ackWithin }
        }
        return .success(
            ChainPreview(
                line: lineID,
                station: station,
                category: category,
                kind: stop ? .stop : (category == nil ? .silent : .andon),
                at: instant,
                shift: calendar.occurrence(at: instant),
                policy: policyID,
                steps: steps
            )
        )
    }
}

extension ChainPreview {
    /// The chain as plant people read it.
    public func render(in plant: Plant) -> String {
        let zone = plant.timeZone
        var what: String
        switch kind {
        case .andon: what = "\(category.map { $0.rawValue.capitalizedFirst } ?? "An") andon"
        case .stop: what = "Line stop"
        case .silent: what = "Silent controller"
        }
        what += " on line \(line)"
        if let station { what += ", station \(station)" }
        var output = ["\(what), at \(zone.format(at)) (\(zone.local(at).date.weekdayName), \(zone))"]
        if let shift, let definition = plant.calendar.shift(shift.shift) {
            output.append(
                "Shift: \(shift.shift) (\(definition.start)-\(definition.end)), started \(zone.format(shift.start))"
            )
        } else {
            output.append("Shift: none running at this time")
        }
        output.append("Chain: \(policy), \(steps.count) tiers; times assume nobody acknowledges")
        if let category, plant.pageEveryone.contains(category) {
            output.append("Pages everyone: \(category) calls notify every tier below at once (page_everyone)")
        }
        let rows: [[String]] = steps.map { step in
            let who: String
            let what: String
            if step.isSkipped {
                who = "-"
                what = "skipped at once: \(step.duty.emptyReason ?? "nobody on duty")"
            } else if step.duty.isEmpty {
                who = "NOBODY"
                what = "\(step.duty.emptyReason ?? "nobody on duty"); the call stays at KPO and repeats"
            } else {
                who = step.duty.responders.map { id in
                    plant.responders[id].map { "\($0.name) (\($0.user))" } ?? id.rawValue
                }.joined(separator: ", ")
                what = step.timeoutDescription(in: plant) + "; " + step.duty.explanation(in: plant)
            }
            return [
                "\(step.position.number).", step.position.name, "rota \(step.position.rota)",
                "at \(zone.local(step.reachedAt).time)", who, what,
            ]
        }
        let widths = (0..<6).map { column in rows.map { $0[column].count }.max() ?? 0 }
        for row in rows {
            let cells = row.enumerated().map { column, cell in column == 5 ? cell : cell.padded(to: widths[column]) }
            output.append("  " + cells.joined(separator: "  "))
        }
        return output.joined(separator: "\n")
    }
}

extension DutyReason {
    /// `by shift night`, `by rotation, member 2 of 3 since 2026-11-23 06:00 +01:00`,
    /// `by override from 2026-12-24 14:00 +01:00 to 2026-12-24 22:00 +01:00, replacing eva (shift swap)`.
    public func explanation(in plant: Plant) -> String {
        let zone = plant.timeZone
        switch self {
        case .shift(let shift):
            return "by shift \(shift)"
        case .rotation(let member, let count, let since):
            return "by rotation, member \(member) of \(count) since \(zone.format(since))"
        case .override(let from, let until, let replaces, let note):
            var text = "by override from \(zone.format(from)) to \(zone.format(until))"
            if let replaces { text += ", replacing \(plant.user(of: replaces))" }
            if let note { text += " (\(note))" }
            return text
        }
    }
}

extension Duty {
    /// Why each responder is on duty, in their order: `why: felix by shift night`.
    public func explanation(in plant: Plant) -> String {
        "why: "
            + responders.map { id in
                let user = plant.user(of: id)
                return reasons[id].map { "\(user) \($0.explanation(in: plant))" } ?? user
            }.joined(separator: "; ")
    }
}

extension ChainPreview.Step {
    /// `acknowledge within 3m, resolve within 30m` / `repeats every 10m until acknowledged`.
    /// At KPO with `plant`: from which repeat on every KPO member is called, and who they are.
    public func timeoutDescription(in plant: Plant) -> String {
        guard position.isKPO, let rota = plant.rotas[.kpo] else { return timeoutDescription }
        let members = rota.members.sorted().map { plant.user(of: $0) }
        return timeoutDescription + ", from repeat \(plant.kpoWidenAfter + 1) to every KPO member ("
            + members.joined(separator: ", ") + ")"
    }

    public var timeoutDescription: String {
        if position.isKPO {
            let repeatEvery = tier.repeatEvery ?? tier.ackWithin
            var text = "unanswered after \(tier.ackWithin.compactDescription), then repeats every "
            text += "\(repeatEvery.compactDescription) until acknowledged"
            return text
        }
        var text = "acknowledge within \(tier.ackWithin.compactDescription)"
        if let arriveWithin = tier.arriveWithin { text += ", at the station within \(arriveWithin.compactDescription)" }
        if let resolveWithin = tier.resolveWithin { text += ", resolve within \(resolveWithin.compactDescription)" }
        return text
    }
}

extension String {
    fileprivate var capitalizedFirst: String { prefix(1).uppercased() + dropFirst() }

    fileprivate func padded(to width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}
