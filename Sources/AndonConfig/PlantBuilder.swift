import AndonCore

/// Turns the raw file into a `Plant`, reporting every problem to the sink. Returns nil when anything is in error.
struct PlantBuilder {
    let raw: RawConfiguration
    let sink: DiagnosticSink
    /// The start of the coverage check, resolved once the site's time zone is known.
    var now = Instant(millisecondsSinceEpoch: 0)

    var timeZone = SiteTimeZone.utc
    var shifts: [ShiftID: Shift] = [:]
    var responders: [ResponderID: Responder] = [:]
    var rotas: [RotaID: Rota] = [:]
    var policies: [PolicyID: Policy] = [:]
    /// Tier paths per policy, for positioning per-line problems at the tier that has them.
    var tierPaths: [PolicyID: [ConfigPath]] = [:]
    var lines: [LineID: Line] = [:]
    /// What andond keeps of `channels:`, and their full settings (andon-notify's).
    var channels: [ChannelID: ChannelPolicy] = [:]
    var channelSettings: [ChannelID: ChannelSettings] = [:]
    /// Rotas whose definition has errors: their coverage is not checked (it would only repeat those errors).
    var brokenRotas: Set<RotaID> = []
    var timeZoneIsValid = true

    /// Whether a KPO gap ahead is an error here.
    let kpoGaps: KPOGapCheck

    init(raw: RawConfiguration, sink: DiagnosticSink, kpoGaps: KPOGapCheck = .refuse) {
        self.raw = raw
        self.sink = sink
        self.kpoGaps = kpoGaps
    }

    /// - Parameter resolveNow: the start of the coverage check, given the site's time zone.
    mutating func build(resolveNow: (SiteTimeZone) -> Instant) -> Plant? {
        buildSite()
        now = resolveNow(timeZone)
        let coalesceWithin = duration(raw.coalesceWithin, at: raw.path + ["coalesce_within"]) ?? .seconds(60)
        let handoverGrace =
            duration(raw.handoverGrace, at: raw.path + ["handover_grace"]) ?? Plant.defaultHandoverGrace
        let remindEvery = duration(raw.remindEvery, at: raw.path + ["remind_every"]) ?? Plant.defaultRemindEvery
        let pageEveryone = categories(raw.pageEveryone, at: raw.path + ["page_everyone"])
        var kpoWidenAfter = raw.kpoWidenAfter ?? Plant.defaultKPOWidenAfter
        if kpoWidenAfter < 0 {
            sink.error(
                raw.path + ["kpo_widen_after"],
                "kpo_widen_after must be 0 or more (repeats to the KPO on duty before every KPO member is called)",
                hint: "such as kpo_widen_after: 3"
            )
            kpoWidenAfter = Plant.defaultKPOWidenAfter
        }
        buildShifts()
        channelSettings = buildChannels()
        buildResponders()
        buildRotas()
        buildPolicies()
        buildLines()
        let calendar = ShiftCalendar(timeZone: timeZone, shifts: shifts.values.sorted { $0.start < $1.start })
        checkCoverage(calendar: calendar)
        checkUnusedResponders()
        checkUnreachableResponders(calendar: calendar)
        guard !sink.entries.contains(where: { $0.severity == .error }) else { return nil }
        var plant = Plant(
            name: raw.site?.name ?? "andond",
            calendar: calendar,
            responders: responders,
            rotas: rotas,
            policies: policies,
            lines: lines,
            coalesceWithin: coalesceWithin,
            handoverGrace: handoverGrace,
            remindEvery: remindEvery,
            pageEveryone: pageEveryone,
            kpoWidenAfter: kpoWidenAfter
        )
        plant.channels = channels
        if let maxShelve = duration(raw.maxShelve, at: raw.path + ["max_shelve"]) {
            if maxShelve <= .seconds(7 * 86_400) {
                plant.maxShelve = maxShelve
            } else {
                sink.error(
                    raw.path + ["max_shelve"],
                    "max_shelve must be at most 7d: a shelved call calls nobody, and a shelf must not be forgotten",
                    hint: "such as 8h (the default)"
                )
            }
        }
        return plant
    }

