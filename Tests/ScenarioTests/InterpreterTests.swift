import Foundation
import Testing

@testable import Scenario

@Suite("Interpreter")
struct InterpreterTests {
    private func session() -> (ScenarioSession, () -> [String]) {
        final class Sink { var lines: [String] = [] }
        let sink = Sink()
        return (ScenarioSession(output: { sink.lines.append($0) }), { sink.lines })
    }

    @Test(
        "expect passes and fails as it should, with every tolerance form",
        arguments: [
            ("expect sim.now == 2ms", true), ("expect sim.now == 2.1ms", false),
            ("expect sim.now == 2.1ms ± 5%", true), ("expect sim.now == 2.1ms ± 4%", false),
            ("expect sim.now == 2.001ms ±1us", true), ("expect sim.now == 2.001ms +- 0.5us", false),
            ("expect sim.now != 2.001ms ± 0.5us", true), ("expect sim.now != 2ms", false),
            ("expect sim.now < 3ms", true), ("expect sim.now < 2ms", false), ("expect sim.now <= 2ms", true),
            ("expect sim.now > 1999999ns", true), ("expect sim.now >= 2.5ms", false),
            ("expect sim.events == 0", true),
        ])
    func expectations(line: String, holds: Bool) {
        let (session, _) = session()
        #expect(session.execute("run until 2ms") == .done)
        let outcome = session.execute(line, file: "e.moesim", line: 9)
        if holds {
            #expect(outcome == .done)
        } else {
            guard case .expectationFailed(let error) = outcome else {
                Issue.record("\(line) should fail its expectation, got \(outcome)")
                return
            }
            #expect(error.location.line == 9)
            #expect(error.message.hasPrefix("expectation failed: sim."))
        }
    }

    @Test("a failed expect prints both values")
    func failedExpectMessage() {
        let (session, _) = session()
        _ = session.execute("run until 2ms")
        guard case .expectationFailed(let error) = session.execute("expect sim.now == 3ms ± 1%") else {
            Issue.record("should fail")
            return
        }
        #expect(error.message == "expectation failed: sim.now is 2ms, expected == 3ms ± 1%")
    }

