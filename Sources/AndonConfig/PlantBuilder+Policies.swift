import AndonCore

extension PlantBuilder {
    static let defaultAndonPolicy: PolicyID = "andon"
    static let defaultStopPolicy: PolicyID = "stop"

    // MARK: Policies

    mutating func buildPolicies() {
        guard let rawPolicies = raw.policies else { return }
        for (key, rawPolicy) in rawPolicies.sorted(by: { $0.key < $1.key }) {
            let rawTiers = rawPolicy.tiers
            let path = raw.path + ["policies", .key(key)]
            guard let id = name(key, PolicyID.self, at: path, what: "policy") else { continue }
            guard !rawTiers.isEmpty else {
                sink.error(
                    path,
                    "chain '\(key)' has no tiers",
                    hint: "list its tiers in order, ending with '- { tier: kpo, repeat_every: 10m }'"
                )
                continue
            }
            var tiers: [Tier] = []
            var ok = true
            var seen: Set<String> = []
            for (index, rawTier) in rawTiers.enumerated() {
                let isLast = index == rawTiers.count - 1
                guard let tierName = rawTier.tier else {
                    ok = false
                    continue
                }
                if let problem = SafeName.problem(with: tierName) {
                    sink.error(rawTier.path + ["tier"], "tier name '\(tierName)' \(problem)")
                    ok = false
                    continue
                }
                if !seen.insert(tierName).inserted {
                    sink.error(
                        rawTier.path + ["tier"],
                        "tier '\(tierName)' appears twice in chain '\(key)'",
                        hint: "a chain calls each tier once"
                    )
                    ok = false
                }
                let isKPO = tierName == RotaID.kpo.rawValue
                if isKPO && !isLast {
                    sink.error(
                        rawTier.path + ["tier"],
                        "the kpo tier must be the last of chain '\(key)'",
                        hint: "KPO is the last line of defense; move it to the end"
                    )
                    ok = false
                }
                let ackWithin = duration(rawTier.ackWithin, at: rawTier.path + ["ack_within"])
                let resolveWithin = duration(rawTier.resolveWithin, at: rawTier.path + ["resolve_within"])
                let repeatEvery = duration(rawTier.repeatEvery, at: rawTier.path + ["repeat_every"])
                let arriveWithin = duration(rawTier.arriveWithin, at: rawTier.path + ["arrive_within"])
                let remindEvery = duration(rawTier.remindEvery, at: rawTier.path + ["remind_every"])
                if isKPO {
                    guard let first = ackWithin ?? repeatEvery else {
                        sink.error(
                            rawTier.path,
                            key: false,
                            "the kpo tier needs 'repeat_every' (and optionally 'ack_within' for the first wait)",
                            hint: "such as repeat_every: 10m"
                        )
                        ok = false
                        continue
                    }
                    tiers.append(
                        Tier(
                            name: tierName,
                            ackWithin: first,
                            resolveWithin: resolveWithin,
                            repeatEvery: repeatEvery ?? first,
                            arriveWithin: arriveWithin,
                            remindEvery: remindEvery
                        )
                    )
                } else {
                    if rawTier.repeatEvery != nil {
                        sink.error(
                            rawTier.path + ["repeat_every"],
                            "only the kpo tier repeats; tier '\(tierName)' escalates after ack_within",
                            hint: "remove repeat_every here"
                        )
                        ok = false
                    }
                    guard let ackWithin else {
                        if rawTier.ackWithin == nil {
                            sink.error(
                                rawTier.path,
                                "tier '\(tierName)' of chain '\(key)' needs 'ack_within'",
                                hint: "how long it has to acknowledge before the call escalates, such as 3m"
                            )
                        }
                        ok = false
                        continue
                    }
                    tiers.append(
                        Tier(
                            name: tierName,
                            ackWithin: ackWithin,
                            resolveWithin: resolveWithin,
                            arriveWithin: arriveWithin,
                            remindEvery: remindEvery
                        )
                    )
                }
            }
            if rawTiers.last?.tier != RotaID.kpo.rawValue {
                sink.error(
                    path,
                    key: true,
                    "chain '\(key)' does not end at the KPO tier",
                    hint: "every chain ends with '- { tier: kpo, repeat_every: 10m }': KPO is the last line of defense"
                )
                ok = false
            }
            guard ok, tiers.last?.isKPO == true else { continue }
            policies[id] = Policy(
                id: id,
                tiers: tiers,
                remindEvery: duration(rawPolicy.remindEvery, at: rawPolicy.path + ["remind_every"])
            )
            tierPaths[id] = rawTiers.map(\.path)
        }
        for (category, policy) in (raw.routes ?? [:]).sorted(by: { $0.key < $1.key }) {
            checkRoute(category: category, policy: policy, at: raw.path + ["routes"])
        }
    }

