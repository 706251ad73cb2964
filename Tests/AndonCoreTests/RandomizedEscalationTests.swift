import AndonTestSupport
import Testing

@testable import AndonCore

/// Random sequences of signals, acknowledgements and time steps, checked against three properties:
/// - stepping from deadline to deadline, everything that fires at a step fires exactly at that deadline;
/// - one late call gives exactly the events of stepping deadline by deadline, then the call (no timeout fires
///   before its deadline or after it, whatever the shell's timing);
/// - every incident never acknowledged ends at the KPO tier, being repeated.
@Suite struct RandomizedEscalationTests {
    enum Step {
        case signal(Signal)
        case acknowledge(IncidentID)
        case resolve(IncidentID)
        case escalate(IncidentID)
        case wait
    }

    static func apply(_ step: Step, to engine: inout EscalationEngine, at now: Instant) -> [Event] {
        let root = Actor.administrator(user: "root")
        switch step {
        case .signal(let signal): return engine.receive(signal, at: now).events
        case .acknowledge(let id): return engine.acknowledge(id, by: root, at: now).events
        case .resolve(let id): return engine.resolve(id, by: root, note: "fixed", at: now).events
        case .escalate(let id): return engine.escalate(id, by: root, at: now).events
        case .wait: return engine.advance(to: now)
        }
    }

