import Foundation
import Scenario

/// Reads commands line by line and executes them on a session; errors are printed and the loop goes on.
/// Piped input stops at Ctrl-C instead, saying where (virtual time, `<stdin>:line`).
struct ReplLoop {
    let session: ScenarioSession
    let interactive: Bool

    /// How the loop ended, for the exit status.
    enum Ending: Equatable {
        case finished(anyFailed: Bool)
        case interrupted
    }

    /// Runs until `quit`, end of input or (piped input) Ctrl-C.
    func run() -> Ending {
        let editor = interactive ? LineEditor(session: session) : nil
        let piped = PipedLineReader()
        if interactive {
            print("moesim \(Moesim.configuration.version): an emulated GPU cluster in virtual time.")
            print("Default cluster: one node of 8 H800 on an NVSwitch ('help cluster' to change it).")
            print("Type 'help' for commands, Tab to complete, Ctrl-C to interrupt a run, Ctrl-D to quit.")
        }
        InterruptHandler.install(following: session)
        defer { editor?.saveHistory() }
        var anyFailed = false
        var lineNumber = 0
        var lastLine = ""
        while true {
            let line: String?
            if let editor {
                _ = InterruptHandler.takePending()
                line = editor.readLine(prompt: "moesim> ")
            } else {
                line = piped.readLine()
            }
            guard let line else {
                // Ctrl-C at the prompt abandons the line (shown as `^C`, as a shell does); only Ctrl-D quits.
                if interactive && InterruptHandler.takePending() {
                    print("^C")
                    continue
                }
                // Piped input: Ctrl-C while blocked reading ends the read with EINTR (readLine returns nil).
                if !interactive && InterruptHandler.pending { return stop(at: lineNumber, lastLine) }
                break
            }
            // Piped input: a Ctrl-C that came while the next line was being read stops before it runs.
            if !interactive && InterruptHandler.pending { return stop(at: lineNumber, lastLine) }
            lineNumber += 1
            lastLine = line
            switch executeInterruptibly(line, lineNumber: lineNumber) {
            case .done: break
            case .quit: return .finished(anyFailed: anyFailed)
            case .interrupted(let error) where !interactive:
                Console.error(error.description)
                return .interrupted
            case .expectationFailed(let error), .failed(let error), .interrupted(let error):
                anyFailed = true
                if interactive { print(error.description) } else { Console.error(error.description) }
            }
            if !interactive && InterruptHandler.pending { return stop(at: lineNumber, line) }
        }
        if interactive { print("") }
        return .finished(anyFailed: anyFailed)
    }

    /// Reports where Ctrl-C stopped piped input.
    private func stop(at lineNumber: Int, _ line: String) -> Ending {
        Console.error(session.interruption(file: "<stdin>", line: max(1, lineNumber), source: line).description)
        return .interrupted
    }

    /// Executes `line` with Ctrl-C routed to the simulation; a Ctrl-C pressed just after Enter stops it at once.
    private func executeInterruptibly(_ line: String, lineNumber: Int) -> LineOutcome {
        let executor = session.simulation.executor
        InterruptHandler.target = executor
        if interactive && InterruptHandler.takePending() { executor.requestStop() }
        let outcome = session.execute(line, file: interactive ? "<repl>" : "<stdin>", line: lineNumber)
        InterruptHandler.target = nil
        // A Ctrl-C that lands after the run ended must not stop the next one.
        session.simulation.executor.takeStopRequest()
        return outcome
    }
}
