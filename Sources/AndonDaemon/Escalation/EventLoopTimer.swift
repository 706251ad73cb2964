import AndonCore
import NIOCore
import Synchronization

/// The one timer on an event loop (`scheduleTask`): armed by the escalation stage, under its lock, for the engine's
/// next deadline; the delay is taken from the injected clock's instant.
final class EventLoopTimer: DeadlineTimer {
    private let loop: any EventLoop
    private let scheduled = Mutex<Scheduled<Void>?>(nil)

    init(loop: any EventLoop) {
        self.loop = loop
    }

    func arm(at deadline: Instant?, now: Instant, fire: @escaping @Sendable () -> Void) {
        scheduled.withLock { scheduled in
            scheduled?.cancel()
            scheduled = nil
            guard let deadline else { return }
            let delay = max(0, deadline.millisecondsSinceEpoch - now.millisecondsSinceEpoch)
            scheduled = loop.scheduleTask(in: .milliseconds(delay), fire)
        }
    }

    /// For the watchdog's probe: the timer's loop runs a task, and the escalation stage answers.
    func probe(_ escalation: EscalationService, within timeout: Duration) async -> Bool {
        await completes(loop.submit { escalation.probe() }, within: timeout)
    }
}