    // MARK: Site and shifts

    private mutating func buildSite() {
        guard let site = raw.site, let identifier = site.timeZone else { return }
        if let zone = SiteTimeZone(identifier: identifier) {
            timeZone = zone
        } else {
            timeZoneIsValid = false
            sink.error(
                site.path + ["time_zone"],
                "unknown time zone '\(identifier)'",
                hint: "an IANA name such as Europe/Berlin or America/Detroit (timedatectl list-timezones)"
            )
        }
    }

    private mutating func buildShifts() {
        guard let rawShifts = raw.shifts else { return }
        if rawShifts.isEmpty {
            sink.error(
                raw.path + ["shifts"],
                "no shifts are defined",
                hint: "define at least one, such as early: { start: \"06:00\", end: \"14:00\" }"
            )
        }
        for (key, rawShift) in rawShifts.sorted(by: { $0.key < $1.key }) {
            guard let id = name(key, ShiftID.self, at: rawShift.path, what: "shift") else { continue }
            let start = localTime(rawShift.start, at: rawShift.path + ["start"])
            let end = localTime(rawShift.end, at: rawShift.path + ["end"])
            guard let start, let end else { continue }
            if start == end {
                sink.error(
                    rawShift.path + ["end"],
                    "shift '\(key)' starts and ends at \(start)",
                    hint:
                        "a shift ends after it starts; one that crosses midnight ends at or before its start, such as 22:00 to 06:00"
                )
                continue
            }
            shifts[id] = Shift(id: id, start: start, end: end)
        }
        // Overlaps: report each shift against the earlier-starting one it runs into.
        let ordered = shifts.values.sorted { ($0.start, $0.id) < ($1.start, $1.id) }
        var owner: [Int: Shift] = [:]
        for shift in ordered {
            let clash = shift.minutesOfDay.first { owner[$0] != nil }
            if let clash, let other = owner[clash] {
                let overlap = Set(shift.minutesOfDay).intersection(other.minutesOfDay).count
                sink.error(
                    (raw.shifts?[shift.id.rawValue]?.path ?? []) + ["start"],
                    "shift '\(shift.id)' (\(shift.start)-\(shift.end)) overlaps shift '\(other.id)' (\(other.start)-\(other.end)) for \(overlap) minutes a day",
                    hint: "shifts must not overlap: let one start when the other ends"
                )
                continue
            }
            for minute in shift.minutesOfDay { owner[minute] = shift }
        }
    }

    // MARK: Responders

    private mutating func buildResponders() {
        guard let rawResponders = raw.responders else { return }
        var users: [String: ResponderID] = [:]
        for (key, rawResponder) in rawResponders.sorted(by: { $0.key < $1.key }) {
            guard let id = name(key, ResponderID.self, at: rawResponder.path, what: "responder") else { continue }
            let user = rawResponder.user ?? key
            if !isUnixUserName(user) {
                sink.error(
                    rawResponder.path + [rawResponder.user == nil ? .key(key) : "user"],
                    "'\(user)' is not a valid Unix user name",
                    hint:
                        "lower-case letters, digits, '_' and '-', starting with a letter or '_'; set 'user:' when the key is not the login"
                )
                continue
            }
            if let other = users[user] {
                sink.error(
                    rawResponder.path + ["user"],
                    "user '\(user)' is already responder '\(other)'",
                    hint: "each responder maps to their own Unix user"
                )
                continue
            }
            users[user] = id
            responders[id] = Responder(
                id: id,
                name: rawResponder.name,
                user: user,
                notify: channelRefs(rawResponder.notify)
            )
        }
    }

    private func isUnixUserName(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, text.count <= 32 else { return false }
        let lower = "abcdefghijklmnopqrstuvwxyz"
        guard lower.unicodeScalars.contains(first) || first == "_" else { return false }
        return text.unicodeScalars.allSatisfy {
            lower.unicodeScalars.contains($0) || ("0"..."9").contains($0) || $0 == "_" || $0 == "-"
        }
    }

