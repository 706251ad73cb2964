import AndonProtocol
import AndonTestSupport
import Foundation
import Testing

/// andond and andon-notify, both built, against a real HTTP receiver on loopback that answers as the test scripts
/// it: retries, Retry-After, refusals, a hanging endpoint, and either process killed at the worst moment.
@Suite struct NotificationDaemonTests {
    static func plant(_ receiver: WebhookReceiver, giveUpAfter: String = "1h") -> (String) -> String {
        { socket in PlantFixture.notifying(socket: socket, url: receiver.url, giveUpAfter: giveUpAfter) }
    }

    static func keys(_ posts: [WebhookReceiver.Post], _ path: String) -> [String] {
        posts.filter { $0.path == path }.compactMap(\.key)
    }

    /// 500, then 429 with Retry-After, then 200: three attempts with one key, spaced by the backoff and the
    /// receiver's wish; a 400 fails at once and says so in the journal at crit.
    @Test func serverErrorsAndRateLimitsAreRetriedAndAClientErrorFailsAtOnce() throws {
        let receiver = try WebhookReceiver()
        try receiver.script("/pager/tl", ["500", "429:2", "200"])
        try receiver.script("/tower", ["400"])
        let daemon = try DaemonHarness(configuration: Self.plant(receiver))
        let notifier = try NotifierProcess(daemon: daemon)
        _ = notifier
        #expect(try daemon.control("andon line=L1 station=S3 category=help seq=1").hasPrefix("ok"))
        let posts = try receiver.wait { $0.filter { $0.path == "/pager/tl" }.count >= 3 }
        let pager = posts.filter { $0.path == "/pager/tl" }
        #expect(pager.map(\.action) == ["500", "429:2", "200"])
        #expect(Set(pager.compactMap(\.key)).count == 1, "one Idempotency-Key for every attempt")
        #expect(pager.map(\.attempt) == ["1", "2", "3"])
        #expect(pager[1].t - pager[0].t >= 0.45, "the first retry waits half a second at least (1 s, jittered)")
        #expect(pager[2].t - pager[1].t >= 1.95, "Retry-After: 2 is honoured")
        #expect(pager[0].type == "application/json")
        #expect(pager[0].json?["topic"] as? String == "tl")
        let tower = posts.filter { $0.path == "/tower" }
        #expect(tower.map(\.action) == ["400"], "a 400 is not retried")
        #expect(tower.first?.json?["version"] as? String == "4")

        let entries = try daemon.journal(timeout: 15) { entries in
            entries.contains { $0["MESSAGE_ID"] == MessageID.notified }
                && entries.contains {
                    $0["MESSAGE_ID"] == MessageID.notifyFailed && $0["PRIORITY"] == "2"
                }
        }
        let notified = try #require(entries.first { $0["MESSAGE_ID"] == MessageID.notified })
        #expect(notified["ANDON_ATTEMPT"] == "3")
        #expect(notified["ANDON_HTTP_STATUS"] == "200")
        #expect(notified["ANDON_RECIPIENT"] == "tl")
        #expect((notified["ANDON_NOTIFY_MS"].flatMap(Int.init) ?? 0) >= 2_000)
        let failed = try #require(
            entries.first { $0["MESSAGE_ID"] == MessageID.notifyFailed && $0["PRIORITY"] == "2" }
        )
        // The tries before it are entries too, at info: the report counts them.
        let tries = entries.filter { $0["MESSAGE_ID"] == MessageID.notifyFailed && $0["PRIORITY"] == "6" }
        #expect(tries.compactMap { $0["ANDON_HTTP_STATUS"] }.sorted() == ["429", "500"])
        #expect(failed["ANDON_RECIPIENT"] == "line:L1")
        #expect(failed["ANDON_HTTP_STATUS"] == "400")
        // A line's channel failing reaches nobody less: no escalation for it.
        #expect(!entries.contains { $0["MESSAGE_ID"] == MessageID.nobodyReached })
        let listing = try daemon.andonctl(["deliveries", "--failed", "--json"])
        #expect(listing.status == 0)
        #expect(listing.stdout.contains("\"recipient\":\"line:L1\""))
    }

    /// `andonctl notify-test`: each of a responder's channels tried once, each outcome printed; nothing kept.
    @Test func notifyTestTriesEachChannelAndSaysHowItWent() throws {
        let receiver = try WebhookReceiver()
        try receiver.script("/pager/gl", ["400"])
        let daemon = try DaemonHarness(configuration: Self.plant(receiver))
        let notifier = try NotifierProcess(daemon: daemon)
        _ = notifier
        let good = try daemon.andonctl(["notify-test", "tl"])
        #expect(good.status == 0)
        #expect(good.stdout == "pager: delivered (HTTP 200)\n")
        let bad = try daemon.andonctl(["notify-test", "gl"])
        #expect(bad.status == 1)
        #expect(bad.stdout.hasPrefix("pager: failed (HTTP 400)"))
        let posts = receiver.posts
        #expect(posts.map(\.path) == ["/pager/tl", "/pager/gl"])
        #expect(posts.first?.json?["title"] as? String == "andond test")
        #expect(try daemon.andonctl(["deliveries"]).stdout == "no deliveries pending or failed\n")
        // Only root and the responder may send a responder a test.
        #expect(try daemon.andonctl(["notify-test", "tl"], as: DaemonHarness.groupLeader).status == 77)
    }

    /// A hanging endpoint holds back only its own queue: the other channel's deliveries arrive at once.
    @Test func aHangingEndpointDelaysNoOtherChannel() throws {
        let receiver = try WebhookReceiver()
        try receiver.script("/tower", ["hang", "hang", "hang"])
        let daemon = try DaemonHarness(configuration: Self.plant(receiver))
        let notifier = try NotifierProcess(daemon: daemon)
        _ = notifier
        for station in 1...3 {
            #expect(
                try daemon.control("andon line=L1 station=S\(station) category=help seq=\(station)").hasPrefix("ok")
            )
        }
        let posts = try receiver.wait { $0.filter { $0.path == "/pager/tl" }.count >= 3 }
        let pager = posts.filter { $0.path == "/pager/tl" }
        let hung = try #require(posts.first { $0.path == "/tower" })
        // All three reached the pager while the tower's first POST still hung (its timeout is 2 s).
        #expect(pager.allSatisfy { $0.t < hung.t + 2 }, "\(pager.map { $0.t - hung.t })")
        // The tower's queue: one POST in flight (hanging), the others wait behind it, in order.
        #expect(posts.filter { $0.path == "/tower" }.count == 1)
        // Its timeout (2 s) ends the hang; it is retried and the queue drains in order.
        let later = try receiver.wait(timeout: 30) {
            $0.filter { $0.path == "/tower" && $0.action == "200" }.count >= 3
        }
        let delivered = later.filter { $0.path == "/tower" && $0.action == "200" }.compactMap(\.delivery).compactMap(
            Int.init
        )
        #expect(delivered == delivered.sorted())
    }

    /// andon-notify killed between its POST and its report: the lease lapses and the next one sends again, with the
    /// same key; nothing is lost.
    @Test func aNotifierKilledAfterItsPostSendsAgainWithTheSameKey() throws {
        let receiver = try WebhookReceiver()
        try receiver.script("/pager/tl", ["hang"])
        let daemon = try DaemonHarness(configuration: Self.plant(receiver))
        var notifier: NotifierProcess? = try NotifierProcess(daemon: daemon)
        #expect(try daemon.control("andon line=L2 station=S3 category=help seq=1").hasPrefix("ok"))
        try receiver.wait { $0.contains { $0.path == "/pager/tl" } }
        notifier?.kill9()
        notifier = try NotifierProcess(daemon: daemon)
        let posts = try receiver.wait(timeout: 30) { $0.filter { $0.path == "/pager/tl" }.count >= 2 }
        let keys = Self.keys(posts, "/pager/tl")
        #expect(keys.count == 2)
        #expect(Set(keys).count == 1)
        #expect(posts.filter { $0.path == "/pager/tl" }.map(\.attempt) == ["1", "1"])
        let entries = try daemon.journal(timeout: 10) { $0.contains { $0["MESSAGE_ID"] == MessageID.notified } }
        #expect(entries.contains { $0["MESSAGE_ID"] == MessageID.notified && $0["ANDON_RECIPIENT"] == "tl" })
        withExtendedLifetime(notifier) {}
    }

    /// andond killed with deliveries nobody sent yet: after its restart, every one is sent.
    @Test func andondKilledWithDeliveriesPendingSendsThemAllAfterItsRestart() throws {
        let receiver = try WebhookReceiver()
        let first = try DaemonHarness(configuration: Self.plant(receiver))
        for station in 1...5 {
            #expect(try first.control("andon line=L2 station=S\(station) category=help seq=\(station)").hasPrefix("ok"))
        }
        first.kill9()
        let daemon = try DaemonHarness(reusing: first)
        let notifier = try NotifierProcess(daemon: daemon)
        _ = notifier
        let posts = try receiver.wait { $0.filter { $0.path == "/pager/tl" }.count >= 5 }
        let incidents = posts.filter { $0.path == "/pager/tl" }.compactMap { $0.json?["title"] as? String }
        #expect(incidents.count == 5)
        #expect(Set(Self.keys(posts, "/pager/tl")).count == 5)
    }

    /// The receiver down for 60 s: everything is delivered once it is back, in order per recipient.
    @Test(.timeLimit(.minutes(4))) func aReceiverDownForAMinuteGetsEverythingInOrderAfterwards() throws {
        let receiver = try WebhookReceiver()
        let port = receiver.port
        receiver.stop()
        let daemon = try DaemonHarness(configuration: Self.plant(receiver))
        let notifier = try NotifierProcess(daemon: daemon)
        _ = notifier
        let down = Date()
        for station in 1...4 {
            #expect(
                try daemon.control("andon line=L1 station=S\(station) category=help seq=\(station)").hasPrefix("ok")
            )
            usleep(500_000)
        }
        usleep(useconds_t(max(0, 60 - Date().timeIntervalSince(down)) * 1_000_000))
        try receiver.start(port: port)
        let posts = try receiver.wait(timeout: 120) { posts in
            posts.filter { $0.path == "/pager/tl" }.count >= 4 && posts.filter { $0.path == "/tower" }.count >= 4
        }
        for path in ["/pager/tl", "/tower"] {
            let deliveries = posts.filter { $0.path == path }.compactMap(\.delivery).compactMap(Int.init)
            #expect(deliveries.count == 4)
            #expect(deliveries == deliveries.sorted(), "in order per recipient: \(deliveries)")
        }
    }
}
