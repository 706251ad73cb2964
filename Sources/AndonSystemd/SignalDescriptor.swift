import CSystemd
import Glibc

/// Signals read from a descriptor (signalfd(2)) instead of handled: a poll loop sees Ctrl-C, TERM or a window
/// change as one more readable descriptor, and tidies up itself (the terminal, for `andonctl board`).
public struct SignalDescriptor: ~Copyable {
    public let fileDescriptor: Int32

    /// Blocks `signals` in the calling thread and opens the descriptor; nil when the kernel refuses.
    public init?(_ signals: [Int32]) {
        var set = sigset_t()
        sigemptyset(&set)
        for number in signals { sigaddset(&set, number) }
        pthread_sigmask(SIG_BLOCK, &set, nil)
        let descriptor = andond_signalfd(&set)
        guard descriptor >= 0 else { return nil }
        fileDescriptor = descriptor
    }

    /// The next signal that arrived, or nil when none could be read.
    public func next() -> Int32? {
        let number = andond_read_signal(fileDescriptor)
        return number < 0 ? nil : number
    }

    deinit { close(fileDescriptor) }
}