    // MARK: Rotas

    private mutating func buildRotas() {
        guard let rawRotas = raw.rotas else { return }
        for (key, rawRota) in rawRotas.sorted(by: { $0.key < $1.key }) {
            guard let id = name(key, RotaID.self, at: rawRota.path, what: "rota") else { continue }
            let errorsBefore = sink.errorCount
            defer { if sink.errorCount > errorsBefore { brokenRotas.insert(id) } }
            var rota = Rota(id: id)
            for (shiftName, members) in (rawRota.byShift ?? [:]).sorted(by: { $0.key < $1.key }) {
                let path = rawRota.path + ["by_shift", .key(shiftName)]
                guard shifts[ShiftID(rawValue: shiftName)] != nil else {
                    if let known = raw.shifts, known[shiftName] == nil {
                        sink.error(
                            path,
                            key: true,
                            "rota '\(key)' assigns unknown shift '\(shiftName)'",
                            hint: hint(shiftName, among: shiftNames, kind: "shifts")
                        )
                    }
                    continue
                }
                rota.byShift[ShiftID(rawValue: shiftName)] = responderList(members, at: path)
            }
            if let rawRotation = rawRota.rotation, let rotation = rotation(rawRotation) {
                rota.rotation = rotation
            }
            for (index, rawOverride) in (rawRota.overrides ?? []).enumerated() {
                if let override = override(rawOverride, index: index) { rota.overrides.append(override) }
            }
            rotas[id] = rota
        }
        if rotas[.kpo] == nil && rawRotas[RotaID.kpo.rawValue] == nil {
            sink.error(
                raw.path + ["rotas"],
                key: true,
                "no 'kpo' rota: the Kaizen Promotion Office is the last tier of every chain",
                hint: "add rotas.kpo, for example a rotation of the KPO core group"
            )
        }
    }

    private func rotation(_ raw: RawRotation) -> Rotation? {
        let members = responderList(raw.members ?? [], at: raw.path + ["members"])
        if raw.members?.isEmpty == true {
            sink.error(raw.path + ["members"], "a rotation needs at least one member")
        }
        var periodDays: Int?
        if let every = raw.every {
            if let period = Duration(compact: every), period.milliseconds > 0, period.milliseconds % 86_400_000 == 0 {
                periodDays = Int(period.milliseconds / 86_400_000)
            } else {
                sink.error(
                    raw.path + ["every"],
                    "rotation period '\(every)' is not a whole number of days",
                    hint: "such as 1d or 7d; handovers happen at the time of day in 'from'"
                )
            }
        }
        let anchor = raw.from.flatMap { text in
            LocalDateTime(parsing: text)
                ?? {
                    sink.error(
                        raw.path + ["from"],
                        "'\(text)' is not a local date and time",
                        hint: "write \"YYYY-MM-DD HH:MM\", such as \"2026-01-05 06:00\""
                    )
                    return nil
                }()
        }
        let onDuty = raw.onDuty ?? 1
        if onDuty < 1 || (!members.isEmpty && onDuty > members.count) {
            sink.error(raw.path + ["on_duty"], "on_duty must be between 1 and the number of members (\(members.count))")
        }
        var during: Set<ShiftID>?
        if let names = raw.during {
            during = []
            for (index, shiftName) in names.enumerated() {
                if shifts[ShiftID(rawValue: shiftName)] == nil {
                    sink.error(
                        raw.path + ["during", .index(index)],
                        "unknown shift '\(shiftName)'",
                        hint: hint(shiftName, among: shiftNames, kind: "shifts")
                    )
                }
                during?.insert(ShiftID(rawValue: shiftName))
            }
        }
        guard !members.isEmpty, members.count == raw.members?.count, let periodDays, let anchor,
            (1...members.count).contains(onDuty)
        else { return nil }
        return Rotation(members: members, periodDays: periodDays, anchor: anchor, onDuty: onDuty, duringShifts: during)
    }

