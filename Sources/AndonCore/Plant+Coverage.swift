/// Who covers the plant over the coming days: the gaps of the KPO rota (which must never have one) and of every other
/// rota a tier calls (whose calls skip that tier meanwhile). A pure function of the plant and an instant: `andond`
/// looks 14 days ahead once a day and after each reload, `check-config` when it loads a file.
public struct PlantCoverage: Sendable, Hashable {
    public var from: Instant
    public var until: Instant
    public var kpo: [CoverageGap]
    /// Gaps of the other rotas tiers call, in rota order; rotas without a gap are left out.
    public var others: [RotaGaps]

    public struct RotaGaps: Sendable, Hashable {
        public var rota: RotaID
        public var gaps: [CoverageGap]
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
            id -> PlantCoverage.RotaGaps? in
            guard let gaps = rotas[id]?.gaps(from: start, to: end, calendar: calendar), !gaps.isEmpty else {
                return nil
            }
            return PlantCoverage.RotaGaps(rota: id, gaps: gaps)
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

extension Array where Element == CoverageGap {
    /// `from 2026-12-15 10:00 +01:00 to 2026-12-15 12:00 +01:00 and in 2 more gaps in the next 14 days`: the first
    /// gap, and how many follow `within` the horizon. What check-config and the daily check both say.
    public func summary(in zone: SiteTimeZone, within horizon: String = "in the next 14 days") -> String {
        guard let first else { return "" }
        return "from \(zone.format(first.start)) to \(zone.format(first.end))"
            + (count > 1 ? " and in \(count - 1) more gap\(count == 2 ? "" : "s") \(horizon)" : "")
    }
}