    private func checkRoute(category: String, policy: String, at path: ConfigPath) {
        if Category(rawValue: category) == nil {
            sink.error(
                path + [.key(category)],
                key: true,
                "unknown category '\(category)'",
                hint: hint(category, among: Category.allCases.map(\.rawValue), kind: "categories")
            )
        }
        checkPolicyExists(policy, at: path + [.key(category)])
    }

    private func checkPolicyExists(_ policy: String, at path: ConfigPath) {
        if let known = raw.policies, known[policy] == nil {
            sink.error(
                path,
                "unknown policy '\(policy)'",
                hint: hint(policy, among: (raw.policies ?? [:]).keys.sorted(), kind: "policies")
            )
        }
    }

    // MARK: Lines

    mutating func buildLines() {
        guard let rawLines = raw.lines else { return }
        if rawLines.isEmpty { sink.error(raw.path + ["lines"], "no lines are defined") }
        for (key, rawLine) in rawLines.sorted(by: { $0.key < $1.key }) {
            guard let id = name(key, LineID.self, at: rawLine.path, what: "line") else { continue }
            var accepted = Category.allCases
            if let names = rawLine.categories {
                accepted = []
                for (index, text) in names.enumerated() {
                    guard let category = Category(rawValue: text) else {
                        sink.error(
                            rawLine.path + ["categories", .index(index)],
                            "unknown category '\(text)'",
                            hint: hint(text, among: Category.allCases.map(\.rawValue), kind: "categories")
                        )
                        continue
                    }
                    accepted.append(category)
                }
            }
            for (category, policy) in (rawLine.routes ?? [:]).sorted(by: { $0.key < $1.key }) {
                checkRoute(category: category, policy: policy, at: rawLine.path + ["routes"])
                if let category = Category(rawValue: category), !accepted.contains(category) {
                    sink.warning(
                        rawLine.path + ["routes", .key(category.rawValue)],
                        key: true,
                        "line \(key) routes \(category) calls but does not take them",
                        hint: "add \(category) to its categories, or drop the route"
                    )
                }
            }
            var bindings: [String: RotaID] = [:]
            for (tier, rota) in (rawLine.rotas ?? [:]).sorted(by: { $0.key < $1.key }) {
                let path = rawLine.path + ["rotas", .key(tier)]
                if tier == RotaID.kpo.rawValue {
                    sink.error(
                        path,
                        key: true,
                        "line \(key) cannot bind its own kpo rota",
                        hint: "the KPO tier always calls rotas.kpo"
                    )
                    continue
                }
                if let known = raw.rotas, known[rota] == nil {
                    sink.error(
                        path,
                        "unknown rota '\(rota)'",
                        hint: hint(rota, among: (raw.rotas ?? [:]).keys.sorted(), kind: "rotas")
                    )
                    continue
                }
                bindings[tier] = RotaID(rawValue: rota)
            }
            var policyFor: [Category: PolicyID] = [:]
            for category in accepted {
                let text = rawLine.routes?[category.rawValue] ?? raw.routes?[category.rawValue]
                let policy = text.map(PolicyID.init(rawValue:)) ?? Self.defaultAndonPolicy
                if text == nil, let known = raw.policies, known[policy.rawValue] == nil {
                    sink.error(
                        rawLine.path,
                        key: true,
                        "\(category) calls on line \(key) follow chain 'andon', which is not defined",
                        hint: "define policies.andon, or route \(category) under routes"
                    )
                }
                policyFor[category] = policy
            }
            if accepted.isEmpty {
                sink.error(
                    rawLine.path + ["categories"],
                    "line \(key) takes no categories",
                    hint: "list at least one of: \(Category.names)"
                )
            }
            let stopPolicy = rawLine.stopPolicy.map(PolicyID.init(rawValue:)) ?? Self.defaultStopPolicy
            if let text = rawLine.stopPolicy {
                checkPolicyExists(text, at: rawLine.path + ["stop_policy"])
            } else if let known = raw.policies, known[stopPolicy.rawValue] == nil {
                sink.error(
                    rawLine.path,
                    key: true,
                    "line \(key) has no stop_policy and there is no policy named 'stop'",
                    hint: "define policies.stop (a faster chain for line stops), or set stop_policy"
                )
            }
            var stations: Set<StationID>?
            if let names = rawLine.stations {
                stations = []
                for (index, text) in names.enumerated() {
                    if let problem = SafeName.problem(with: text) {
                        sink.error(rawLine.path + ["stations", .index(index)], "station name '\(text)' \(problem)")
                    }
                    stations?.insert(StationID(rawValue: text))
                }
            }
            var line = Line(
                id: id,
                description: rawLine.description,
                policies: policyFor,
                stopPolicy: stopPolicy,
                rotas: bindings,
                heartbeatWithin: duration(rawLine.heartbeatWithin, at: rawLine.path + ["heartbeat_within"]),
                stations: stations,
                controllers: controllers(rawLine.controllers)
            )
            line.notify = channelRefs(rawLine.notify)
            checkTierRotas(of: line, rawLine: rawLine)
            lines[id] = line
        }
    }

