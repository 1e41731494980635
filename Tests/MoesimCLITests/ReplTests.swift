import Foundation
import Testing

@Suite("moesim binary", .serialized)
struct ReplTests {
    @Test("the REPL on a terminal prompts, completes on Tab, keeps history and survives a bad line")
    func interactiveRepl() throws {
        let home = try MoesimBinary.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: home) }
        let terminal = try MoesimBinary.startRepl(home: home)
        var mark = terminal.screen.count
        // Tab completes "sho" to "show " (libedit redraws with cursor escapes, so check the effect).
        terminal.type("sho\t")
        terminal.type("time\n")
        #expect(terminal.waitFor("now t=0ns", after: mark))
        mark = terminal.screen.count
        terminal.type("frobnicate 3\n")
        #expect(terminal.waitFor("unknown command 'frobnicate'", after: mark))
        mark = terminal.screen.count
        terminal.type("print sim.now\n")
        #expect(terminal.waitFor("sim.now = 0ns", after: mark))
        mark = terminal.screen.count
        terminal.type("\u{1b}[A")
        #expect(terminal.waitFor("print sim.now", after: mark))
        terminal.type("\u{15}quit\n")
        #expect(terminal.waitForExit() == 0)
        // libedit's history file escapes spaces as \040.
        let history = try String(contentsOf: home.appendingPathComponent(".moesim_history"), encoding: .utf8)
            .replacingOccurrences(of: "\\040", with: " ")
        #expect(history.contains("show time"))
        #expect(history.contains("print sim.now"))
    }

    @Test("Ctrl-C interrupts a run and returns to the prompt with the state kept; at the prompt it only drops the line")
    func interruptKeepsState() throws {
        let directory = try MoesimBinary.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        // 3000 messages of 64 MiB: hundreds of thousands of events, seconds of work in a debug build.
        let sends = (0..<3_000).map { "send from=gpu\($0 % 8) to=gpu\(($0 + 1 + $0 / 8 % 7) % 8) size=64MiB" }
        let file = directory.appendingPathComponent("many.moesim")
        try sends.joined(separator: "\n").write(to: file, atomically: true, encoding: .utf8)
        let terminal = try MoesimBinary.startRepl(home: directory)
        var mark = terminal.screen.count
        terminal.type("source \(file.path)\n")
        terminal.type("print sim.processes\n")
        #expect(terminal.waitFor("sim.processes = 6000", after: mark))
        // Each line is typed once its prompt is up: typed earlier, the terminal echoes it once more.
        mark = terminal.end(of: "sim.processes = 6000", after: mark)
        #expect(terminal.waitFor("moesim> ", after: mark))
        mark = terminal.screen.count
        // Ctrl-C once the line editor has taken the whole line: the run is started or about to be.
        terminal.type("run\n")
        #expect(terminal.waitFor("run\r\n", after: mark))
        terminal.interrupt()
        #expect(terminal.waitFor(": interrupted (", after: mark), "\(terminal.screen.suffix(400))")
        mark = terminal.screen.count
        terminal.type("show time\n")
        #expect(terminal.waitFor(" live processes", after: mark))
        #expect(!terminal.screen.dropFirst(mark).contains(" 0 live processes"))
        mark = terminal.end(of: " live processes", after: mark)
        #expect(terminal.waitFor("moesim> ", after: mark))
        mark = terminal.screen.count
        terminal.type("half-typed")
        #expect(terminal.waitFor("half-typed", after: mark))
        mark = terminal.screen.count
        terminal.interrupt()
        #expect(terminal.waitFor("^C\r\nmoesim> ", after: mark), "\(terminal.screen.suffix(400))")
        mark = terminal.screen.count
        terminal.type("print sim.events\n")
        #expect(terminal.waitFor("sim.events = ", after: mark))
        terminal.type("\u{4}")
        #expect(terminal.waitForExit() == 0)
    }

    @Test("commands piped on standard input run without prompts")
    func pipedInput() throws {
        let result = try MoesimBinary.run([], input: "run until 3us\nprint sim.now\n")
        #expect(result.status == 0)
        #expect(result.out == "t=3µs: finished (0 events so far)\nsim.now = 3µs\n")
    }

    @Test("a failing expect exits non-zero and names file:line")
    func failingScenario() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("failing-\(UUID()).moesim")
        try "# a scenario that fails on line 3\nrun until 1us\nexpect sim.now == 2us\n".write(
            to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let result = try MoesimBinary.run(["run", file.path])
        #expect(result.status != 0)
        #expect(result.err.hasPrefix("\(file.path):3:8: error: expectation failed: sim.now is 1µs, expected == 2µs"))
    }

    @Test("a trace path that cannot be written is refused before the scenario runs, in plain words")
    func unwritableTracePath() throws {
        let result = try MoesimBinary.run(["run", "-", "--trace", "/no/such/dir/t.json"], input: "run until 5us\n")
        #expect(result.status != 0)
        #expect(result.out.isEmpty)
        #expect(result.err.contains("cannot write the trace to '/no/such/dir/t.json': No such file or directory"))
        #expect(!result.err.contains("NSCocoaErrorDomain"))
    }

    @Test("a missing scenario file names the OS reason")
    func missingScenarioFile() throws {
        let result = try MoesimBinary.run(["run", "no-such.moesim"])
        #expect(result.status != 0)
        #expect(result.err == "no-such.moesim: error: cannot read 'no-such.moesim': No such file or directory\n")
    }

    @Test("moesim run - reads a scenario from standard input")
    func scenarioFromStdin() throws {
        let result = try MoesimBinary.run(["run", "-"], input: "run until 5us\nexpect sim.now == 5us\n")
        #expect(result.status == 0)
        #expect(result.out.hasSuffix("-: ok\n"))
    }

    @Test("moesim run --html and --trace write the timeline page and the Perfetto trace of the last scenario")
    func runWritesHTMLAndTrace() throws {
        let directory = try MoesimBinary.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let html = directory.appendingPathComponent("step.html").path
        let json = directory.appendingPathComponent("step.json").path
        let result = try MoesimBinary.run(
            ["run", "-", "--html", html, "--trace", json], input: "send from=gpu0 to=gpu2 size=2MiB\nrun\n")
        #expect(result.status == 0)
        #expect(result.out.contains("wrote a timeline of ") && result.out.contains("wrote trace to "))
        let page = try String(contentsOfFile: html, encoding: .utf8)
        #expect(page.hasPrefix("<!DOCTYPE html>") && page.contains("data-name=\"gpu0 comm SMs\""))
        let trace = try String(contentsOfFile: json, encoding: .utf8)
        #expect(trace.contains("\"flow_in\":true") && trace.contains("\"node0 gpu2\""))
    }

    @Test("every scenario in scenarios/ passes")
    func shippedScenarios() throws {
        let directory = MoesimBinary.repositoryRoot.appendingPathComponent("scenarios")
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { $0.hasSuffix(".moesim") }.sorted().map { "scenarios/" + $0 }
        #expect(files.count >= 4)
        let result = try MoesimBinary.run(["run"] + files)
        #expect(result.status == 0, "\(result.err)")
    }

    @Test("the README's REPL tour runs as written")
    func readmeTour() throws {
        let readme = try String(
            contentsOf: MoesimBinary.repositoryRoot.appendingPathComponent("README.md"), encoding: .utf8)
        let commands = readme.components(separatedBy: "\n").filter { $0.hasPrefix("moesim> ") }.map { line in
            let command = line.dropFirst("moesim> ".count)
            return String(command.components(separatedBy: "  #").first ?? String(command))
        }
        #expect(commands.count >= 5)
        let result = try MoesimBinary.run([], input: commands.joined(separator: "\n") + "\n")
        #expect(result.status == 0, "\(result.out)\(result.err)")
        // Piped input prints errors on standard error.
        #expect(!result.out.contains("error:") && !result.err.contains("error:"), "\(result.err)")
    }

    @Test("--version and --help answer")
    func versionAndHelp() throws {
        #expect(try MoesimBinary.run(["--version"]).out == "0.1.0\n")
        #expect(try MoesimBinary.run(["--help"]).out.contains("USAGE: moesim <subcommand>"))
    }
}
