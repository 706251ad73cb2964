import AndonConfig
import AndonControl
import AndonCore
import AndonDaemon
import AndonProtocol
import AndonSystemd
import Foundation
import Testing

/// The journal's contract is defined once (`JournalField`, `MessageID`, `Event.Kind`): andond's entries hold only
/// its fields, docs/journal.md lists every one, and what `report`, `replay` and `tail` read back from an entry is
/// what andond wrote into it. In-process: the core under a manual clock, andond's own entry builder, andonctl's
/// own readers.
@Suite struct JournalSchemaTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static let plantText = """
        site: { name: Schema plant, time_zone: Europe/Berlin }
        coalesce_within: 1m
        shifts: { a: { start: "06:00", end: "18:00" }, b: { start: "18:00", end: "06:00" } }
        responders: { tl: { user: anna }, gl: { user: felix }, k: { user: kpo-k } }
        rotas:
          team-leader: { by_shift: { a: [tl], b: [tl] } }
          group-leader: { by_shift: { a: [gl], b: [gl] } }
          kpo: { by_shift: { a: [k], b: [k] } }
        policies:
          andon:
            - { tier: team-leader, ack_within: 5m, arrive_within: 5m }
            - { tier: group-leader, ack_within: 10m }
            - { tier: kpo, ack_within: 10m, repeat_every: 10m }
          stop: [ { tier: team-leader, ack_within: 2m }, { tier: kpo, ack_within: 5m, repeat_every: 5m } ]
        lines: { L1: { description: one }, L2: { description: two } }
        """

    /// 2026-11-25 10:00 in Berlin: shift a.
    static let start = Instant(millisecondsSinceEpoch: 1_795_996_800_000 + 6 * 86_400_000 + 9 * 3_600_000)

    /// A day of calls through the engine: an andon answered in full, one left to KPO, a stop joined and resumed, a
    /// drill made real, a cleared call; every event with its instant.
    static func events() throws -> (Plant, [Event]) {
        let plant = try ConfigurationLoader.parse(plantText, file: "/etc/andond/andond.yaml", now: start).plant
        var engine = EscalationEngine(plant: plant, startingAt: start)
        var events: [Event] = []
        let minute = Duration.seconds(60)
        func at(_ minutes: Int64) -> Instant { start + minute * Int(minutes) }
        let origin = SignalOrigin(source: "127.0.0.1:40000", sequence: 7)
        let first = engine.receive(
            .andon(line: "L1", station: "S3", category: .quality, text: "burr \u{202E} on the edge"),
            at: at(0),
            origin: origin
        )
        events += first.events
        let id = try #require(Self.incident(first))
        events += engine.receive(.andon(line: "L1", station: "S3", category: .quality, text: nil), at: at(2)).events
        events += engine.acknowledge(id, by: .responder("tl"), note: "coming", at: at(3)).events
        events += engine.arrive(id, by: .responder("tl"), note: nil, at: at(4)).events
        events += engine.resolve(id, by: .responder("tl"), note: "new insert", at: at(6)).events
        let material = engine.receive(.andon(line: "L2", station: "P1", category: .material, text: nil), at: at(10))
        events += material.events
        let unanswered = try #require(Self.incident(material))
        events += engine.advance(to: at(40))
        events +=
            engine.receive(.andon(line: "L1", station: "D2", category: .maintenance, text: nil), at: at(40)).events
        events += engine.receive(.stop(line: "L1", station: "D2", reason: "jam"), at: at(41)).events
        events += engine.receive(.stop(line: "L1", station: "R9", reason: "jam too"), at: at(42)).events
        events += engine.receive(.resume(line: "L1"), at: at(50)).events
        events +=
            engine.receive(
                .andon(line: "L2", station: "P7", category: .help, text: nil),
                at: at(51),
                origin: SignalOrigin(drill: true)
            ).events
        events +=
            engine.receive(.andon(line: "L2", station: "P7", category: .help, text: "real now"), at: at(52)).events
        events += engine.receive(.clear(line: "L2", station: "P7"), at: at(53)).events
        events += engine.acknowledge(unanswered, by: .responder("k"), note: nil, at: at(54)).events
        return (plant, events)
    }

    static func incident(_ outcome: SignalOutcome) -> IncidentID? {
        guard case .success(let disposition) = outcome.result else { return nil }
        return disposition.incidents.first
    }

    static func fields(of entry: JournalEntry) -> [String: [String]] {
        entry.fields.reduce(into: [:]) { $0[$1.name, default: []].append($1.value) }
    }

    @Test func whatReportAndReplayReadIsWhatAndondWrote() throws {
        let (plant, events) = try Self.events()
        let kinds = Set(events.map(\.kind))
        for kind in [
            Event.Kind.raised, .repeated, .acknowledged, .arrived, .resolved, .escalated, .unanswered, .joined,
        ]
            + [.resumed, .cleared, .promoted]
        where !kinds.contains(kind) {
            Issue.record("the scenario has no \(kind) event: \(events.map(\.kind))")
        }
        let schema = Set(JournalField.allCases.map(\.rawValue))
        for event in events {
            let shift = plant.calendar.occurrence(at: event.at)
            let entry = JournalEntry(event: event, plant: plant, shift: shift)
            let fields = Self.fields(of: entry)
            #expect(Set(fields.keys).isSubset(of: schema), "\(Set(fields.keys).subtracting(schema))")
            let read = try #require(ReportEntry(fields: fields), "\(event.kind) reads back as a step")
            let what = "\(event.kind) of #\(event.incident)"
            #expect(read.event == event.kind, "\(what)")
            #expect(read.incident == event.incident.description, "\(what)")
            #expect(read.kind == event.incidentKind, "\(what)")
            #expect(read.line == event.line.rawValue, "\(what)")
            #expect(read.station == event.station?.rawValue, "\(what)")
            #expect(read.category == event.category?.rawValue, "\(what)")
            #expect(read.tier == event.tier?.name, "\(what)")
            #expect(read.rota == event.tier?.rota.rawValue, "\(what)")
            #expect(read.responders == event.responders.map { plant.user(of: $0) }, "\(what)")
            #expect(read.by == event.by.map { plant.userName(of: $0) }, "\(what)")
            #expect(read.reason == event.reason, "\(what)")
            #expect(read.note == event.note, "\(what)")
            #expect(read.at == event.at.millisecondsSinceEpoch, "\(what)")
            #expect(read.elapsed == event.elapsed.milliseconds, "\(what)")
            #expect(read.waited == event.waited?.milliseconds, "\(what)")
            #expect(read.acknowledgedAfter == event.acknowledgedAfter?.milliseconds, "\(what)")
            #expect(read.arrivedAfter == event.arrivedAfter?.milliseconds, "\(what)")
            #expect(read.resolvedAfter == (event.closes ? event.elapsed.milliseconds : nil), "\(what)")
            #expect(read.lineStop == event.lineStop?.description, "\(what)")
            #expect(read.stations == (event.incidentKind == .stop ? event.stations.map(\.rawValue) : []), "\(what)")
            #expect(read.drill == event.drill, "\(what)")
            #expect(read.site == plant.name, "\(what)")
            #expect(read.timeZone == plant.timeZone.identifier, "\(what)")
            #expect(read.shift == shift?.shift.rawValue, "\(what)")
            #expect(read.shiftStart == shift?.start.millisecondsSinceEpoch, "\(what)")
            #expect(read.shiftEnd == shift?.end.millisecondsSinceEpoch, "\(what)")
            // tail: a responder named in the entry finds it; a tier filter matches the tier written.
            for user in read.responders + [read.by].compactMap({ $0 }) {
                #expect(TailFilter(user: user).admits(fields), "\(what): tail --user \(user)")
            }
            if let tier = read.tier { #expect(TailFilter(tier: tier).admits(fields), "\(what)") }
            #expect(TailFilter(kpo: true).admits(fields) == (event.tier?.isKPO == true), "\(what)")
        }
    }

    @Test func everyFieldIsDocumentedAndTheDocsNameNoOther() throws {
        let docs = try String(contentsOf: Self.root.appendingPathComponent("docs/journal.md"), encoding: .utf8)
        for field in JournalField.allCases {
            #expect(docs.contains("`\(field.rawValue)`"), "docs/journal.md does not list \(field.rawValue)")
        }
        let named = Set(
            docs.matches(of: /`(ANDON_[A-Z_]+)/).map { String($0.output.1) }
        )
        let known = Set(JournalField.allCases.map(\.rawValue))
        #expect(named.subtracting(known).isEmpty, "docs/journal.md names fields andond does not write")
        #expect(Set(JournalField.allCases.map(\.rawValue)).count == JournalField.allCases.count)
    }

    /// A field spelled as a string beside the schema is a contract that can drift: the sources name fields only
    /// through `JournalField`.
    @Test func noSourceSpellsAFieldOutsideTheSchema() throws {
        let sources = Self.root.appendingPathComponent("Sources")
        let files = try #require(FileManager.default.enumerator(atPath: sources.path)).compactMap { $0 as? String }
            .filter { $0.hasSuffix(".swift") && !$0.hasSuffix("JournalSchema.swift") }
        #expect(files.count > 50)
        for file in files {
            let text = try String(contentsOf: sources.appendingPathComponent(file), encoding: .utf8)
            for match in text.matches(of: /"(ANDON_[A-Z_]+|MESSAGE_ID|PRIORITY|SYSLOG_IDENTIFIER|MESSAGE)[="]/) {
                // The fuzzer's target is chosen by an environment variable, not a journal field.
                guard match.output.1 != "ANDON_FUZZ" else { continue }
                Issue.record("\(file) spells the journal field \(match.output.1) as a string")
            }
        }
    }
}
