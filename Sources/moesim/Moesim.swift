import ArgumentParser
import Foundation
import Scenario

/// `moesim`: the REPL (default) or `moesim run FILE…` for scenario files.
@main
struct Moesim: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "moesim",
        abstract: "Emulate a GPU cluster training a Mixture-of-Experts model, in virtual time.",
        discussion: "Without a subcommand moesim opens the interactive REPL; type 'help' there.",
        version: "0.1.0",
        subcommands: [Repl.self, RunScenarios.self],
        defaultSubcommand: Repl.self
    )
}

/// `moesim repl`: the interactive prompt (line editing, history, Tab completion) or, when standard input is
/// not a terminal, the same commands read without prompts.
struct Repl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "repl", abstract: "Open the interactive REPL (the default).")

    @Option(help: "Root seed of the emulated world.") var seed: UInt64 = 0

    func run() throws {
        Console.configure()
        let interactive = isatty(STDIN_FILENO) == 1
        let session = ScenarioSession(seed: seed)
        ProgressPrinter.install(on: session)
        let loop = ReplLoop(session: session, interactive: interactive)
        switch loop.run() {
        case .interrupted: throw ExitCode(Console.interruptedStatus)
        case .finished(let anyFailed): if !interactive && anyFailed { throw ExitCode.failure }
        }
    }
}

/// `moesim run FILE…`: runs scenario files, each in a fresh world, stopping at the first error or failed expect.
struct RunScenarios: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Run scenario files (- reads standard input); exit non-zero on the first failure."
    )

    @Argument(help: "Scenario files (.moesim), or - for standard input.") var files: [String]
    @Option(help: "Root seed of the emulated world.") var seed: UInt64 = 0
    @Option(help: "Write the Chrome/Perfetto trace of the last scenario to this JSON file.") var trace: String?
    @Option(help: "Write a self-contained HTML timeline of the last scenario to this file.") var html: String?

    func validate() throws {
        guard !files.isEmpty else { throw ValidationError("name at least one scenario file (or - for stdin)") }
        // Refused before any scenario runs, so a long run is not lost to a typo in the trace path.
        if let trace, let problem = FileAccess.writeProblem(trace) {
            throw ValidationError("cannot write the trace to '\(trace)': \(problem)")
        }
    }

    func run() throws {
        Console.configure()
        var lastSession: ScenarioSession?
        for file in files {
            let session = ScenarioSession(seed: seed)
            lastSession = session
            InterruptHandler.install(following: session)
            ProgressPrinter.install(on: session)
            InterruptHandler.target = session.simulation.executor
            defer { InterruptHandler.target = nil }
            let outcome: LineOutcome
            if file == "-" {
                let bytes = Array(FileHandle.standardInput.readDataToEndOfFile())
                switch ScenarioFile.decode(bytes, file: "<stdin>") {
                case .success(let text): outcome = session.runScript(text, file: "<stdin>")
                case .failure(let error): outcome = .failed(error)
                }
            } else {
                outcome = session.runFile(file)
            }
            switch outcome {
            case .done, .quit: print("\(file): ok")
            case .interrupted(let error):
                Console.error(error.description)
                throw ExitCode(Console.interruptedStatus)
            case .expectationFailed(let error), .failed(let error):
                Console.error(error.description)
                throw ExitCode.failure
            }
        }
        if let trace, let session = lastSession {
            do {
                try session.writeChromeTrace(toPath: trace)
            } catch {
                let reason = FileAccess.writeProblem(trace)?.description ?? error.localizedDescription
                FileHandle.standardError.write(Data("error: cannot write the trace to '\(trace)': \(reason)\n".utf8))
                throw ExitCode.failure
            }
            print("wrote trace to \(trace)")
        }
        if let html, let session = lastSession {
            let drawn = try session.writeTimelineHTML(toPath: html)
            print("wrote a timeline of \(drawn) spans to \(html)")
        }
    }
}
