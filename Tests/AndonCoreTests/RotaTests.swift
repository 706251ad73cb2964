import Testing

@testable import AndonCore

/// Shifts, rotations and overrides: "who is on duty at instant T" as a pure function.
@Suite struct RotaTests {
    let plant = TestPlant.make()
    var calendar: ShiftCalendar { plant.calendar }
    let berlin = TestPlant.berlin

    private func utc(_ text: String) -> Instant {
        SiteTimeZone.utc.instant(of: LocalDateTime(parsing: text)!)  // test literals are well formed
    }

    private func onDuty(_ rota: RotaID, at instant: Instant, in plant: Plant? = nil) -> [ResponderID] {
        let plant = plant ?? self.plant
        return plant.rotas[rota]!.duty(at: instant, calendar: plant.calendar).responders  // rotas of the test plant
    }

    @Test(arguments: [
        ("2026-11-25 05:59", "night", "2026-11-24"),
        ("2026-11-25 06:00", "early", "2026-11-25"),
        ("2026-11-25 13:59", "early", "2026-11-25"),
        ("2026-11-25 14:00", "late", "2026-11-25"),
        ("2026-11-25 22:00", "night", "2026-11-25"),
        ("2026-11-25 23:59", "night", "2026-11-25"),
        ("2026-11-26 00:00", "night", "2026-11-25"),
        ("2026-11-26 03:00", "night", "2026-11-25"),
    ])
    func aShiftThatCrossesMidnightBelongsToTheDateItStarts(local: String, shift: String, date: String) throws {
        let occurrence = try #require(calendar.occurrence(at: TestPlant.local(local)))
        #expect(occurrence.shift == ShiftID(rawValue: shift))
        #expect(occurrence.date == LocalDate(parsing: date))
    }

    @Test func theNightShiftIsAnHourShorterWhenClocksGoForward() throws {
        // 2026-03-29: 02:00 CET becomes 03:00 CEST (01:00 UTC).
        let night = try #require(calendar.occurrence(at: utc("2026-03-29 00:30")))
        #expect(night.shift == "night")
        #expect(night.start == utc("2026-03-28 21:00"))  // 22:00 CET
        #expect(night.end == utc("2026-03-29 04:00"))  // 06:00 CEST
        #expect(night.end.duration(since: night.start) == .seconds(7 * 3600))
        // Just before and just after the jump, still the same night shift; 06:00 CEST starts early.
        #expect(calendar.occurrence(at: utc("2026-03-29 00:59"))?.date == LocalDate(parsing: "2026-03-28"))
        #expect(calendar.occurrence(at: utc("2026-03-29 01:00"))?.date == LocalDate(parsing: "2026-03-28"))
        #expect(calendar.occurrence(at: utc("2026-03-29 04:00"))?.shift == "early")
        #expect(calendar.occurrence(at: utc("2026-03-29 03:59"))?.shift == "night")
        #expect(onDuty("tl", at: utc("2026-03-29 03:59")) == ["c"])
        #expect(onDuty("tl", at: utc("2026-03-29 04:00")) == ["a"])
    }

    @Test func theNightShiftIsAnHourLongerWhenClocksGoBack() throws {
        // 2026-10-25: 03:00 CEST becomes 02:00 CET (01:00 UTC); 02:00-03:00 local happens twice.
        let night = try #require(calendar.occurrence(at: utc("2026-10-25 00:30")))
        #expect(night.start == utc("2026-10-24 20:00"))  // 22:00 CEST
        #expect(night.end == utc("2026-10-25 05:00"))  // 06:00 CET
        #expect(night.end.duration(since: night.start) == .seconds(9 * 3600))
        // Both 02:30s are the same night shift.
        #expect(calendar.occurrence(at: utc("2026-10-25 00:30")) == calendar.occurrence(at: utc("2026-10-25 01:30")))
        #expect(calendar.occurrence(at: utc("2026-10-25 04:59"))?.shift == "night")
        #expect(calendar.occurrence(at: utc("2026-10-25 05:00"))?.shift == "early")
        // The late shift the evening before the change ends at 22:00 CEST, the night after the change starts at 22:00 CET.
        #expect(calendar.occurrence(at: utc("2026-10-25 20:59"))?.shift == "late")
        #expect(calendar.occurrence(at: utc("2026-10-25 21:00"))?.shift == "night")
    }

