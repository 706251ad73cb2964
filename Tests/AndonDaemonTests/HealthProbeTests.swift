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
        // The loop is let go only after the probe answers: an answer at all is one that did not wait for the loop.
        // (How soon it comes depends on the cooperative pool, which a full parallel test run keeps busy.)
        let answer = await completes(loop.submit { true }, within: .milliseconds(200))
        release.signal()
        #expect(!answer)
        try await group.shutdownGracefully()
    }
}
