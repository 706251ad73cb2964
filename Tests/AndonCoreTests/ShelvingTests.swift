import Testing

@testable import AndonCore

/// Shelving and out-of-service stations under the manual clock: timed (to the millisecond), one-shot, the cap,
/// safety and stops refused, a restart (both snapshot forms), and the shift start's re-announcement.
@Suite struct ShelvingTests {
    let plant = TestPlant.make(pageEveryone: [.safety])
    let t0 = TestPlant.local("2026-11-25 10:00")

    func andon(_ station: StationID, _ category: Category = .help, line: LineID = "L1") -> Signal {
        .andon(line: line, station: station, category: category, text: nil)
    }

    @Test func aTimedShelfHoldsOpenAndNewCallsUntilItsInstantThenCallsForThemAgain() throws {
        var engine = EscalationEngine(plant: plant, startingAt: t0)
        let open = try #require(engine.receive(andon("S3"), at: t0).incident)
        let (result, events) = engine.shelve(
            line: "L1",
            station: "S3",
            category: nil,
            for: .hours(2),
            reason: "hydraulics under repair",
            by: .responder("a"),
            at: t0 + .seconds(30)
        )
        let outcome = try result.get()
        #expect(outcome.calls == [open] && outcome.until == t0 + .seconds(30) + .hours(2))
        #expect(events.kinds == [.shelved])
        #expect(events.first?.shelf == outcome.shelves.first && events.first?.kind.notifies == false)
        let notices = engine.takeNotices()
        #expect(notices.map(\.kind) == [.shelve])
        #expect(notices.first?.reason == "hydraulics under repair" && notices.first?.calls == [open])
        #expect(engine.takeNotices().isEmpty)

        // Shelved: timed (it stays open, its age runs) but nobody is called and nothing escalates.
        #expect(engine.incident(open)?.deadline == nil)
        #expect(engine.advance(to: t0 + .hours(1)).isEmpty)
        // A new call of the shelved station is shelved at once: its raised entry names nobody.
        let later = engine.receive(andon("S3", .material), at: t0 + .hours(1))
        let second = try #require(later.incident)
        #expect(later.events.kinds == [.raised])
        #expect(later.events.first?.responders == [] && later.events.first?.shelf != nil)
        #expect(NotificationPlan.intents(for: later.events[0], plant: plant).isEmpty)
        // Another station is not shelved.
        let other = engine.receive(andon("S4"), at: t0 + .hours(1))
        #expect(other.events.first?.responders == ["a"] && other.events.first?.shelf == nil)

        // At its instant, not a millisecond before, the shelf ends and both calls are announced again.
        let end = t0 + .seconds(30) + .hours(2)
        #expect(engine.advance(to: end - .milliseconds(1)).filter { $0.incident != other.incident }.isEmpty)
        let ended = engine.advance(to: end).filter { $0.incident != other.incident }
        #expect(ended.map(\.kind) == [.unshelved, .unshelved])
        #expect(ended.map(\.incident) == [open, second])
        #expect(ended.allSatisfy { $0.at == end && $0.responders == ["a"] && $0.shelf == nil })
        let off = engine.takeNotices()
        #expect(off.map(\.kind) == [.unshelve])
        #expect(off.first?.expired == true && off.first?.lasted == .hours(2) && off.first?.calls == [open, second])
        // Its timers run again from now.
        #expect(engine.incident(open)?.deadline == Deadline(at: end + .minutes(3), purpose: .acknowledge))
        #expect(engine.standingShelves.isEmpty)
    }

