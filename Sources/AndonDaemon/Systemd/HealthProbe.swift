import NIOCore
import Synchronization

/// Whether `future` succeeds within `timeout` (for health probes: a wedged event loop never runs it). Answers at the
/// timeout whatever the future does: nothing waits for a wedged loop (a task group would, for its child).
func completes<Value: Sendable>(_ future: EventLoopFuture<Value>, within timeout: Duration) async -> Bool {
    let answer = Answer()
    return await withCheckedContinuation { continuation in
        answer.hold(continuation)
        future.whenComplete { result in answer.give((try? result.get()) != nil) }
        Task {
            try? await Task.sleep(for: timeout)
            answer.give(false)
        }
    }
}

/// One answer, given once: the first `give` resumes the waiting continuation, later ones do nothing.
private final class Answer: Sendable {
    private let continuation = Mutex<CheckedContinuation<Bool, Never>?>(nil)

    func hold(_ waiting: CheckedContinuation<Bool, Never>) { continuation.withLock { $0 = waiting } }

    func give(_ value: Bool) { continuation.withLock { $0.take() }?.resume(returning: value) }
}