    /// Advances deadline by deadline up to `now`, checking that each step's events happen at that deadline.
    static func stepThrough(_ engine: inout EscalationEngine, to now: Instant, seed: UInt64) -> [Event] {
        var events: [Event] = []
        while let next = engine.nextDeadline, next <= now {
            #expect(next >= engine.now, "seed \(seed): a deadline in the past")
            let fired = engine.advance(to: next)
            // (A step may fire nothing: a heartbeat watch re-arms itself from the last signal, lazily.)
            for event in fired {
                #expect(
                    event.at == next,
                    "seed \(seed): \(event.kind) of \(event.incident) at \(event.at), due \(next)"
                )
            }
            events += fired
        }
        return events
    }

    @Test(arguments: 0..<24)
    func timeoutsFireExactlyAndUnansweredCallsEndRepeatingAtKPO(seed: UInt64) throws {
        var random = SeededGenerator(seed: seed)
        let plant = TestPlant.make(
            coalesceWithin: .seconds(Int64.random(in: 1...120, using: &random)),
            heartbeat: .seconds(45)
        )
        // Anywhere in 2026, DST changes included.
        let start = TestPlant.local("2026-01-01 00:00") + .seconds(Int64.random(in: 0..<(365 * 86_400), using: &random))
        var engine = EscalationEngine(plant: plant, startingAt: start)
        var acknowledged: Set<IncidentID> = []
        var now = start
        let lines: [LineID] = ["L1", "L2", "L3"]

        for _ in 0..<400 {
            now += .milliseconds(Int64.random(in: 0...240_000, using: &random))
            let line = lines.randomElement(using: &random)!  // non-empty
            let station = StationID(rawValue: "S\(Int.random(in: 1...4, using: &random))")
            let open = engine.openIncidents.map(\.id)
            let step: Step
            switch Int.random(in: 0..<100, using: &random) {
            case 0..<30:
                let category = Category.allCases.randomElement(using: &random)!  // non-empty
                step = .signal(.andon(line: line, station: station, category: category, text: nil))
            case 30..<38:
                step = .signal(.stop(line: line, station: Bool.random(using: &random) ? station : nil, reason: nil))
            case 38..<44: step = .signal(.clear(line: line, station: station))
            case 44..<48: step = .signal(.resume(line: line))
            case 48..<55 where !open.isEmpty: step = .acknowledge(open.randomElement(using: &random)!)  // non-empty
            case 55..<58 where !open.isEmpty: step = .resolve(open.randomElement(using: &random)!)  // non-empty
            case 58..<60 where !open.isEmpty: step = .escalate(open.randomElement(using: &random)!)  // non-empty
            case 60..<70: step = .signal(.heartbeat(line: "L2"))
            default: step = .wait
            }
            var reference = engine
            let expected = Self.stepThrough(&reference, to: now, seed: seed) + Self.apply(step, to: &reference, at: now)
            let events = Self.apply(step, to: &engine, at: now)
            #expect(events == expected, "seed \(seed): a late call differs from stepping through its deadlines")
            #expect(engine.nextDeadline.map { $0 > now } ?? true, "seed \(seed): a due deadline was left pending")
            for event in events where event.kind == .acknowledged { acknowledged.insert(event.incident) }
        }

        // Let a day pass: nobody answers any more.
        now += .seconds(86_400)
        _ = Self.stepThrough(&engine, to: now, seed: seed)
        for incident in engine.openIncidents where !acknowledged.contains(incident.id) {
            #expect(
                incident.isAtKPO,
                "seed \(seed): incident \(incident.id) never acknowledged but at \(incident.tierName)"
            )
            #expect(incident.unansweredCount > 0, "seed \(seed): incident \(incident.id) at KPO but not repeating")
            #expect(incident.deadline?.purpose == .acknowledge)
        }
        #expect(
            engine.openIncidents.contains { !acknowledged.contains($0.id) },
            "seed \(seed): the property was never exercised"
        )
    }

    /// The shift-change properties, over random days with arrivals, responders acting, safety paging everyone and
    /// line stops:
    /// - nobody ever owns a call while off duty, and whoever may act on a call is on duty or within a handover grace;
    /// - every call ends resolved, cleared, resumed or heard, or is still acknowledged (and reminded), or repeats at KPO.
    @Test(arguments: 0..<24)
    func nobodyOffDutyOwnsACallAndEveryCallEnds(seed: UInt64) throws {
        var random = SeededGenerator(seed: seed &+ 7_000)
        let plant = TestPlant.make(
            arriveWithin: Bool.random(using: &random) ? .minutes(Int64.random(in: 1...10, using: &random)) : nil,
            remindEvery: .minutes(Int64.random(in: 5...60, using: &random)),
            pageEveryone: [.safety]
        )
        let start = TestPlant.local("2026-01-01 00:00") + .seconds(Int64.random(in: 0..<(365 * 86_400), using: &random))
        var engine = EscalationEngine(plant: plant, startingAt: start)
        var now = start
        var raised: Set<IncidentID> = []
        var closed: Set<IncidentID> = []
        let people: [ResponderID] = ["a", "b", "c", "g", "q", "m", "x"]
        let lines: [LineID] = ["L1", "L2", "L3"]

        func check(_ when: String) {
            let shift = plant.calendar.occurrence(at: engine.now)?.shift
            func onDuty(_ rota: RotaID) -> [ResponderID] {
                plant.duty(of: rota, at: engine.now, shift: shift).responders
            }
            let everyone = Set(plant.rotas.keys.flatMap(onDuty))
            for incident in engine.openIncidents {
                var allowed = Set((engine.reachedRotas(of: incident) + [.kpo]).flatMap(onDuty))
                // An unanswered call widens to every KPO member after `kpoWidenAfter` repeats.
                if incident.isAtKPO, incident.unansweredCount > plant.kpoWidenAfter {
                    allowed.formUnion(plant.rotas[.kpo]?.members ?? [])
                }
                for owner in incident.owners {
                    #expect(
                        allowed.contains(owner),
                        "seed \(seed) \(when): \(owner) owns \(incident.id) at \(incident.tierName) off duty"
                    )
                }
                for person in people where engine.authorize(.responder(person), for: incident) == nil {
                    let inGrace = incident.grace.contains { $0.responder == person && engine.now < $0.until }
                    #expect(
                        everyone.contains(person) || inGrace,
                        "seed \(seed) \(when): \(person), off duty, may act on \(incident.id)"
                    )
                }
            }
        }

        for _ in 0..<300 {
            now += .milliseconds(Int64.random(in: 0...600_000, using: &random))
            while let next = engine.nextDeadline, next <= now {
                let handover = next == engine.dutyChangeAt
                for event in engine.advance(to: next) where event.closes { closed.insert(event.incident) }
                if handover { check("after the shift change at \(next)") }
            }
            let line = lines.randomElement(using: &random)!  // non-empty
            let station = StationID(rawValue: "S\(Int.random(in: 1...3, using: &random))")
            let open = engine.openIncidents
            let incident = open.randomElement(using: &random)
            let actor: Actor =
                incident.flatMap { $0.notified.randomElement(using: &random) }.map(Actor.responder)
                ?? .administrator(user: "root")
            let events: [Event]
            switch Int.random(in: 0..<100, using: &random) {
            case 0..<30:
                let category = Category.allCases.randomElement(using: &random)!  // non-empty
                events =
                    engine.receive(.andon(line: line, station: station, category: category, text: nil), at: now)
                    .events
            case 30..<36:
                events =
                    engine.receive(
                        .stop(line: line, station: Bool.random(using: &random) ? station : nil, reason: nil),
                        at: now
                    ).events
            case 36..<42: events = engine.receive(.clear(line: line, station: station), at: now).events
            case 42..<46: events = engine.receive(.resume(line: line), at: now).events
            case 46..<52:
                let badge: ResponderID? = Bool.random(using: &random) ? people.randomElement(using: &random) : nil
                events = engine.receive(.arrived(line: line, station: station, responder: badge), at: now).events
            case 52..<62 where incident != nil: events = engine.acknowledge(incident!.id, by: actor, at: now).events
            case 62..<66 where incident != nil: events = engine.arrive(incident!.id, by: actor, at: now).events
            case 66..<70 where incident != nil:
                events = engine.resolve(incident!.id, by: actor, note: "fixed", at: now).events
            default: events = engine.advance(to: now)
            }
            for event in events {
                if event.kind == .raised || event.kind == .silent { raised.insert(event.incident) }
                if event.closes { closed.insert(event.incident) }
            }
            check("after a step at \(now)")
        }

        // A day passes, with every shift change in it: nobody answers any more.
        now += .seconds(26 * 3600)
        while let next = engine.nextDeadline, next <= now {
            let handover = next == engine.dutyChangeAt
            for event in engine.advance(to: next) where event.closes { closed.insert(event.incident) }
            if handover { check("after the shift change at \(next)") }
        }
        let open = Set(engine.openIncidents.map(\.id))
        #expect(raised.subtracting(closed) == open, "seed \(seed): a call vanished without a closing event")
        for incident in engine.openIncidents {
            if incident.isAcknowledged {
                #expect(
                    incident.deadline?.purpose == .remind,
                    "seed \(seed): \(incident.id) acknowledged, not reminded"
                )
            } else {
                #expect(incident.isAtKPO && incident.unansweredCount > 0, "seed \(seed): \(incident.id) sits")
            }
        }
        #expect(!open.isEmpty || !closed.isEmpty, "seed \(seed): the property was never exercised")
    }
}
