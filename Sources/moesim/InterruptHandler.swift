import Foundation
import SimCore

/// Ctrl-C stops the running simulation at the next event boundary and returns to the prompt; state is kept.
enum InterruptHandler {
    /// The executor of the command being run, if any. Only the main thread writes it; the signal handler reads
    /// it once (a single aligned pointer load).
    nonisolated(unsafe) static var target: SimExecutor?

    static func install() {
        signal(SIGINT) { _ in
            InterruptHandler.target?.requestStop()
        }
    }
}
