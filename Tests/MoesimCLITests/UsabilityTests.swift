import Foundation
import Testing

/// What a new user trips over at the terminal (issue 18): completion text, Ctrl-C in scripts, output order.
@Suite("moesim at the terminal", .serialized)
struct UsabilityTests {
    @Test("Tab completes key= and metric selectors as plain text (no file-name escapes), no space after key=")
    func completionInsertsPlainText() throws {
        let home = try MoesimBinary.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: home) }
        let terminal = try MoesimBinary.startRepl(home: home)
        var mark = terminal.screen.count
        terminal.type("schedule dualpipe p\t")
        terminal.type("4 microbatches=8\n")
        terminal.type("print schedule.makespan\n")
        #expect(terminal.waitFor("schedule.makespan = ", after: mark), "\(terminal.screen.dropFirst(mark))")
        #expect(!terminal.screen.dropFirst(mark).contains("error"), "\(terminal.screen.dropFirst(mark))")
        mark = terminal.screen.count
        terminal.type("print link[gpu0.nv\tby\t\n")
        #expect(
            terminal.waitFor("link[gpu0.nvlink.out].bytes = 0 B", after: mark), "\(terminal.screen.dropFirst(mark))")
        #expect(!terminal.screen.dropFirst(mark).contains("\\["))
        terminal.type("quit\n")
        #expect(terminal.waitForExit() == 0)
    }

    @Test("Ctrl-C with a file piped into the REPL stops it, says where, and exits 130")
    func interruptPipedInput() throws {
        let directory = try MoesimBinary.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = try MoesimBinary.longScenario(in: directory, tail: ["run", "print sim.events"])
        let input = try FileHandle(forReadingFrom: file)
        let terminal = try PseudoTerminal(
            executable: MoesimBinary.url(), arguments: [], environment: ["HOME": directory.path, "TERM": "xterm"],
            standardInput: input)
        #expect(terminal.waitFor("sim.processes = 6000"))
        terminal.interrupt()
        #expect(terminal.waitForExit() == 130)
        terminal.waitFor("the rest was not run")
        let screen = terminal.screen
        #expect(screen.contains("<stdin>:3003:1: error: interrupted (Ctrl-C) at t="), "\(screen.suffix(600))")
        #expect(!screen.contains("sim.events ="), "the line after the interrupted run was not run")
    }

    @Test("Ctrl-C while the REPL waits for more piped input (cat | moesim) stops it at once, exit 130")
    func interruptBlockedRead() throws {
        let directory = try MoesimBinary.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let pipe = Pipe()
        let terminal = try PseudoTerminal(
            executable: MoesimBinary.url(), arguments: [], environment: ["HOME": directory.path, "TERM": "xterm"],
            standardInput: pipe.fileHandleForReading)
        // The write end stays open: moesim is blocked reading line 3 when Ctrl-C comes.
        pipe.fileHandleForWriting.write(Data("run until 3us\nprint sim.now\n".utf8))
        #expect(terminal.waitFor("sim.now = 3µs"))
        // A signal that lands between the reader's check and its read(2) is caught by the next one, as a
        // user pressing Ctrl-C again would; one press normally suffices.
        var stopped = false
        for _ in 0..<5 where !stopped {
            terminal.interrupt()
            stopped = terminal.waitFor("the rest was not run", limitSeconds: 2)
        }
        #expect(stopped, "\(terminal.screen)")
        try pipe.fileHandleForWriting.close()
        #expect(terminal.waitForExit() == 130)
        #expect(terminal.screen.contains("<stdin>:2:1: error: interrupted (Ctrl-C) at t=3µs"), "\(terminal.screen)")
    }

    @Test("moesim run FILE stops at Ctrl-C with the virtual time and file:line, and exits 130")
    func interruptScenarioFile() throws {
        let directory = try MoesimBinary.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = try MoesimBinary.longScenario(in: directory, tail: ["run", "expect sim.processes == 0"])
        let terminal = try PseudoTerminal(
            executable: MoesimBinary.url(), arguments: ["run", file.path],
            environment: ["HOME": directory.path, "TERM": "xterm"])
        #expect(terminal.waitFor("sim.processes = 6000"))
        terminal.interrupt()
        #expect(terminal.waitForExit() == 130)
        terminal.waitFor("the rest was not run")
        let screen = terminal.screen
        #expect(
            screen.contains("\(file.path):3003:1: error: interrupted (Ctrl-C) at t="), "\(screen.suffix(600))")
        #expect(!screen.contains(": ok"))
    }

    @Test("with 2>&1 an error prints after the output of the lines before it")
    func errorsStayInOrder() throws {
        let script = "print sim.now\nprint sim.events\nexpect sim.now == 1us\n"
        let piped = try MoesimBinary.runMerged(["run", "-"], input: script)
        #expect(piped.status == 1)
        let lines = piped.output.components(separatedBy: "\n")
        #expect(lines.prefix(3).map { String($0.prefix(9)) } == ["sim.now =", "sim.event", "<stdin>:3"], "\(lines)")
        let repl = try MoesimBinary.runMerged([], input: "print sim.now\nbogus\nprint sim.events\n")
        let replLines = repl.output.components(separatedBy: "\n")
        #expect(replLines.first == "sim.now = 0ns")
        #expect(replLines.dropFirst().first?.hasPrefix("<stdin>:2:1: error: unknown command 'bogus'") == true)
        #expect(replLines.contains("sim.events = 0"))
    }
}
