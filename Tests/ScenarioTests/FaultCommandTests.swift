import Foundation
import Testing

@testable import Scenario

/// The `fault`, `show faults` and `check` commands, and the checks after every run, through the language.
@Suite("Fault commands")
struct FaultCommandTests {
    private func session() -> (ScenarioSession, () -> [String]) {
        final class Sink { var lines: [String] = [] }
        let sink = Sink()
        return (ScenarioSession(output: { sink.lines.append($0) }), { sink.lines })
    }

    /// Runs `lines` and fails the test at the first line that does not succeed.
    private func execute(_ session: ScenarioSession, _ lines: [String]) {
        for line in lines {
            let outcome = session.execute(line)
            #expect(outcome == .done, "\(line): \(outcome)")
        }
    }

    /// A node with 4 chunks of at least 64 KiB per message; 640000 B from gpu0 to gpu1 crosses comm.out
    /// (210 GB/s: 762 ns a chunk), NVLink and the NVSwitch port (160 GB/s: 1 µs a chunk), 1.65 µs per NVLink hop.
    static let coarseNode = "cluster chunks=4 min-chunk=64KiB"

    @Test("degrade=50% on the NVSwitch port: its chunks take 2 µs, 3.3 µs + 762 ns + 1 µs + 4 × 2 µs")
    func degradedThroughCommands() {
        let (session, _) = session()
        execute(
            session,
            [
                Self.coarseNode, "fault link=node0.nvswitch.port1.out degrade=50%",
                "send from=gpu0 to=gpu1 size=640000B",
                "run", "expect send.last.time == 13062ns", "check",
            ])
    }

    @Test("a down link with no detour: the run stops blocked, naming the link; recovery with until resumes it")
    func blockedAndRecovered() {
        let (session, lines) = session()
        execute(
            session, [Self.coarseNode, "fault link=gpu0.comm.out down", "send from=gpu0 to=gpu1 size=640000B", "run"])
        let stop = lines().last ?? ""
        #expect(
            stop.contains(
                "blocked: 2 process(es) wait forever: send gpu0->gpu1 #1 waits on delivery of gpu0->gpu1 tag 1"))
        #expect(stop.contains("link gpu0.comm.out is down and holds 4 chunk(s) of 1 message(s): gpu0->gpu1 tag 1"))
        execute(session, ["print link[gpu0.comm.out].up", "check"])
        #expect(lines().contains("link[gpu0.comm.out].up = 0"))
        // A new world: the old one's two waiting processes (a send and a receive) end once cancelled, none leaks.
        execute(session, [Self.coarseNode])
        let shutdown = lines().first { $0.hasPrefix("previous world shut down") } ?? ""
        #expect(shutdown.hasPrefix("previous world shut down at t=0ns: 2 unfinished process(es) cancelled: "))
        #expect(!shutdown.contains("leaked"), "\(shutdown)")
        execute(
            session,
            [
                "fault link=gpu0.comm.out down until=50us", "send from=gpu0 to=gpu1 size=640000B", "run",
                "expect send.last.time == 59062ns", "expect link[gpu0.comm.out].up == 1", "expect faults.active == 0",
            ])
    }

    @Test("a down spine link reroutes over the other spine: same time, and the route says detour")
    func rerouteThroughCommands() {
        let (session, lines) = session()
        execute(
            session,
            [
                "cluster nodes=2 chunks=4 min-chunk=64KiB", "send from=gpu0 to=gpu9 size=400000B", "run",
                "fault link=leaf0.up1 down", "show route from=gpu0 to=gpu9", "send from=gpu0 to=gpu9 size=400000B",
                "run", "expect link[leaf0.up1].bytes == 400000B", "expect link[leaf0.up0].bytes == 400000B",
            ])
        #expect(
            lines().contains(
                "gpu0 -> gpu0.comm.out -> gpu0.nic.out -> leaf0.up0 -> spine0.down1 -> leaf1.down1 -> gpu9 (detour)"))
    }

    @Test("a straggler shows in collective.last.time: slow=2 halves its comm SMs' push, 210 → 105 GB/s < NVLink")
    func stragglerInCollective() throws {
        let (session, _) = session()
        execute(session, ["collective all-reduce size=64MiB", "run"])
        let (_, healthy) = try #require(try? session.resolve(token("collective.last.time"), in: lineFor("print")))
        execute(session, ["fault gpu=3 slow=2", "collective all-reduce size=64MiB", "run"])
        let (_, slow) = try #require(try? session.resolve(token("collective.last.time"), in: lineFor("print")))
        // Every ring step waits for the straggler's pushes at 105 GB/s instead of NVLink's 160 GB/s; steps overlap
        // across ranks (sends are not awaited step by step), so the whole slows by less than 160/105 = 1.52.
        // Measured: 861.1 µs -> 1128.5 µs (1.31x).
        #expect(slow / healthy > 1.25 && slow / healthy < 160 / 105, "\(healthy) -> \(slow)")
        execute(
            session,
            [
                "fault clear", "collective all-reduce size=64MiB", "run",
                "expect collective.last.time == \(Int(healthy))ns",
            ])
    }

    @Test("show faults lists each fault, its window and state, and the links' state now")
    func showFaults() {
        let (session, lines) = session()
        execute(
            session,
            [
                "fault link=gpu0.nic.out degrade=25% at=10us until=20us", "fault link=gpu1.nvlink.out down",
                "fault gpu=2 slow=3x", "run until 15us", "show faults",
            ])
        #expect(
            Array(lines().suffix(6)) == [
                "faults at t=15µs:", "  #1 link gpu0.nic.out at 25% of its bandwidth from t=10µs until t=20µs [active]",
                "  #2 link gpu1.nvlink.out down from t=0ns [active]", "  #3 gpu2 3x slower from t=0ns [active]",
                "  link gpu0.nic.out: up, at 25%", "  link gpu1.nvlink.out: down",
            ])
        execute(session, ["fault clear", "show faults"])
        #expect(lines().last == "no faults (inject one with 'fault link=NAME down' or 'fault gpu=N slow=X')")
    }

    private func token(_ text: String) -> Token { Token(text: text, column: 7, length: text.count, isQuoted: false) }

    private func lineFor(_ command: String) -> CommandLine {
        CommandLine(
            command: Token(text: command, column: 1, length: command.count, isQuoted: false), positionals: [],
            options: [], file: "t", lineNumber: 1, source: command)
    }
}