    /// Who may send a line's controller signals: Unix user and group names, checked as names (the users need not
    /// exist on the machine that checks the file).
    private func controllers(_ raw: RawControllers?) -> ControllerRule? {
        guard let raw else { return nil }
        var rule = ControllerRule()
        for (key, names) in [("users", raw.users ?? []), ("groups", raw.groups ?? [])] {
            for (index, name) in names.enumerated() {
                if let problem = SafeName.problem(with: name) {
                    sink.error(raw.path + [.key(key), .index(index)], "\(key.dropLast()) name '\(name)' \(problem)")
                    continue
                }
                if key == "users" { rule.users.insert(name) } else { rule.groups.insert(name) }
            }
        }
        if rule.users.isEmpty && rule.groups.isEmpty {
            sink.warning(
                raw.path,
                key: true,
                "controllers names nobody: only root may send this line's stop, clear and resume",
                hint: "list the controllers' Unix accounts under users: or groups:"
            )
        }
        return rule
    }

    /// Every tier of every chain a line uses must resolve to a defined rota on that line.
    private func checkTierRotas(of line: Line, rawLine: RawLine) {
        let used = Set(line.policies.values).union([line.stopPolicy]).sorted()
        for policyID in used {
            guard let policy = policies[policyID] else { continue }
            for (index, tier) in policy.tiers.enumerated() where !tier.isKPO {
                let rota = line.rota(for: tier)
                guard let known = raw.rotas, known[rota.rawValue] == nil else { continue }
                let path = tierPaths[policyID]?[index].appending("tier") ?? rawLine.path
                sink.error(
                    path,
                    "tier '\(tier.name)' of chain '\(policyID)' has no rota on line \(line.id)",
                    hint:
                        "define rotas.\(tier.name), or bind it for this line: lines.\(line.id).rotas: { \(tier.name): <rota> }"
                )
            }
        }
    }

    // MARK: Coverage

    /// KPO must have someone on duty every minute of the coverage window (an error); other rotas that tiers call
    /// get a warning per gap, since their calls would skip that tier.
    func checkCoverage(calendar: ShiftCalendar) {
        guard timeZoneIsValid, raw.responders != nil, raw.shifts?.count == shifts.count else { return }
        let end = now + ConfigurationLoader.coverageWindow
        let window = "in the next 14 days"
        if kpoGaps == .refuse, let kpo = rotas[.kpo], !brokenRotas.contains(.kpo) {
            let gaps = kpo.gaps(from: now, to: end, calendar: calendar)
            if let first = gaps.first {
                sink.error(
                    raw.path + ["rotas", "kpo"],
                    key: true,
                    "KPO has nobody on duty \(gaps.summary(in: calendar.timeZone, within: window)) (\(first.reason))",
                    hint:
                        "KPO is the last line of defense and must be on duty every minute: add a rotation, members or an override"
                )
            }
        }
        for rotaID in Plant.rotasCalledByTiers(lines: lines.values, policies: policies).sorted() {
            guard let rota = rotas[rotaID], !brokenRotas.contains(rotaID), let rawRota = raw.rotas?[rotaID.rawValue]
            else { continue }
            let gaps = rota.gaps(from: now, to: end, calendar: calendar)
            guard !gaps.isEmpty else { continue }
            sink.warning(
                rawRota.path,
                key: true,
                "rota \(rotaID) has nobody on duty \(gaps.summary(in: calendar.timeZone, within: window)); calls skip its "
                    + "tier then",
                hint: "fine if intended (a shift without that role); otherwise assign someone"
            )
        }
    }

    func checkUnusedResponders() {
        let onRotas = rotas.values.reduce(into: Set<ResponderID>()) { $0.formUnion($1.members) }
        for id in responders.keys.sorted() where !onRotas.contains(id) {
            sink.warning(
                raw.path + ["responders", .key(id.rawValue)],
                key: true,
                "responder '\(id)' is on no rota",
                hint: "add them to a rota, or remove them"
            )
        }
    }
}

extension Array where Element == ConfigPathComponent {
    fileprivate func appending(_ key: String) -> ConfigPath { self + [.key(key)] }
}
