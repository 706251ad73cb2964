import AndonSystemd
import NIOCore
import ServiceLifecycle
import UnixSignals

/// What andond tells systemd while it runs, and what systemd tells it: a `STATUS=` line kept current, `WATCHDOG=1`
/// at half the watchdog interval but only after a health probe through the event loops and the engine passed, and
/// SIGHUP as a reload (like `andonctl reload`, without a waiting client).
///
/// `STATUS=` is event-driven: it is rebuilt when events were published, when a line stop's age ticks on, and when the
/// KPO duty may change; idle, andond does not wake up for it. Updates are at most one a second, so a burst of
/// signals costs one status line, not one per signal.
struct SystemdService: Service {
    let board: StatusBoard
    let escalation: EscalationService
    let timer: EventLoopTimer
    let reload: ReloadService
    let notifier: Notifier
    let group: any EventLoopGroup
    var minimumStatusInterval: Duration = .seconds(1)

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
        guard notifier.isActive else { return }
        // One ticker at a time pokes the stream when the line would go stale without events; it is replaced after
        // every update, so its wait always matches what the line shows.
        var ticker: Task<Void, Never>?
        defer { ticker?.cancel() }
        board.poke()  // the first look, which also starts the ticker
        for await _ in board.changes {
            let status = board.publish()
            if status.changed { notifier.status(status.line) }
            ticker?.cancel()
            let validity = board.validity()
            ticker = Task { [board] in
                try? await Task.sleep(for: validity)
                if !Task.isCancelled { board.poke() }
            }
            try? await Task.sleep(for: minimumStatusInterval)
        }
    }

    private func keepWatchdog(every half: Duration) async {
        while !Task.isCancelled {
            if await healthy(within: half / 2) { notifier.notify("WATCHDOG=1") }
            try? await Task.sleep(for: half)
        }
    }

    /// Every event loop runs a task, and the timer's loop reaches the escalation stage.
    private func healthy(within timeout: Duration) async -> Bool {
        guard await timer.probe(escalation, within: timeout) else { return false }
        for loop in group.makeIterator() where !(await completes(loop.submit { true }, within: timeout)) {
            return false
        }
        return true
    }

    private func reloadOnHangup() async {
        let hangups = await UnixSignalsSequence(trapping: .sighup)
        for await _ in hangups {
            reload.reload(trigger: "SIGHUP")
        }
    }
}
