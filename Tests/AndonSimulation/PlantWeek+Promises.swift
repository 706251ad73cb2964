import AndonConfig
import AndonCore
import AndonDaemon
import AndonProtocol
import AndonStore
import AndonSystemd
import AndonTestSupport
import Foundation

/// The promises, checked after every step of the simulation:
/// - every input answered `ok` is in the store;
/// - every open call is owned only by someone on duty, in their grace, or paged at KPO (widened);
/// - the timer stands at the engine's next deadline and nothing is overdue: every unacknowledged call escalates on
///   time to the tick, every entry of a tick is 0 ms late (after a restart: late exactly to the restart);
/// - every unacknowledged open call has a deadline (no call goes silent), and at the end every open call is
///   acknowledged or repeating at KPO;
/// - the journal holds each event at least once, in order per call, nothing after a call closed, every event ID
///   from the first to the last;
/// - every KPO gap within the horizon is reported by the check that finds it, and shows in the status line;
/// - the status answer is valid JSON, whatever the senders wrote.
extension PlantWeek {
    package func stepDone() throws {
        step += 1
        figures.steps += 1
        try takeReplies()
        let read = journalRead
        try readJournal()
        if coverageChecked {
            coverageChecked = false
            try checkCoverageReported()
        }
        let engine = stages.escalation.engine
        figures.maxOpen = max(figures.maxOpen, engine.openIncidentCount)
        if let next = engine.nextDeadline, next <= now {
            throw broken(
                "a deadline is overdue: \(next), the timer stands at \(harness.timer.deadline.map(\.description) ?? "nothing")"
            )
        }
        if harness.timer.deadline != engine.nextDeadline {
            throw broken(
                "the timer stands at \(String(describing: harness.timer.deadline)), the next deadline is \(String(describing: engine.nextDeadline))"
            )
        }
        // Who owns a call changes only with an event or a timer (a duty change is one): checked then.
        if journalRead != read || timerFired { try checkOwners(engine) }
        timerFired = false
        if step % 1_000 == 0 { try verifyStored() }
        if step % 2_000 == 0 {
            try checkStatusJSON()
            if ProcessInfo.processInfo.environment["ANDON_SIMULATE_TRACE"] != nil {
                print(
                    "simulate: seed \(seed) step \(step) at \(now): \(engine.openIncidentCount) open, \(plan.count) planned, \(figures)"
                )
            }
        }
    }

    /// Replies that arrived: an `ok` is checked in the store; after `storage-failing` or silence the controller's
    /// resend timer sends it again; a responder's answer plans nothing further here (the journal does).
    private func takeReplies() throws {
        let replies = arrivals.take()
        for (key, body, sent, reply) in replies {
            switch reply {
            case .ok:
                if let key {
                    guard let sent = outstanding.removeValue(forKey: key) else { continue }
                    toVerify.append((body, sent.firstSent))
                } else {
                    toVerify.append((body, sent))
                }
            case .error(let error) where error.code == .storageFailing:
                // Not taken: the controller's own resend timer sends it again.
                figures.refusedStorage += 1
            case .error:
                if let key { outstanding.removeValue(forKey: key) }
            }
        }
    }

    /// Every input answered `ok` is in the store (checked in batches: the log keeps inputs for 90 days, and a
    /// crash cannot take back what was committed; so also before each crash and at the end).
    package func verifyStored() throws {
        guard !toVerify.isEmpty, !failing.isOn else { return }
        let since = toVerify.map(\.since).min()!
        let stored = Set(
            try stages.store.inputs(from: since.millisecondsSinceEpoch, to: now.millisecondsSinceEpoch + 1).map(\.body)
        )
        for (body, _) in toVerify where !stored.contains(body) {
            throw broken("answered ok, not in the store: \(body)")
        }
        toVerify = []
    }

    /// New journal entries: lateness, order per call, nothing after a close; and who must answer now.
    private func readJournal() throws {
        let entries = harness.journal.written(from: journalRead)
        journalRead += entries.count
        figures.entries += entries.count
        for written in entries {
            let entry = written.entry
            if let sequence = written.sequence {
                // At least once: an entry written again after a restart is the same event; read each once.
                guard sequence > durableSeen else { continue }
                guard sequence == durableSeen + 1 else {
                    throw broken("the journal skipped from event \(durableSeen) to \(sequence)")
                }
                durableSeen = sequence
            }
            guard let event = entry[JournalField.event], let incident = entry[JournalField.incident],
                let at = entry[JournalField.at].flatMap({ Int64($0) })
            else {
                if entry[JournalField.messageID] == MessageID.kpoGapAhead { kpoReported(entry) }
                continue
            }
            // A plain copy of an event (written at once while the state could not be): its durable one follows.
            guard written.sequence != nil else { continue }
            if let late = entry[JournalField.late].flatMap({ Int64($0) }), late != 0,
                !restartedAt.contains(at + late)
            {
                throw broken("\(event) of call \(incident) at \(at) was handled \(late) ms late")
            }
            if let last = lastAt[incident], at < last {
                throw broken("call \(incident): \(event) at \(at) is journaled after a step at \(last)")
            }
            if closed.contains(incident) { throw broken("call \(incident): \(event) after it closed") }
            lastAt[incident] = at
            if entry[JournalField.resolvedAfter] != nil { closed.insert(incident) }
            planAnswers(to: entry, event: event, incident: incident)
        }
    }