    @Test func aOneShotShelfEndsWhenItsCallsAreOverAndTakesNoNewOnes() throws {
        var engine = EscalationEngine(plant: plant, startingAt: t0)
        let first = try #require(engine.receive(andon("S3"), at: t0).incident)
        let (result, _) = engine.shelve(
            line: "L1",
            station: "S3",
            category: nil,
            for: nil,
            reason: "known sensor fault",
            by: .administrator(user: "root"),
            at: t0 + .seconds(10)
        )
        #expect(try result.get().calls == [first])
        _ = engine.takeNotices()
        // One-shot: a new call at the station is not shelved.
        let next = engine.receive(andon("S3", .quality), at: t0 + .seconds(20))
        #expect(next.events.first?.shelf == nil && next.events.first?.responders == ["a"])
        // The shelved call clears: the shelf ends with it, announcing nothing.
        let cleared = engine.receive(.clear(line: "L1", station: "S3", category: .help), at: t0 + .minutes(5))
        #expect(cleared.events.filter { $0.incident == first }.kinds == [.cleared])
        let notices = engine.takeNotices()
        #expect(notices.map(\.kind) == [.unshelve] && notices.first?.calls == [] && notices.first?.expired == false)
        #expect(engine.standingShelves.isEmpty)
        // Nothing open to shelve until it clears: refused.
        let (nothing, _) = engine.shelve(
            line: "L2",
            station: nil,
            category: nil,
            for: nil,
            reason: "x",
            by: .administrator(user: "root"),
            at: t0 + .minutes(6)
        )
        #expect(throws: ActionError.self) { try nothing.get() }
        if case .failure(let error) = nothing { #expect(error.code == .nothingShelved) }
    }

    @Test func theCapSafetyAndLineStopsAreNeverShelved() throws {
        var engine = EscalationEngine(plant: plant, startingAt: t0)
        let (tooLong, _) = engine.shelve(
            line: "L1",
            station: nil,
            category: nil,
            for: Plant.defaultMaxShelve + .seconds(1),
            reason: "x",
            by: .administrator(user: "root"),
            at: t0
        )
        if case .failure(let error) = tooLong { #expect(error.code == .badValue) } else { Issue.record("over the cap") }
        let (atCap, _) = engine.shelve(
            line: "L1",
            station: nil,
            category: nil,
            for: Plant.defaultMaxShelve,
            reason: "line-wide rework",
            by: .administrator(user: "root"),
            at: t0
        )
        #expect((try? atCap.get()) != nil)
        let (safety, _) = engine.shelve(
            line: "L1",
            station: nil,
            category: .safety,
            for: .hours(1),
            reason: "x",
            by: .administrator(user: "root"),
            at: t0
        )
        if case .failure(let error) = safety { #expect(error.code == .notShelvable) } else { Issue.record("safety") }
        // The whole line is shelved, yet a safety andon calls everyone, and a line stop its chain.
        let hurt = engine.receive(andon("S5", .safety), at: t0 + .minutes(1))
        #expect(hurt.events.first?.shelf == nil && !(hurt.events.first?.responders.isEmpty ?? true))
        let shelved = try #require(engine.receive(andon("S6"), at: t0 + .minutes(2)).incident)
        #expect(engine.incident(shelved)?.shelf != nil)
        // The shelved station stops the line: its call becomes a stop, off the shelf, calling its chain.
        let stop = engine.receive(.stop(line: "L1", station: "S6", reason: "jam"), at: t0 + .minutes(3))
        #expect(stop.events.first?.kind == .promoted && stop.events.first?.responders == ["a"])
        #expect(engine.incident(shelved)?.shelf == nil && engine.incident(shelved)?.deadline != nil)
        // Escalating a shelved call by hand takes it off its shelf.
        let third = try #require(engine.receive(andon("S7"), at: t0 + .minutes(4)).incident)
        let escalated = engine.escalate(third, by: .administrator(user: "root"), at: t0 + .minutes(5))
        #expect(escalated.events.kinds == [.escalated])
        #expect(engine.incident(third)?.shelf == nil)
    }

    @Test func aStationOutOfServiceRaisesNothingButCountsAndSafetyStillCalls() throws {
        var engine = EscalationEngine(plant: plant, startingAt: t0)
        _ = engine.takeOutOfService(
            line: "L1",
            station: "S3",
            reason: "robot cell rebuilt",
            by: .responder("a"),
            at: t0
        )
        #expect(engine.takeNotices().map(\.kind) == [.outOfService])
        for minute in 1...3 {
            let pulled = engine.receive(andon("S3"), at: t0 + .minutes(Int64(minute)))
            #expect(pulled.events.isEmpty)
            if case .success(.unchanged(let note)) = pulled.result {
                #expect(note?.contains("out of service") == true)
            } else {
                Issue.record("raised a call")
            }
        }
        #expect(engine.takeNotices().map { $0.count } == [1, 2, 3])
        #expect(engine.receive(andon("S3", .safety), at: t0 + .minutes(4)).incident != nil)
        let (back, _) = engine.putInService(line: "L1", station: "S3", by: .responder("a"), at: t0 + .hours(1))
        #expect((try? back.get()) != nil)
        let notice = try #require(engine.takeNotices().first)
        #expect(notice.kind == .inService && notice.count == 3 && notice.lasted == .hours(1))
        #expect(engine.receive(andon("S3"), at: t0 + .hours(1)).incident != nil)
    }

    @Test func shelvesAndStationsOutOfServiceSurviveARestartAndEndOnTime() throws {
        var engine = EscalationEngine(plant: plant, startingAt: t0)
        let open = try #require(engine.receive(andon("S3"), at: t0).incident)
        _ = engine.shelve(
            line: "L1",
            station: "S3",
            category: nil,
            for: .minutes(90),
            reason: "repair",
            by: .responder("a"),
            at: t0
        )
        _ = engine.shelve(line: "L2", station: nil, category: nil, for: nil, reason: "x", by: .responder("a"), at: t0)
        _ = engine.takeOutOfService(line: "L3", station: "S1", reason: "rebuilt", by: .responder("a"), at: t0)
        _ = engine.takeNotices()
        for json in [false, true] {
            var restored = try SnapshotTests.roundTrip(engine, json: json)
            #expect(restored.standingShelves == engine.standingShelves)
            #expect(restored.stationsOutOfService == engine.stationsOutOfService)
            #expect(restored.incident(open)?.shelf == engine.incident(open)?.shelf)
            let ended = restored.advance(to: t0 + .minutes(90))
            #expect(ended.kinds == [.unshelved] && ended.first?.incident == open)
            #expect(restored.receive(andon("S1", line: "L3"), at: t0 + .minutes(91)).events.isEmpty)
            // The next shelf gets a new number.
            let (next, _) = restored.shelve(
                line: "L1",
                station: nil,
                category: nil,
                for: .minutes(5),
                reason: "y",
                by: .responder("a"),
                at: t0 + .minutes(92)
            )
            #expect(try next.get().shelves == [2])
        }
    }

    @Test func eachShiftStartSaysWhatIsStillShelvedAndOutOfService() throws {
        let start = TestPlant.local("2026-11-25 13:00")
        var engine = EscalationEngine(plant: plant, startingAt: start)
        _ = engine.shelve(
            line: "L1",
            station: "S3",
            category: .material,
            for: .hours(3),
            reason: "supply rework",
            by: .responder("a"),
            at: start
        )
        _ = engine.takeOutOfService(line: "L2", station: "S9", reason: "rebuilt", by: .responder("a"), at: start)
        _ = engine.takeNotices()
        let boundary = TestPlant.local("2026-11-25 14:00")
        _ = engine.advance(to: boundary - .milliseconds(1))
        #expect(engine.takeNotices().isEmpty)
        _ = engine.advance(to: boundary)
        let standing = engine.takeNotices()
        #expect(standing.map(\.kind) == [.standing, .standing])
        #expect(standing.first?.shelf == 1 && standing.first?.category == .material)
        #expect(standing.last?.station == "S9" && standing.last?.lasted == .hours(1))
        #expect(standing.allSatisfy { $0.at == boundary })
    }
}
