import AndonTestSupport
import Foundation
import Glibc
import Synchronization
import Testing

/// SIGKILL at random moments under load: every signal that got `ok` is in the restored state and in the journal, and
/// a call cleared with an `ok` never comes back.
/// CI runs a few rounds; `ANDOND_CRASH_ROUNDS=100 scripts/test --filter CrashTests` is the long run the README cites.
@Suite(.serialized) struct CrashTests {
    /// Long timeouts, so the calls stay at their first tier and the journal holds only what the test sends.
    static func configuration(socket: String) -> String {
        PlantFixture.yaml(socket: socket, site: "Crash test plant", within: "2h", resolveWithin: nil)
    }

    @Test func everySignalAnsweredOkSurvivesSIGKILLAtRandomMoments() throws {
        let rounds = ProcessInfo.processInfo.environment["ANDOND_CRASH_ROUNDS"].flatMap(Int.init) ?? 3
        let run = String(UUID().uuidString.prefix(8))
        let first = try DaemonHarness(configuration: Self.configuration)
        var daemon = first
        var answered: [String: String] = [:]  // station -> incident, every round
        var expectedOpen: [String: String] = [:]  // answered this round, not cleared yet
        var cleared: Set<String> = []
        var killedWithUnanswered = 0
        for round in 0..<rounds {
            let port = daemon.udpPort
            let confirmed = Mutex<[(station: String, incident: String)]>([])
            let stop = Mutex(false)
            let done = DispatchSemaphore(value: 0)
            let sender = Thread {
                defer { done.signal() }
                guard let socket = try? UDPSocket(timeoutMilliseconds: 300) else { return }
                var index = 0
                while !stop.withLock({ $0 }) && index < 20_000 {
                    let station = "C\(run)-\(round)-\(index)"
                    index += 1
                    guard
                        let reply = try? socket.exchange(
                            Array("andon line=L1 station=\(station) category=help seq=\(index)".utf8),
                            port: port
                        ), reply.hasPrefix("ok incident="), let incident = field("incident", of: reply)
                    else { continue }
                    confirmed.withLock { $0.append((station, incident)) }
                }
            }
            sender.start()
            usleep(UInt32.random(in: 50_000...400_000))
            daemon.kill9()
            stop.withLock { $0 = true }
            done.wait()
            let got = confirmed.withLock { $0 }
            for (station, incident) in got {
                answered[station] = incident
                expectedOpen[station] = incident
            }
            if !got.isEmpty { killedWithUnanswered += 1 }

            daemon = try DaemonHarness(reusing: first)
            let open = try daemon.openIncidents()
            let restored = Dictionary(
                open.compactMap { incident -> (String, String)? in
                    guard let station = incident["station"] as? String, let id = incident["id"] as? Int else {
                        return nil
                    }
                    return (station, String(id))
                },
                uniquingKeysWith: { first, _ in first }
            )
            let lost = expectedOpen.filter { restored[$0.key] != $0.value }
            #expect(lost.isEmpty, "round \(round): \(lost.count) calls answered ok are not restored: \(lost.prefix(5))")
            let resurrected = restored.keys.filter { cleared.contains($0) }
            #expect(resurrected.isEmpty, "round \(round): cleared calls came back: \(resurrected.prefix(5))")
            // Clear this round's calls (each `ok` is on disk too), so that the state stays small and the next rounds
            // also check that a cleared call never comes back.
            let socket = try UDPSocket(timeoutMilliseconds: 2000)
            for (index, station) in expectedOpen.keys.sorted().enumerated() {
                let reply = try socket.exchangeResending(
                    "clear line=L1 station=\(station) seq=\(1_000_000 * (round + 1) + index)",
                    port: daemon.udpPort
                )
                #expect(reply.hasPrefix("ok "), "clear \(station): \(reply)")
                cleared.insert(station)
            }
            expectedOpen.removeAll()
        }
        #expect(answered.count > rounds * 20, "too little load: \(answered.count) signals in \(rounds) rounds")
        #expect(killedWithUnanswered == rounds)

        // Every answered call's `raised` entry reached the journal, from whichever andond wrote it. Only the station
        // field is read (tens of thousands of entries).
        let deadline = Date().addingTimeInterval(60)
        var missing = Set(answered.keys)
        while !missing.isEmpty && Date() < deadline {
            let journalctl = Process()
            journalctl.executableURL = URL(fileURLWithPath: "/usr/bin/journalctl")
            journalctl.arguments = [
                "-o", "cat", "--output-fields=ANDON_STATION", "--no-pager", "ANDON_EVENT=raised", "ANDON_LINE=L1",
                "--since=@\(first.startedAtMicroseconds / 1_000_000 - 1)",
            ]
            let out = Pipe()
            journalctl.standardOutput = out
            journalctl.standardError = FileHandle.nullDevice
            try journalctl.run()
            let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            journalctl.waitUntilExit()
            for station in text.split(separator: "\n") where station.hasPrefix("C\(run)-") {
                missing.remove(String(station))
            }
            if !missing.isEmpty { usleep(500_000) }
        }
        #expect(missing.isEmpty, "\(missing.count) answered calls never reached the journal: \(missing.prefix(5))")
        print(
            "crash test: \(rounds) rounds, \(answered.count) calls answered ok, all restored and journaled, \(cleared.count) cleared and never back"
        )
    }
}