    @Test("run, step and show report where the world stopped")
    func drivingCommands() {
        let (session, lines) = session()
        _ = session.execute("run for 1.5us")
        _ = session.execute("run for 500ns")
        _ = session.execute("show time")
        #expect(
            lines() == [
                "t=1.5µs: finished (0 events so far)", "t=2µs: finished (0 events so far)",
                "now t=2µs, 0 events, 0 live processes",
            ])
    }

    /// One well-formed line per command; the test checks the list covers every registered command.
    static let wellFormedLines = [
        "cluster preset=h800-node comm-sms=24", "seed 7", "send from=gpu0 to=gpu1 size=1MiB dtype=fp8e4m3 real",
        "collective all-gather size=8MiB group=node:0", "kernel gpu=2 flops=2e12 bytes=1GiB dtype=fp8",
        "alloc gpu=1 size=1GiB kind=gradients", "free gpu=1 size=512MiB kind=gradients",
        "schedule zb1p pp=4 microbatches=8 f=2 b=3 w=1 send=0.5 sends=eager",
        "fault link=gpu0.nic.out degrade=50% until=1ms", "fault gpu=3 slow=2", "fault link=leaf0.up0 down",
        "show faults", "step 3", "run for 1us", "run", "check", "fault random count=3 until=2ms", "fault clear",
        "show time", "show gpu 1", "show links top=2", "show memory", "show route from=gpu0 to=gpu7",
        "show schedule width=60", "show trace last=2", "show timeline width=40", "show layout pp=2 ep=4",
        "print sim.now gpu[1].hbm.peak", "expect sim.events > 0",
        "list metrics", "list commands", "help", "help collective",
        "moe tokens=8 hidden=128 expert-hidden=16 experts=8 topk=2 group=gpu0-3",
        "train model=tiny layers=2 dp=4 zero=1 steps=1 microbatches=1", "run", "memory params=7.5e9 dp=64",
    ]

    @Test("every command runs on a well-formed line")
    func everyCommandRuns() throws {
        let (session, _) = session()
        for line in Self.wellFormedLines {
            #expect(session.execute(line) == .done, "\(line)")
        }
        let covered = Set(
            Self.wellFormedLines.map { String($0.split(separator: " ")[0]) } + ["trace", "source", "quit"])
        #expect(Set(session.commands.map(\.name)).subtracting(covered).isEmpty)
        #expect(session.execute("print send.last.intact gpu[1].hbm.used collective.last.size") == .done)
    }

    @Test("extreme schedule inputs are analysed and drawn without overflow or huge charts")
    func extremeSchedules() {
        let (session, lines) = session()
        #expect(session.execute("schedule gpipe pp=2 microbatches=2000 f=1000000 b=1000000 w=1000000") == .done)
        #expect(session.execute("schedule 1f1b pp=2 microbatches=1 f=0.000001 b=1000000 w=1") == .done)
        #expect(session.execute("show schedule width=80") == .done)
        let chartLines = lines().drop { !$0.hasPrefix("cells") }
        #expect(!chartLines.isEmpty)
        #expect(chartLines.joined().count < 200_000)
    }

    @Test("overriding NVLink keeps 20 comm SMs saturating it unless comm-sm-bw says otherwise")
    func linkOverridesRescaleCommSMs() {
        let (session, _) = session()
        #expect(session.execute("cluster nvlink=900GB/s") == .done)
        #expect(session.execute("send from=gpu0 to=gpu1 size=900MB") == .done)
        #expect(session.execute("run") == .done)
        // 900 MB / 900 GB/s = 1 ms plus latency and fill; the comm egress runs at (900 + 50) GB/s.
        #expect(session.execute("expect send.last.time < 1.05ms") == .done)
        #expect(session.execute("cluster nvlink=900GB/s comm-sm-bw=10.5GB/s") == .done)
        #expect(session.execute("send from=gpu0 to=gpu1 size=900MB") == .done)
        #expect(session.execute("run") == .done)
        // Now 20 SMs push only 210 GB/s: 900 MB takes at least 4.28 ms.
        #expect(session.execute("expect send.last.time > 4.28ms") == .done)
    }

    @Test("trace export writes Chrome trace JSON of the run")
    func traceExport() throws {
        let (session, _) = session()
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("moesim-trace-\(UUID()).json").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(session.execute("send from=gpu0 to=gpu5 size=4MiB") == .done)
        #expect(session.execute("run") == .done)
        #expect(session.execute("trace export \(path)") == .done)
        let object = try JSONSerialization.jsonObject(with: try Data(contentsOf: URL(fileURLWithPath: path)))
        let events = try #require((object as? [String: Any])?["traceEvents"] as? [[String: Any]])
        #expect(events.contains { $0["ph"] as? String == "X" && $0["name"] as? String == "chunk" })
    }

    @Test("a script stops at the first failure and names its line")
    func scriptStopsAtFailure() {
        let (session, _) = session()
        let outcome = session.runScript("run until 1us\nexpect sim.now == 1us\nexpect sim.now == 2us\nbogus", file: "s")
        guard case .expectationFailed(let error) = outcome else {
            Issue.record("expected the third line to fail, got \(outcome)")
            return
        }
        #expect(error.location.line == 3)
    }

    @Test("source runs files relative to the including one, and bounds nesting")
    func sourceNesting() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("moesim-source-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try "run until 4us\n".write(
            to: directory.appendingPathComponent("inner.moesim"), atomically: true, encoding: .utf8)
        try "source inner.moesim\nexpect sim.now == 4us\n".write(
            to: directory.appendingPathComponent("outer.moesim"), atomically: true, encoding: .utf8)
        try "source loop.moesim\n".write(
            to: directory.appendingPathComponent("loop.moesim"), atomically: true, encoding: .utf8)
        let (session, _) = session()
        #expect(session.runFile(directory.appendingPathComponent("outer.moesim").path) == .done)
        guard case .failed(let error) = session.runFile(directory.appendingPathComponent("loop.moesim").path) else {
            Issue.record("self-sourcing must fail")
            return
        }
        #expect(error.message.contains("nested more than 8 deep"))
    }

    @Test("seed restarts the world; quit and exit stop")
    func seedAndQuit() {
        let (session, _) = session()
        _ = session.execute("run until 1ms")
        #expect(session.execute("seed 42") == .done)
        #expect(session.seed == 42 && session.simulation.now == .start)
        #expect(session.execute("quit") == .quit)
        #expect(session.execute("exit") == .quit)
    }

    @Test("completion offers commands, words, keys and metric names")
    func completion() {
        let (session, _) = session()
        #expect(session.completions(for: "ru") == ["run"])
        #expect(session.completions(for: "run u") == ["until"])
        #expect(session.completions(for: "print sim.n") == ["sim.now"])
        #expect(session.completions(for: "show t") == ["time", "trace", "timeline"])
        #expect(session.completions(for: "show timeline w") == ["width="])
        #expect(session.completions(for: "trace html t.html links=o") == ["links=on", "links=off"])
        #expect(session.completions(for: "trace h") == ["html"])
        #expect(session.completions(for: "help se") == ["seed", "send"])
        #expect(
            session.completions(for: "cluster preset=h") == [
                "preset=h800-node", "preset=h100-node", "preset=h200-node",
            ])
        #expect(session.completions(for: "send fr") == ["from="])
        #expect(session.completions(for: "print gpu[7].hbm.p") == ["gpu[7].hbm.peak", "gpu[7].hbm.parameters"])
    }
}