    private func override(_ raw: RawOverride, index: Int) -> Override? {
        func instant(_ text: String?, _ key: String) -> Instant? {
            guard let text else { return nil }
            guard let local = LocalDateTime(parsing: text) else {
                sink.error(
                    raw.path + [.key(key)],
                    "'\(text)' is not a local date and time",
                    hint: "write \"YYYY-MM-DD HH:MM\""
                )
                return nil
            }
            return timeZone.instant(of: local)
        }
        let from = instant(raw.from, "from")
        let until = instant(raw.until, "until")
        let responder = raw.responder.flatMap { responderID($0, at: raw.path + ["responder"]) }
        let replaces = raw.replaces.flatMap { responderID($0, at: raw.path + ["replaces"]) }
        if raw.responder == nil && raw.replaces == nil {
            sink.error(raw.path, "an override needs 'responder' (who joins), 'replaces' (who is away), or both")
        }
        guard let from, let until else { return nil }
        guard from < until else {
            sink.error(raw.path + ["until"], "override ends before it starts", hint: "'until' must be after 'from'")
            return nil
        }
        guard responder != nil || replaces != nil, (raw.responder == nil) == (responder == nil),
            (raw.replaces == nil) == (replaces == nil)
        else { return nil }
        return Override(from: from, until: until, responder: responder, replaces: replaces, note: raw.note)
    }

    // MARK: Shared helpers

    var shiftNames: [String] { (raw.shifts ?? [:]).keys.sorted() }

    func hint(_ word: String, among names: [String], kind: String) -> String {
        let list = "\(kind): \(names.joined(separator: ", "))"
        if let guess = closest(to: word, in: names) { return "did you mean '\(guess)'? \(list)" }
        return names.isEmpty ? "no \(kind) are defined" : list
    }

    /// A validated name from a mapping key, reported at the key when invalid.
    func name<N: AndonName>(_ text: String, _ type: N.Type, at path: ConfigPath, what: String) -> N? {
        if let problem = SafeName.problem(with: text) {
            sink.error(path, key: true, "\(what) name '\(text)' \(problem)")
            return nil
        }
        return N(rawValue: text)
    }

    func responderID(_ text: String, at path: ConfigPath) -> ResponderID? {
        let id = ResponderID(rawValue: text)
        guard responders[id] != nil else {
            if let known = raw.responders, known[text] == nil {
                sink.error(
                    path,
                    "unknown responder '\(text)'",
                    hint: hint(text, among: (raw.responders ?? [:]).keys.sorted(), kind: "responders")
                )
            }
            return nil
        }
        return id
    }

    func responderList(_ names: [String], at path: ConfigPath) -> [ResponderID] {
        names.enumerated().compactMap { index, text in responderID(text, at: path + [.index(index)]) }
    }

    func localTime(_ text: String?, at path: ConfigPath) -> LocalTime? {
        guard let text else { return nil }
        guard let time = LocalTime(parsing: text) else {
            sink.error(
                path,
                "'\(text)' is not a time of day",
                hint: "24-hour local time as \"HH:MM\", such as \"06:00\""
            )
            return nil
        }
        return time
    }

    /// A list of category names, each checked.
    func categories(_ names: [String]?, at path: ConfigPath) -> Set<AndonCore.Category> {
        var found: Set<AndonCore.Category> = []
        for (index, name) in (names ?? []).enumerated() {
            guard let category = AndonCore.Category(rawValue: name) else {
                sink.error(
                    path + [.index(index)],
                    "unknown category '\(name)'",
                    hint: hint(name, among: AndonCore.Category.allCases.map(\.rawValue), kind: "categories")
                )
                continue
            }
            found.insert(category)
        }
        return found
    }

    func duration(_ text: String?, at path: ConfigPath) -> Duration? {
        guard let text else { return nil }
        guard let duration = Duration(compact: text), duration > .zero else {
            sink.error(path, "'\(text)' is not a duration", hint: "a positive duration such as 90s, 3m, 1h30m or 7d")
            return nil
        }
        return duration
    }
}
