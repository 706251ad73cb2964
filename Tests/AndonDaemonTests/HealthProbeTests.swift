import Dispatch
import NIOCore
import NIOPosix
import Testing

@testable import AndonDaemon

/// The watchdog's probe answers within its timeout whatever the event loop does: false for a wedged loop (so
/// andond stops pinging and says why), true for a working one.
@Suite struct HealthProbeTests {
    @Test func aWedgedEventLoopFailsTheProbeAtItsTimeout() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let loop = group.next()
        #expect(await completes(loop.submit { true }, within: .seconds(5)))
        let release = DispatchSemaphore(value: 0)
        loop.execute { release.wait() }  // the loop's one thread is stuck until the test lets it go
        let start = ContinuousClock.now
        let answer = await completes(loop.submit { true }, within: .milliseconds(200))
        let waited = ContinuousClock.now - start
        release.signal()
        #expect(!answer)
        #expect(waited < .seconds(2), "the probe answered after \(waited)")
        try await group.shutdownGracefully()
    }
}
