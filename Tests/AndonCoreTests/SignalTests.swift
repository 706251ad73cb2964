import Testing

@testable import AndonCore

/// Line stops, promotion, coalescing, clear, resume and heartbeats.
@Suite struct SignalTests {
    let plant = TestPlant.make()
    let t0 = TestPlant.local("2026-11-25 10:00")

    @Test func theSameAndonAgainCoalescesIntoOneIncident() throws {
        var engine = EscalationEngine(plant: plant, startingAt: t0)
        let andon = Signal.andon(line: "L1", station: "S3", category: .quality, text: nil)
        let id = try #require(engine.receive(andon, at: t0).incident)
        // Within the interval: counted, one event for the first repeat only.
        let second = engine.receive(andon, at: t0 + .seconds(10))
        #expect(second.result == .success(.repeated(id, count: 2)))
        #expect(second.events.kinds == [.repeated])
        #expect(second.events[0].count == 2)
        let third = engine.receive(andon, at: t0 + .seconds(20))
        #expect(third.result == .success(.repeated(id, count: 3)))
        #expect(third.events.kinds == [])
        // A different category at the same station is a call of its own, with its own chain.
        let fourth = engine.receive(
            .andon(line: "L1", station: "S3", category: .help, text: nil),
            at: t0 + .seconds(69)
        )
        #expect(fourth.events.kinds == [.raised])
        #expect(fourth.incident != id)
        let fifth = engine.receive(andon, at: t0 + .seconds(70))
        #expect(fifth.result == .success(.repeated(id, count: 4)))
        #expect(fifth.events.map(\.count) == [4])
        #expect(engine.openIncidentCount == 2)
        // Repeats do not reset the escalation timer.
        #expect(engine.nextDeadline == t0 + .minutes(3))
    }

