/// Who covers the plant over the coming days: the gaps of the KPO rota (which must never have one) and of every other
/// rota a tier calls (whose calls skip that tier meanwhile). A pure function of the plant and an instant: `andond`
/// looks 14 days ahead once a day and after each reload, `check-config` when it loads a file.
public struct PlantCoverage: Sendable, Hashable {
    public var from: Instant
    public var until: Instant
    public var kpo: [CoverageGap]
    /// Gaps of the other rotas tiers call, by rota, in rota order; rotas without a gap are left out.
    public var others: [(rota: RotaID, gaps: [CoverageGap])]

    public static func == (lhs: PlantCoverage, rhs: PlantCoverage) -> Bool {
        lhs.from == rhs.from && lhs.until == rhs.until && lhs.kpo == rhs.kpo
            && lhs.others.elementsEqual(rhs.others) { $0.rota == $1.rota && $0.gaps == $1.gaps }
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(from)
        hasher.combine(kpo)
        for (rota, gaps) in others {
            hasher.combine(rota)
            hasher.combine(gaps)
        }
    }
}

extension Plant {
    /// The rotas other than KPO that some tier of some line's chains calls.
    public static func rotasCalledByTiers(lines: some Sequence<Line>, policies: [PolicyID: Policy]) -> Set<RotaID> {
        var used: Set<RotaID> = []
        for line in lines {
            for policyID in Set(line.policies.values).union([line.stopPolicy]) {
                for tier in policies[policyID]?.tiers ?? [] where !tier.isKPO { used.insert(line.rota(for: tier)) }
            }
        }
        return used
    }

    /// The coverage of `start..<start + horizon`.
    public func coverage(from start: Instant, horizon: Duration) -> PlantCoverage {
        let end = start + horizon
        let others = Self.rotasCalledByTiers(lines: lines.values, policies: policies).sorted().compactMap {
            id -> (rota: RotaID, gaps: [CoverageGap])? in
            guard let gaps = rotas[id]?.gaps(from: start, to: end, calendar: calendar), !gaps.isEmpty else {
                return nil
            }
            return (id, gaps)
        }
        return PlantCoverage(
            from: start,
            until: end,
            kpo: rotas[.kpo]?.gaps(from: start, to: end, calendar: calendar)
                ?? [CoverageGap(rota: .kpo, start: start, end: end, reason: "rota kpo is not defined")],
            others: others
        )
    }
}