    /// People answer what they are told of: most acknowledge, arrive and resolve, some late, some never.
    private func planAnswers(to entry: JournalEntry, event: String, incident: String) {
        guard ["raised", "escalated", "handed-over", "unanswered", "skipped"].contains(event),
            let number = UInt64(incident.drop { !$0.isNumber })
        else { return }
        for user in entry.values(JournalField.responder) where planned.insert("\(incident) \(user)").inserted {
            guard chance(0.7) else { continue }
            var at = now + uniform(10...420)
            plan.plan(.answer(verb: "ack", incident: number, responder: user), at: at)
            guard chance(0.8) else { continue }
            at = at + uniform(30...480)
            plan.plan(.answer(verb: "arrive", incident: number, responder: user), at: at)
            guard chance(0.85) else { continue }
            plan.plan(.answer(verb: "resolve", incident: number, responder: user), at: at + uniform(60...2_400))
        }
    }

    /// Every owner of an open call is on duty (for some rota) or within their grace; an unacknowledged call always
    /// has a deadline.
    private func checkOwners(_ engine: EscalationEngine) throws {
        let plant = engine.plant
        let shift = plant.calendar.occurrence(at: now)?.shift
        var onDuty: Set<ResponderID> = []
        for rota in plant.rotas.keys { onDuty.formUnion(plant.duty(of: rota, at: now, shift: shift).responders) }
        for incident in engine.openIncidents {
            // At KPO, a call unanswered for long is widened to every KPO member (kpo_widen_after): paged, on duty or not.
            let atKPO = incident.tierIndex == engine.plant.policy(incident.policy).tiers.count - 1
            for owner in incident.owners where !onDuty.contains(owner) {
                guard
                    incident.grace.contains(where: { $0.responder == owner && $0.until > now })
                        || atKPO && incident.responders.contains(owner)
                else {
                    throw broken(
                        "call \(incident.id) (\(incident.kind) \(incident.line) tier \(incident.tierName), "
                            + "responders \(incident.responders), acknowledged by \(String(describing: incident.acknowledgedBy)), "
                            + "grace \(incident.grace)) is owned by \(owner), who is off duty; on duty: \(onDuty.sorted { $0.rawValue < $1.rawValue })"
                    )
                }
            }
            if incident.acknowledgedAt == nil, incident.deadline == nil {
                throw broken("call \(incident.id) is unacknowledged and has no deadline: nobody will hear of it")
            }
        }
    }

    /// A KPO gap the coverage check reported: recorded by its start.
    private func kpoReported(_ entry: JournalEntry) {
        if let start = entry[JournalField.gapStart].flatMap({ Int64($0) }) { reportedGaps.insert(start) }
    }

    /// After a coverage check: a KPO gap within the horizon was reported now, and shows in the status line.
    package func checkCoverageReported() throws {
        let plant = stages.escalation.engine.plant
        let gaps = plant.coverage(from: now, horizon: ConfigurationLoader.coverageWindow).kpo
        let line = stages.board.line()
        if let first = gaps.first {
            guard reportedGaps.contains(first.start.millisecondsSinceEpoch) else {
                throw broken("a KPO gap from \(first.start) is within the horizon and was not reported")
            }
            guard line.contains("KPO GAP") else { throw broken("the status line does not show the KPO gap: \(line)") }
        } else if line.contains("KPO GAP") {
            throw broken("the status line shows a KPO gap there is not: \(line)")
        }
    }

    private func checkStatusJSON() throws {
        let json = stages.signals.statusView(line: nil, limit: nil).json
        guard (try? JSONSerialization.jsonObject(with: Data(json.utf8))) != nil else {
            throw broken("the status answer is not valid JSON")
        }
    }

    /// At the end: nothing answered ok is missing; every open call is acknowledged or repeating at KPO; the journal
    /// holds every event ID the store handed out, in order.
    package func checkTheEnd() throws {
        try verifyStored()
        guard toVerify.isEmpty else { throw broken("\(toVerify.count) inputs answered ok were not verified") }
        try checkStatusJSON()
        let engine = stages.escalation.engine
        for incident in engine.openIncidents where incident.acknowledgedAt == nil {
            let last = engine.plant.policy(incident.policy).tiers.count - 1
            guard incident.tierIndex == last, incident.deadline != nil else {
                throw broken(
                    "call \(incident.id) ends unacknowledged at tier \(incident.tierName), not repeating at KPO"
                )
            }
        }
        let state = try stages.store.load()
        guard durableSeen == state.nextEventSequence - 1 else {
            throw broken(
                "the journal holds events 1...\(durableSeen), the store handed out 1...\(state.nextEventSequence - 1)"
            )
        }
        guard outstanding.isEmpty else {
            let first = outstanding.min { $0.value.firstSent < $1.value.firstSent }!
            throw broken(
                "\(outstanding.count) controller messages were never answered ok, the first \(first.value.text) sent at "
                    + "\(first.value.firstSent), \(first.value.attempts) times"
            )
        }
    }
}