    @Test func aStopAtAStationPromotesItsAndon() throws {
        var engine = EscalationEngine(plant: plant, startingAt: t0)
        let id = try #require(
            engine.receive(.andon(line: "L1", station: "S3", category: .quality, text: nil), at: t0).incident
        )
        _ = engine.acknowledge(id, by: .responder("a"), at: t0 + .seconds(30))
        let outcome = engine.receive(.stop(line: "L1", station: "S3", reason: "scrap"), at: t0 + .minutes(1))
        #expect(outcome.result == .success(.promoted(id)))
        #expect(outcome.events.kinds == [.promoted])
        let promoted = outcome.events[0]
        #expect(promoted.incident == id)
        #expect(promoted.incidentKind == .stop)
        #expect(promoted.tier?.policy == "stop")
        #expect(promoted.tier?.number == 1)
        #expect(promoted.responders == ["a"])
        #expect(promoted.severity == .error)
        #expect(promoted.elapsed == .minutes(1))
        let incident = try #require(engine.incident(id))
        #expect(incident.kind == .stop)
        #expect(incident.isAcknowledged == false)  // the stop chain must be acknowledged afresh
        #expect(engine.nextDeadline == t0 + .minutes(2))  // stop chain: team-leader has 1m
        // Another stop for the same station is a repeat; clear does not end a stop.
        #expect(
            engine.receive(.stop(line: "L1", station: "S3", reason: nil), at: t0 + .minutes(1)).result
                == .success(.repeated(id, count: 3))
        )
        let clear = engine.receive(.clear(line: "L1", station: "S3"), at: t0 + .minutes(1))
        guard case .success(.unchanged(let note)) = clear.result else {
            Issue.record("clear on a stopped station changes nothing")
            return
        }
        #expect(note?.contains("resumes") == true)
        #expect(engine.openIncidentCount == 1)
    }

    @Test func theOpenSummaryCountsCallsStopsAndKPOInOnePass() throws {
        var engine = EscalationEngine(plant: plant, startingAt: t0)
        #expect(engine.openSummary == OpenSummary(open: 0))
        _ = engine.receive(.andon(line: "L1", station: "S1", category: .help, text: nil), at: t0)
        _ = engine.receive(.stop(line: "L2", station: nil, reason: nil), at: t0 + .minutes(1))
        _ = engine.receive(.andon(line: "L1", station: "S3", category: .help, text: nil), at: t0 + .minutes(2))
        _ = engine.receive(.stop(line: "L1", station: "S3", reason: nil), at: t0 + .minutes(3))  // promoted
        var summary = engine.openSummary
        #expect(summary.open == 3)
        #expect(summary.stoppedLines == ["L1", "L2"])
        #expect(summary.oldestStop == t0 + .minutes(1))
        #expect(summary.atKPO == 0)
        _ = engine.advance(to: t0 + .minutes(120))  // nobody acknowledges: all three end at KPO
        summary = engine.openSummary
        #expect(summary.atKPO == 3)
        _ = engine.receive(.resume(line: "L2"), at: t0 + .minutes(121))
        summary = engine.openSummary
        #expect(summary.open == 2)
        #expect(summary.stoppedLines == ["L1"])
        #expect(summary.oldestStop == t0 + .minutes(3))
    }

    @Test func theMetricsGaugesCountByLineCategoryAndTierInOnePass() throws {
        var engine = EscalationEngine(plant: plant, startingAt: t0)
        #expect(engine.openMetrics == OpenMetrics())
        _ = engine.receive(.andon(line: "L1", station: "S1", category: .help, text: nil), at: t0)
        _ = engine.receive(.andon(line: "L1", station: "S2", category: .help, text: nil), at: t0 + .minutes(1))
        _ = engine.receive(.stop(line: "L2", station: nil, reason: nil), at: t0 + .minutes(2))
        var metrics = engine.openMetrics
        let help = OpenMetrics.Key(line: "L1", category: "help", tier: "team-leader")
        let stop = OpenMetrics.Key(line: "L2", category: "stop", tier: "team-leader")
        #expect(metrics.open == [help: 2, stop: 1])
        #expect(metrics.stoppedLines == ["L2"])
        #expect(metrics.oldestUnacknowledged == t0)
        #expect(metrics.atKPO == 0)
        _ = engine.advance(to: t0 + .minutes(120))  // nobody acknowledges: all three end at KPO
        metrics = engine.openMetrics
        #expect(metrics.atKPO == 3)
        #expect(metrics.open.keys.allSatisfy { $0.tier == "kpo" }, "\(metrics.open)")
        #expect(metrics.open.values.reduce(0, +) == 3)
    }

    @Test func aStopWithoutStationOpensALineStop() throws {
        var engine = EscalationEngine(plant: plant, startingAt: t0)
        let outcome = engine.receive(.stop(line: "L1", station: nil, reason: "conveyor"), at: t0)
        let id = try #require(outcome.incident)
        #expect(outcome.events.kinds == [.raised])
        #expect(outcome.events[0].incidentKind == .stop)
        #expect(outcome.events[0].station == nil)
        #expect(outcome.events[0].reason == "conveyor")
        #expect(outcome.events[0].severity == .error)
        #expect(
            engine.receive(.stop(line: "L1", station: nil, reason: nil), at: t0 + .seconds(5)).result
                == .success(.repeated(id, count: 2))
        )
        // A stop on another line is another incident.
        #expect(engine.receive(.stop(line: "L2", station: nil, reason: nil), at: t0 + .seconds(5)).incident != id)
    }

    @Test func resumeEndsTheLinesStopsWithTheirDuration() throws {
        var engine = EscalationEngine(plant: plant, startingAt: t0)
        let lineStop = try #require(engine.receive(.stop(line: "L1", station: nil, reason: nil), at: t0).incident)
        let andon = try #require(
            engine.receive(.andon(line: "L1", station: "S3", category: .help, text: nil), at: t0).incident
        )
        _ = engine.receive(.stop(line: "L1", station: "S3", reason: nil), at: t0 + .minutes(2))
        let other = try #require(
            engine.receive(.andon(line: "L1", station: "S4", category: .help, text: nil), at: t0).incident
        )
        let elsewhere = try #require(engine.receive(.stop(line: "L2", station: nil, reason: nil), at: t0).incident)
        // The line was stopped already: S3's stop joins it and takes up S3's andon, which stays a call of its own.
        #expect(engine.incident(lineStop)?.stations == ["S3"])
        #expect(engine.incident(andon)?.lineStop == lineStop)
        let outcome = engine.receive(.resume(line: "L1"), at: t0 + .minutes(7))
        #expect(outcome.result == .success(.closed([lineStop])))
        let resumed = outcome.events.filter { $0.kind == .resumed }
        #expect(resumed.map(\.incident) == [lineStop])
        #expect(resumed.map(\.waited) == [.minutes(7)])
        #expect(engine.incident(andon) != nil)
        #expect(engine.incident(other) != nil)
        #expect(engine.incident(elsewhere) != nil)
        // Idempotent: nothing left to resume is fine.
        #expect(engine.receive(.resume(line: "L1"), at: t0 + .minutes(8)).result == .success(.closed([])))
    }

    @Test func clearEndsAStationsAndon() throws {
        var engine = EscalationEngine(plant: plant, startingAt: t0)
        let id = try #require(
            engine.receive(.andon(line: "L1", station: "S3", category: .help, text: nil), at: t0).incident
        )
        let outcome = engine.receive(.clear(line: "L1", station: "S3"), at: t0 + .seconds(90))
        #expect(outcome.result == .success(.closed([id])))
        #expect(outcome.events.kinds == [.cleared])
        #expect(outcome.events[0].elapsed == .seconds(90))
        #expect(engine.nextCallDeadline == nil)
        #expect(
            engine.receive(.clear(line: "L1", station: "S3"), at: t0 + .seconds(91)).result == .success(.closed([]))
        )
    }

    @Test func aQuietControllerOpensASilentIncidentUntilHeardAgain() throws {
        let plant = TestPlant.make(heartbeat: .seconds(30))
        var engine = EscalationEngine(plant: plant, startingAt: t0)
        #expect(engine.nextDeadline == t0 + .seconds(30))
        _ = engine.receive(.heartbeat(line: "L2"), at: t0 + .seconds(10))
        _ = engine.receive(.heartbeat(line: "L2"), at: t0 + .seconds(20))
        // The deadline armed at start is re-armed lazily from the last heartbeat.
        #expect(engine.advance(to: t0 + .seconds(50) - .milliseconds(1)).kinds == [])
        let silent = engine.advance(to: t0 + .seconds(50))
        #expect(silent.kinds == [.silent])
        #expect(silent[0].at == t0 + .seconds(50))
        #expect(silent[0].incidentKind == .silent)
        #expect(silent[0].tier?.name == "maintenance")  // routed like a maintenance andon
        #expect(silent[0].responders == ["m"])
        #expect(silent[0].waited == .seconds(30))
        let id = silent[0].incident
        // Silence does not open a second incident.
        #expect(engine.advance(to: t0 + .seconds(60)).kinds == [])
        // Any signal from the line is a sign of life.
        let heard = engine.receive(.andon(line: "L2", station: "S1", category: .help, text: nil), at: t0 + .seconds(70))
        #expect(heard.events.kinds == [.heard, .raised])
        #expect(heard.events[0].incident == id)
        // Quiet from the last heartbeat (t0 + 20 s) to this signal: 50 s, not the 20 s the silent call was open.
        #expect(heard.events[0].waited == .seconds(50))
        #expect(engine.incident(id) == nil)
        // And the watch starts again from there.
        let again = engine.advance(to: t0 + .seconds(100))
        #expect(again.kinds == [.silent])
        #expect(again[0].at == t0 + .seconds(100))
    }

    @Test func linesWithoutHeartbeatAreNeverSilent() {
        var engine = EscalationEngine(plant: plant, startingAt: t0)
        #expect(engine.nextCallDeadline == nil)
        #expect(engine.advance(to: t0 + .seconds(86_400 * 30)).kinds == [])
    }

    @Test(arguments: [
        (Signal.andon(line: "L9", station: "S1", category: .help, text: nil), SignalRejection.Code.unknownLine),
        (Signal.stop(line: "L9", station: nil, reason: nil), .unknownLine),
        (Signal.heartbeat(line: "L9"), .unknownLine),
        (Signal.andon(line: "L3", station: "S1", category: .cost, text: nil), .categoryNotAccepted),
    ])
    func rejectedSignalsChangeNothing(signal: Signal, code: SignalRejection.Code) {
        var engine = EscalationEngine(plant: plant, startingAt: t0)
        let outcome = engine.receive(signal, at: t0)
        guard case .failure(let rejection) = outcome.result else {
            Issue.record("\(signal) must be rejected")
            return
        }
        #expect(rejection.code == code)
        #expect(outcome.events.kinds == [])
        #expect(engine.openIncidentCount == 0)
    }

    @Test func sameInputsAtTheSameInstantsGiveTheSameEvents() {
        func run() -> [Event] {
            var engine = EscalationEngine(plant: TestPlant.make(heartbeat: .seconds(30)), startingAt: t0)
            var events: [Event] = []
            for station in 1...20 {
                let at = t0 + .seconds(Int64(station * 7))
                events +=
                    engine.receive(
                        .andon(line: "L1", station: StationID(rawValue: "S\(station)"), category: .help, text: nil),
                        at: at
                    ).events
                events +=
                    engine.receive(
                        .stop(
                            line: "L1",
                            station: station % 3 == 0 ? StationID(rawValue: "S\(station)") : nil,
                            reason: nil
                        ),
                        at: at
                    ).events
            }
            events += engine.receive(.resume(line: "L1"), at: t0 + .minutes(20)).events
            events += engine.advance(to: t0 + .minutes(90))
            return events
        }
        let first = run()
        #expect(first.count > 60)
        #expect(run() == first)
    }
}
