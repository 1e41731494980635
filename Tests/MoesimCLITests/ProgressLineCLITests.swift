import Foundation
import Testing

/// The progress line of long runs (issue 16): on a terminal only, erased when the run stops, Ctrl-C as before.
@Suite("moesim progress line", .serialized)
struct ProgressLineCLITests {
    /// A finite run of about 50,000 events (16,384 chunks over three hops), several progress intervals long.
    static let busyScenario =
        "cluster chunks=16384 min-chunk=1B\nsend from=gpu0 to=gpu1 size=1MiB\nrun\n"
        + "expect sim.processes == 0\n"

    @Test("piped output stays silent even with no delay: no progress text, no carriage returns")
    func silentWhenNotATerminal() throws {
        let result = try MoesimBinary.run(
            ["run", "-"], input: Self.busyScenario, environment: ["MOESIM_PROGRESS_DELAY": "0"])
        #expect(result.status == 0, "\(result.err)")
        #expect(result.out.contains("-: ok"))
        #expect(!result.out.contains("events/s") && !result.out.contains("\r"), "\(result.out)")
        #expect(!result.err.contains("events/s"))
    }

    @Test("on a terminal the line shows time, events and events/s, then Ctrl-C stops the run and exits 130")
    func shownOnATerminalAndInterruptible() throws {
        let directory = try MoesimBinary.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        // 8 messages of 65,536 chunks: about 1.5 M cheap events, minutes in a debug build.
        let file = directory.appendingPathComponent("long.moesim")
        let sends = (0..<8).map { "send from=gpu\($0) to=gpu\(($0 + 1) % 8) size=64MiB" }
        try
            (["cluster chunks=65536 min-chunk=1B"] + sends + [
                "print sim.processes", "run", "expect sim.processes == 0",
            ])
            .joined(separator: "\n").appending("\n").write(to: file, atomically: true, encoding: .utf8)
        let terminal = try PseudoTerminal(
            executable: MoesimBinary.url(), arguments: ["run", file.path],
            environment: ["HOME": directory.path, "TERM": "xterm", "MOESIM_PROGRESS_DELAY": "0"])
        #expect(terminal.waitFor("sim.processes = 16"))
        #expect(terminal.waitFor(" events/s"), "\(terminal.screen.suffix(400))")
        #expect(terminal.screen.contains("\rt="))
        terminal.interrupt()
        #expect(terminal.waitForExit() == 130)
        terminal.waitFor("the rest was not run")
        let screen = terminal.screen
        // The line is erased before the error is printed.
        let erased = try #require(screen.range(of: "\r\u{1B}[K", options: .backwards))
        let error = try #require(screen.range(of: "\(file.path):11:1: error: interrupted (Ctrl-C) at t="))
        #expect(erased.upperBound <= error.lowerBound, "\(screen.suffix(600))")
    }
}
