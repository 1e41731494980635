import Foundation
import Testing

@testable import Scenario

@Suite("train with data parallelism, and the memory planner", .serialized)
struct TrainDataParallelTests {
    private func session() -> (ScenarioSession, () -> [String]) {
        final class Sink { var lines: [String] = [] }
        let sink = Sink()
        return (ScenarioSession(output: { sink.lines.append($0) }), { sink.lines })
    }

    static let malformed: [(line: String, error: String)] = [
        ("train dp=3 zero=1", "t.moesim:1:10: error: dp=3 does not divide the cluster's 8 GPUs"),
        ("train dp=16", "t.moesim:1:10: error: dp=16 does not divide the cluster's 8 GPUs"),
        ("train zero=4", "t.moesim:1:12: error: 4 is out of range (expected 0…3)"),
        (
            "train model=huge",
            "t.moesim:1:13: error: 'huge' is not valid for model (one of tiny, small, dsv3, dsv3-mini)"
        ),
        (
            "train model=dsv3 dp=8 zero=0",
            "t.moesim:1:28: error: out of memory on gpu0: requested 1342052808704 bytes of parameters with 0 of "
                + "85520809984 bytes in use (85520809984 free); 'memory params=671026404352 dp=8' shows what each "
                + "ZeRO stage needs"
        ),
        (
            "memory params=7.5GB dp=64",
            "t.moesim:1:15: error: params must be a whole parameter count between 1 and 1e16 (7500000000 or 7.5e9), "
                + "not '7.5GB'"
        ),
        ("memory dp=64", "t.moesim:1:1: error: missing argument params=N (a parameter count, e.g. params=7.5e9)"),
        ("memory params=7.5e9 dp=0", "t.moesim:1:24: error: 0 is out of range (expected 1…1000000)"),
    ]

    @Test("malformed train and memory lines give their exact error", arguments: malformed.indices)
    func malformedLine(index: Int) {
        let (line, expected) = Self.malformed[index]
        let (session, _) = session()
        guard case .failed(let error) = session.execute(line, file: "t.moesim", line: 1) else {
            Issue.record("'\(line)' should fail")
            return
        }
        #expect(error.description.components(separatedBy: "\n").first == expected)
        // The session keeps working after the refusal.
        #expect(session.execute("train model=tiny layers=1 dp=2 zero=1 phantom") == .done)
        #expect(session.execute("run") == .done)
        #expect(session.execute("expect train.steps == 1") == .done)
    }

    @Test("a real ZeRO-1 run reports loss, traffic, Ψ, per-kind HBM and its difference from the reference")
    func trainMetrics() {
        let (session, lines) = session()
        #expect(session.execute("train model=tiny layers=2 dp=4 zero=1 steps=2 microbatches=2") == .done)
        #expect(session.execute("run") == .done)
        for line in [
            "expect train.steps == 2", "expect train.loss[1] > 3", "expect train.max_param_diff < 1e-6",
            // Ψ = 8272: 2·(N−1)/N·2Ψ bytes sent, 2Ψ of parameters, 12Ψ/N of optimizer state.
            "expect train.parameters == 8272", "expect train.dp_bytes == 24816B",
            "expect gpu[0].hbm.parameters == 16544B", "expect gpu[3].hbm.optimizer == 24816B",
            "expect gpu[4].hbm.parameters == 0B", "expect train.step_time > 0ns", "expect train.compute_time > 0ns",
            "expect train.dp_comm_time > 0ns", "expect train.optimizer_time > 0ns",
        ] {
            #expect(session.execute(line) == .done, "\(line)")
        }
        #expect(session.execute("show memory") == .done)
        #expect(
            lines().contains { $0.contains("parameters") && $0.contains("optimizer") && $0.contains("activations") })
    }

    @Test("per-kind HBM peaks are the last run's, not the most over runs on the same cluster")
    func peaksPerRun() {
        let (session, _) = session()
        // Ψ = 8272: zero=0 holds 12Ψ of optimizer state per GPU, zero=3 on 4 GPUs 12Ψ/4.
        for line in [
            "train model=tiny layers=2 dp=4 zero=0 phantom", "run", "expect gpu[0].hbm.optimizer == 99264B",
            "train model=tiny layers=2 dp=4 zero=3 phantom", "run", "expect gpu[0].hbm.optimizer == 24816B",
            "expect gpu[3].hbm.parameters < 16544B",
        ] {
            #expect(session.execute(line) == .done, "\(line)")
        }
    }

    @Test("the planner prints every stage and sets memory.model_states[S]")
    func planner() {
        let (session, lines) = session()
        #expect(session.execute("memory params=7500000000 dp=64") == .done)
        #expect(lines().contains("zero=1           15 GB         15 GB      1.406 GB      31.41 GB"))
        for (stage, bytes) in ["120GB", "31.40625GB", "16.640625GB", "1.875GB"].enumerated() {
            #expect(session.execute("expect memory.model_states[\(stage)] == \(bytes)") == .done)
        }
        #expect(session.execute("memory params=1e10 dp=1") == .done)
        #expect(session.execute("expect memory.model_states[0] == 160GB") == .done)
        #expect(session.execute("memory params=1e10 dp=8 moments=bf16") == .done)
        #expect(session.execute("expect memory.model_states[3] == 15GB") == .done)
    }
}