    @Test func everyInstantAroundBothChangesIsOnExactlyOneShift() {
        for (from, to) in [("2026-03-27 00:00", "2026-03-31 00:00"), ("2026-10-23 00:00", "2026-10-27 00:00")] {
            let occurrences = calendar.occurrences(from: utc(from), to: utc(to))
            for (earlier, later) in zip(occurrences, occurrences.dropFirst()) {
                #expect(
                    earlier.end == later.start,
                    "\(earlier.shift) on \(earlier.date) must hand over to \(later.shift)"
                )
            }
            var instant = utc(from)
            while instant < utc(to) {
                let matches = occurrences.filter { $0.contains(instant) }
                #expect(matches.count == 1, "\(instant) is on \(matches.count) shifts")
                instant += .seconds(15 * 60)
            }
        }
    }

    @Test func aWeeklyRotationHandsOverAtItsLocalTime() {
        // Anchor: Monday 2026-01-05 06:00, k1; then k2, k3, k1, ...
        #expect(onDuty(.kpo, at: TestPlant.local("2026-01-05 06:00")) == ["k1"])
        #expect(onDuty(.kpo, at: TestPlant.local("2026-01-12 05:59")) == ["k1"])
        #expect(onDuty(.kpo, at: TestPlant.local("2026-01-12 06:00")) == ["k2"])
        #expect(onDuty(.kpo, at: TestPlant.local("2026-01-19 06:00")) == ["k3"])
        #expect(onDuty(.kpo, at: TestPlant.local("2026-01-26 06:00")) == ["k1"])
        // Before the anchor the rotation runs backwards.
        #expect(onDuty(.kpo, at: TestPlant.local("2026-01-05 05:59")) == ["k3"])
        #expect(onDuty(.kpo, at: TestPlant.local("2025-12-29 05:59")) == ["k2"])
        // Across the spring change the handover stays at 06:00 local (04:00 UTC instead of 05:00).
        #expect(onDuty(.kpo, at: utc("2026-03-30 03:59")) == onDuty(.kpo, at: utc("2026-03-29 12:00")))
        #expect(onDuty(.kpo, at: utc("2026-03-30 04:00")) != onDuty(.kpo, at: utc("2026-03-30 03:59")))
    }

    @Test func aRotationCanPutSeveralOnDutyAndOnlyDuringSomeShifts() {
        let rotation = Rotation(
            members: ["a", "b", "c"],
            periodDays: 1,
            anchor: LocalDateTime(parsing: "2026-11-23 22:00")!,
            onDuty: 2,
            duringShifts: ["night"]
        )
        let rota = Rota(id: "night-call", rotation: rotation)
        #expect(rota.duty(at: TestPlant.local("2026-11-23 23:00"), calendar: calendar).responders == ["a", "b"])
        #expect(rota.duty(at: TestPlant.local("2026-11-24 23:00"), calendar: calendar).responders == ["c", "a"])
        #expect(rota.duty(at: TestPlant.local("2026-11-25 03:00"), calendar: calendar).responders == ["c", "a"])
        let day = rota.duty(at: TestPlant.local("2026-11-25 12:00"), calendar: calendar)
        #expect(day.responders == [])
        #expect(day.emptyReason?.contains("off shift") == true)
    }

    /// `andonctl who` says why each person is on duty: the shift's assignment, the rotation's turn, or an override.
    @Test func aDutySaysWhatPutEachResponderOnIt() {
        let from = TestPlant.local("2026-11-25 10:00")
        let until = TestPlant.local("2026-11-25 12:00")
        let rotation = Rotation(
            members: ["r1", "r2", "r3"],
            periodDays: 7,
            anchor: LocalDateTime(parsing: "2026-11-02 06:00")!,
            duringShifts: ["early"]
        )
        let rota = Rota(
            id: "tl",
            byShift: ["early": ["a", "g"]],
            rotation: rotation,
            overrides: [
                Override(from: from, until: until, responder: "x", replaces: "a", note: "swap with a"),
                Override(from: from, until: until, responder: "q", replaces: nil),
            ]
        )
        let before = rota.duty(at: TestPlant.local("2026-11-25 09:00"), calendar: calendar)
        #expect(before.responders == ["a", "g", "r1"])
        #expect(before.reasons["a"] == .shift("early"))
        // Week 4 from the anchor (2026-11-23 06:00): the first member again, 1 of 3.
        #expect(before.reasons["r1"] == .rotation(member: 1, of: 3, since: TestPlant.local("2026-11-23 06:00")))
        let during = rota.duty(at: from, calendar: calendar)
        #expect(during.responders == ["x", "g", "r1", "q"])
        #expect(during.reasons["x"] == .override(from: from, until: until, replaces: "a", note: "swap with a"))
        #expect(during.reasons["q"] == .override(from: from, until: until, replaces: nil, note: nil))
        #expect(during.reasons["a"] == nil, "a is not on duty")
        #expect(during.reasons["g"] == .shift("early"))
        let next = rota.duty(at: TestPlant.local("2026-11-30 09:00"), calendar: calendar)
        #expect(next.reasons["r2"] == .rotation(member: 2, of: 3, since: TestPlant.local("2026-11-30 06:00")))
    }

    /// The rolling coverage check: a KPO gap 20 days out is beyond the horizon today and within it 7 days later.
    @Test func aKPOGapComesWithinTheHorizonAsTimePasses() {
        var plant = TestPlant.make()
        let now = TestPlant.local("2026-11-25 09:00")
        let from = TestPlant.local("2026-12-15 10:00")
        let until = TestPlant.local("2026-12-15 12:00")
        let kpo = plant.rotas[.kpo]!  // the test plant has one
        let onDuty = kpo.duty(at: from, calendar: plant.calendar).responders
        plant.rotas[.kpo]!.overrides += onDuty.map { Override(from: from, until: until, responder: nil, replaces: $0) }
        let horizon = Duration.seconds(14 * 86_400)
        #expect(plant.coverage(from: now, horizon: horizon).kpo.isEmpty)
        let later = plant.coverage(from: now + .seconds(7 * 86_400), horizon: horizon)
        #expect(later.kpo.map(\.start) == [from])
        #expect(later.kpo.map(\.end) == [until])
        #expect(later.kpo.first?.reason.contains("an override removes") == true)
        // The exact edge: the horizon is start..<start + 14 days. A gap that begins at its end is not in it; one
        // millisecond later it is, up to the horizon's end.
        #expect(plant.coverage(from: from - horizon, horizon: horizon).kpo.isEmpty)
        let edge = plant.coverage(from: from - horizon + .milliseconds(1), horizon: horizon)
        #expect(edge.kpo.map(\.start) == [from])
        #expect(edge.kpo.map(\.end) == [from + .milliseconds(1)])
    }

    @Test func overridesReplaceAddAndRemoveForTheirWindowOnly() {
        let from = TestPlant.local("2026-11-25 10:00")
        let until = TestPlant.local("2026-11-25 12:00")
        var rota = Rota(id: "tl", byShift: ["early": ["a", "g"], "late": ["b"]])
        rota.overrides = [
            Override(from: from, until: until, responder: "x", replaces: "a"),  // a swap
            Override(from: from, until: until, responder: "q", replaces: nil),  // an extra hand
            Override(from: from, until: until, responder: "m", replaces: "b"),  // b is not on duty then: no effect
        ]
        func duty(_ instant: Instant) -> [ResponderID] { rota.duty(at: instant, calendar: calendar).responders }
        #expect(duty(from - .milliseconds(1)) == ["a", "g"])
        #expect(duty(from) == ["x", "g", "q"])
        #expect(duty(until - .milliseconds(1)) == ["x", "g", "q"])
        #expect(duty(until) == ["a", "g"])
        // A sick day: only `replaces`.
        let sick = Rota(
            id: "tl",
            byShift: ["early": ["a"]],
            overrides: [Override(from: from, until: until, responder: nil, replaces: "a")]
        )
        let empty = sick.duty(at: from, calendar: calendar)
        #expect(empty.responders == [])
        #expect(empty.emptyReason == "rota tl has nobody on duty: an override removes a")
    }

    @Test func gapsAreFoundToTheMinuteAndMerged() {
        let start = TestPlant.local("2026-11-25 10:00")
        // The test plant defines quality (early only): gaps 14:00-22:00 and 22:00-06:00 each day, one per reason.
        let quality = plant.rotas["quality"]!
        let gaps = quality.gaps(from: start, to: start + .seconds(2 * 86_400), calendar: calendar)
        #expect(
            gaps.map { berlin.local($0.start).description } == [
                "2026-11-25 14:00", "2026-11-25 22:00", "2026-11-26 14:00", "2026-11-26 22:00",
            ]
        )
        #expect(
            gaps.map { berlin.local($0.end).description } == [
                "2026-11-25 22:00", "2026-11-26 06:00", "2026-11-26 22:00", "2026-11-27 06:00",
            ]
        )
        #expect(plant.rotas[.kpo]!.gaps(from: start, to: start + .seconds(14 * 86_400), calendar: calendar) == [])
        let away = TestPlant.make(kpoOverrides: [
            Override(
                from: TestPlant.local("2026-11-27 08:00"),
                until: TestPlant.local("2026-11-27 08:01"),
                responder: nil,
                replaces: "k2"
            )
        ])
        let kpoGaps = away.rotas[.kpo]!.gaps(from: start, to: start + .seconds(14 * 86_400), calendar: away.calendar)
        #expect(kpoGaps.count == 1)
        #expect(kpoGaps.first?.start == TestPlant.local("2026-11-27 08:00"))
        #expect(kpoGaps.first?.end == TestPlant.local("2026-11-27 08:01"))
    }

    @Test func localDatesAndTimesParseStrictly() {
        #expect(LocalTime(parsing: "06:00") == LocalTime(hour: 6, minute: 0))
        for bad in ["6:00", "24:00", "06:60", "0600", "06:00:00", ""] {
            #expect(LocalTime(parsing: bad) == nil, "\(bad)")
        }
        #expect(LocalDate(parsing: "2028-02-29") != nil)
        for bad in ["2026-02-29", "2026-13-01", "26-01-01", "2026-1-1"] {
            #expect(LocalDate(parsing: bad) == nil, "\(bad)")
        }
        #expect(LocalDate(parsing: "2026-11-29")?.weekdayName == "Sunday")
        #expect(
            LocalDate(dayNumber: LocalDate(parsing: "1999-12-31")!.dayNumber + 1) == LocalDate(parsing: "2000-01-01")
        )
        #expect(Duration(compact: "1h30m") == .seconds(5400))
        #expect(Duration(compact: "500ms") == .milliseconds(500))
        #expect(Duration(compact: "7d") == .seconds(7 * 86_400))
        for bad in ["", "5", "m", "3x", "1h30", "-3m"] { #expect(Duration(compact: bad) == nil, "\(bad)") }
    }
}
