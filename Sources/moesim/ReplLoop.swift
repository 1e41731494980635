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
            if let editor { line = editor.readLine(prompt: "moesim> ") } else { line = Swift.readLine() }
            guard let line else { break }
            lineNumber += 1
            InterruptHandler.target = session.simulation.executor
            let outcome = session.execute(line, file: interactive ? "<repl>" : "<stdin>", line: lineNumber)
            InterruptHandler.target = nil
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
}
