import AndonSystemd
import NIOCore
import ServiceLifecycle
import UnixSignals

/// What andond tells systemd while it runs, and what systemd tells it: a `STATUS=` line kept current, `WATCHDOG=1`
/// at half the watchdog interval but only after a health probe through the event loops and the engine passed, and
/// SIGHUP as a reload (like `andonctl reload`, without a waiting client).
struct SystemdService: Service {
    let dispatcher: Dispatcher
    let notifier: Notifier
    let group: any EventLoopGroup
    var statusInterval: Duration = .seconds(2)

    func run() async throws {
        await withTaskGroup(of: Void.self) { tasks in
            tasks.addTask { await refreshStatus() }
            if let interval = notifier.watchdogInterval {
                tasks.addTask { await keepWatchdog(every: interval / 2) }
            }
            tasks.addTask { await reloadOnHangup() }
            try? await gracefulShutdown()
            tasks.cancelAll()
        }
    }

    private func refreshStatus() async {
        var last = ""
        while !Task.isCancelled {
            let status = dispatcher.statusLine()
            if status != last {
                notifier.status(status)
                last = status
            }
            try? await Task.sleep(for: statusInterval)
        }
    }

    private func keepWatchdog(every half: Duration) async {
        while !Task.isCancelled {
            if await healthy(within: half / 2) { notifier.notify("WATCHDOG=1") }
            try? await Task.sleep(for: half)
        }
    }

    /// Every event loop runs a task, and the dispatcher's loop reaches the engine.
    private func healthy(within timeout: Duration) async -> Bool {
        guard await dispatcher.probe(within: timeout) else { return false }
        for loop in group.makeIterator() where !(await completes(loop.submit { true }, within: timeout)) {
            return false
        }
        return true
    }

    private func reloadOnHangup() async {
        let hangups = await UnixSignalsSequence(trapping: .sighup)
        for await _ in hangups {
            _ = dispatcher.reload(trigger: "SIGHUP")
        }
    }
}
