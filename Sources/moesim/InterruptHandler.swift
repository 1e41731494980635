import Foundation
import Scenario
import SimCore

/// Ctrl-C stops the running simulation at the next event boundary. At the terminal the REPL returns to the
/// prompt with the state kept; scripts (piped input, `moesim run`, `source`) stop and say where.
enum InterruptHandler {
    /// The executor of the command being run, if any. Only the main thread writes it; the signal handler reads
    /// it once (a single aligned pointer load).
    nonisolated(unsafe) static var target: SimExecutor?
    /// Set by the handler; read and cleared by the main thread.
    nonisolated(unsafe) static var pending = false

    /// Installs the SIGINT handler; scripts on `session` stop when it fires, and a command that replaces the
    /// simulation keeps Ctrl-C pointed at the new one.
    static func install(following session: ScenarioSession) {
        // A parent may have started us with SIGINT blocked (it is inherited); Ctrl-C must reach the handler.
        var mask = sigset_t()
        sigemptyset(&mask)
        sigaddset(&mask, SIGINT)
        sigprocmask(SIG_UNBLOCK, &mask, nil)
        // sigaction without SA_RESTART (glibc's signal() restarts): a read blocked on piped input returns EINTR,
        // so `cat | moesim` stops at Ctrl-C instead of waiting for the next line.
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { _ in
            InterruptHandler.pending = true
            InterruptHandler.target?.requestStop()
        }
        sigemptyset(&action.sa_mask)
        action.sa_flags = 0
        sigaction(SIGINT, &action, nil)
        session.interruptRequested = { InterruptHandler.pending }
        session.onReset { simulation in
            if InterruptHandler.target != nil { InterruptHandler.target = simulation.executor }
            if InterruptHandler.pending { simulation.executor.requestStop() }
        }
        // A compare= run on its own world: Ctrl-C stops it, then points back at the session's.
        session.onSideRun { simulation in
            if InterruptHandler.target != nil { InterruptHandler.target = simulation.executor }
        }
    }

    /// Whether Ctrl-C was pressed since the last call.
    static func takePending() -> Bool {
        defer { pending = false }
        return pending
    }
}
