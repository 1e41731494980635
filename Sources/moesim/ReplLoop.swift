import Foundation
import Scenario

/// Reads commands line by line and executes them on a session; errors are printed and the loop goes on.
struct ReplLoop {
    let session: ScenarioSession
    let interactive: Bool

    /// Runs until `quit` or end of input; returns whether any line failed (for scripted input's exit code).
    func run() -> Bool {
        let editor = interactive ? LineEditor(session: session) : nil
        if interactive {
            print("moesim \(Moesim.configuration.version): an emulated GPU cluster in virtual time.")
            print("Default cluster: one node of 8 H800 on an NVSwitch ('help cluster' to change it).")
            print("Type 'help' for commands, Tab to complete, Ctrl-C to interrupt a run, Ctrl-D to quit.")
        }
        InterruptHandler.install()
        defer { editor?.saveHistory() }
        var anyFailed = false
        var lineNumber = 0
        while true {
            let line: String?
            _ = InterruptHandler.takePending()
            if let editor { line = editor.readLine(prompt: "moesim> ") } else { line = Swift.readLine() }
            guard let line else {
                // Ctrl-C at the prompt abandons the line; only Ctrl-D (end of input) quits.
                if interactive && InterruptHandler.takePending() { continue }
                break
            }
            lineNumber += 1
            let outcome = executeInterruptibly(line, lineNumber: lineNumber)
            switch outcome {
            case .done: continue
            case .quit: return anyFailed
            case .expectationFailed(let error), .failed(let error):
                anyFailed = true
                print(error.description)
            }
        }
        if interactive { print("") }
        return anyFailed
    }

    /// Executes `line` with Ctrl-C routed to the simulation; a Ctrl-C pressed just after Enter stops it at once.
    private func executeInterruptibly(_ line: String, lineNumber: Int) -> LineOutcome {
        let executor = session.simulation.executor
        InterruptHandler.target = executor
        if InterruptHandler.takePending() { executor.requestStop() }
        let outcome = session.execute(line, file: interactive ? "<repl>" : "<stdin>", line: lineNumber)
        InterruptHandler.target = nil
        // A Ctrl-C that lands after the run ended must not stop the next one.
        session.simulation.executor.takeStopRequest()
        return outcome
    }
}
