import Foundation
import SimCore

/// Ctrl-C stops the running simulation at the next event boundary and returns to the prompt; state is kept.
enum InterruptHandler {
    /// The executor of the command being run, if any. Only the main thread writes it; the signal handler reads
    /// it once (a single aligned pointer load).
    nonisolated(unsafe) static var target: SimExecutor?
    /// Set by the handler; the prompt reads and clears it to tell Ctrl-C (new prompt) from Ctrl-D (quit).
    nonisolated(unsafe) static var pending = false

    static func install() {
        // A parent may have started us with SIGINT blocked (it is inherited); Ctrl-C must reach the handler.
        var mask = sigset_t()
        sigemptyset(&mask)
        sigaddset(&mask, SIGINT)
        sigprocmask(SIG_UNBLOCK, &mask, nil)
        signal(SIGINT) { _ in
            InterruptHandler.pending = true
            InterruptHandler.target?.requestStop()
        }
    }

    /// Whether Ctrl-C was pressed since the last call.
    static func takePending() -> Bool {
        defer { pending = false }
        return pending
    }
}
