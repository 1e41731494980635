import Testing

@testable import Scenario

@Suite("Pipeline train", .serialized)
struct PipelineTrainTests {
    static let malformed: [(line: String, error: String)] = [
        ("train pp=16 schedule=1f1b", "t.moesim:1:10: error: pp=16 needs 16 GPUs for 1F1B, the cluster has 8"),
        (
            "train pp=4 layers=3 schedule=1f1b",
            "t.moesim:1:19: error: layers=3 is fewer than the 4 stages of 1F1B"
        ),
        (
            "train pp=4 schedule=dualpipe microbatches=6",
            "t.moesim:1:43: error: DualPipe needs at least 8 micro-batches, got m=6"
        ),
        ("train pp=3 schedule=dualpipe", "t.moesim:1:10: error: DualPipe needs an even number of stages, got PP=3"),
        (
            "train pp=4 schedule=interleaved microbatches=6",
            "t.moesim:1:46: error: interleaved 1F1B needs m to be a multiple of PP=4, got m=6"
        ),
        (
            "train pp=2 dp=2 zero=2 schedule=1f1b",
            "t.moesim:1:22: error: zero=2 with pp=2 dp=2: the composed pipeline trainer runs ZeRO-1 only (zero=1)"
        ),
        (
            "train pp=4 dp=4 schedule=1f1b",
            "t.moesim:1:10: error: pp=4 × dp=4 needs 16 GPUs for 1F1B, the cluster has 8"
        ),
        // Issue 13 review: pp is checked against the cluster, and the schedule's size capped, before it is built.
        (
            "train pp=4096 microbatches=10000",
            "t.moesim:1:10: error: pp=4096 needs 4096 GPUs for 1F1B, the cluster has 8"
        ),
        (
            "train pp=18 schedule=dualpipev",
            "t.moesim:1:10: error: pp=18 needs 9 GPUs for DualPipe-V, the cluster has 8"
        ),
        (
            "train pp=8 microbatches=10000",
            "t.moesim:1:25: error: pp × microbatches = 80000 is too large (at most 50000)"
        ),
        (
            "train pp=8 schedule=interleaved chunks=64 microbatches=800",
            "t.moesim:1:56: error: pp × chunks × microbatches = 409600 is too large (at most 50000)"
        ),
        // Keys a pure pipeline run would ignore are refused, caret on the key.
        (
            "train pp=2 zero=2",
            "t.moesim:1:12: error: zero= applies to data-parallel ranks; a pipeline run with dp=1 has none"
        ),
        (
            "train pp=2 moments=bf16",
            "t.moesim:1:12: error: moments= applies to data-parallel ranks; a pipeline run with dp=1 has none"
        ),
        ("train pp=2 schedule=1f1b chunks=2", "t.moesim:1:26: error: chunks= applies only to schedule=interleaved"),
        (
            "train pp=2 costs=model f=2",
            "t.moesim:1:24: error: f= applies only to costs=unit (costs=model times ops with the cost model)"
        ),
        (
            "train pp=2 w=2",
            "t.moesim:1:12: error: w= applies only to costs=unit (costs=model times ops with the cost model)"
        ),
        (
            "train pp=2 schedule=1f1b model=dsv3 real",
            "t.moesim:1:37: error: model=dsv3 has no real parameters; use 'phantom'"
        ),
    ]

    @Test("bad pipeline train lines name the value", arguments: malformed.indices)
    func malformedLine(index: Int) {
        MalformedLineTests.check(Self.malformed[index])
    }

    /// Under unit costs the executed chart is the analysed schedule's chart, cell for cell.
    @Test("show schedule draws what the pipeline train executed")
    func executedGantt() {
        final class Sink { var lines: [String] = [] }
        let sink = Sink()
        let session = ScenarioSession(output: { sink.lines.append($0) })
        #expect(session.execute("schedule zb1p pp=2 microbatches=3") == .done)
        #expect(session.execute("show schedule") == .done)
        let analysed = sink.lines.last ?? ""
        #expect(session.execute("train pp=2 schedule=zb1p microbatches=3 layers=2 costs=unit") == .done)
        guard case .failed(let early) = session.execute("show schedule") else {
            Issue.record("show schedule before run should fail")
            return
        }
        #expect(early.message == "the queued pipeline train has not run yet: 'run' first")
        #expect(session.execute("run") == .done)
        #expect(session.execute("show schedule") == .done)
        let expected = """
            cells 0..<10 (1 cell = 1 time unit)
            d0 F0|F1|...B0|W0|F2|B1|W1|B2|W2|
            d1 ...F0|B0|F1|B1|W0|F2|B2|W1|W2|
            legend: F forward, B backward (inputs), W backward (weights), BW full backward;
            F7b3 F&B pair: F of mb 7 with BW of mb 3; UPPER travels down, lower up; . idle

            """
        #expect(sink.lines.suffix(2) == ["executed timeline of the last step:", expected])
        #expect(analysed == expected)
        #expect(session.execute("expect train.max_param_diff == 0") == .done)
        #expect(session.execute("expect train.makespan == 10") == .done)
        // A later `schedule` command takes `show schedule` back to the analysed schedule.
        #expect(session.execute("schedule gpipe pp=2 microbatches=2") == .done)
        #expect(session.execute("show schedule") == .done)
        #expect(sink.lines.last?.contains("BW") == true)
    }

    /// Issue 13 review: after a pipeline train whose workers failed, `show schedule` says it failed instead of
    /// asking for 'run' again.
    @Test("show schedule after a failed pipeline train says it failed")
    func showScheduleAfterAFailedRun() {
        let session = ScenarioSession(output: { _ in })
        #expect(session.execute("train model=small pp=2 schedule=1f1b layers=2") == .done)
        // HBM filled after the run was queued (its pre-flight check passed): the first worker's model states do not
        // fit; `run` reports the failed worker.
        #expect(session.execute("alloc gpu=0 size=81559MiB") == .done)
        _ = session.execute("run")
        guard case .failed(let error) = session.execute("show schedule") else {
            Issue.record("show schedule after a failed run should fail")
            return
        }
        #expect(error.message.hasPrefix("the last pipeline train failed (out of memory on gpu"), "\(error.message)")
    }

    /// Issue 13 review: `show schedule` follows the last queued train, not an earlier run's summary.
    @Test("show schedule forgets an earlier run once another train is queued")
    func showScheduleFollowsTheLastTrain() {
        final class Sink { var lines: [String] = [] }
        let sink = Sink()
        let session = ScenarioSession(output: { sink.lines.append($0) })
        #expect(session.execute("schedule gpipe pp=2 microbatches=2") == .done)
        #expect(session.execute("train pp=2 schedule=zb1p microbatches=2 layers=2 costs=unit") == .done)
        #expect(session.execute("run") == .done)
        #expect(session.execute("train pp=2 schedule=1f1b microbatches=2 layers=2 costs=unit") == .done)
        guard case .failed(let pending) = session.execute("show schedule") else {
            Issue.record("the second pipeline train has not run: show schedule should say so")
            return
        }
        #expect(pending.message == "the queued pipeline train has not run yet: 'run' first")
        #expect(session.execute("run") == .done)
        #expect(session.execute("train model=tiny layers=2 microbatches=2") == .done)
        #expect(session.execute("show schedule") == .done)
        // Back to the analysed GPipe schedule, whose backwards are full (BW), not the 1F1B run's timeline.
        #expect(sink.lines.last?.contains("d0 F0|F1|") == true, "\(sink.lines.last ?? "")")
        #expect(sink.lines.last?.contains("BW") == true)
    }

    /// Issue 13 review: the pipeline's losses equal the reference trainer's (`train.reference_loss[i]`).
    @Test("train.reference_loss is the reference trainer's loss, equal to 1F1B's")
    func referenceLossEqualsThePipelinesLoss() throws {
        let session = ScenarioSession(output: { _ in })
        #expect(session.execute("train pp=4 schedule=1f1b microbatches=8 steps=2 costs=unit") == .done)
        #expect(session.execute("run") == .done)
        let train = try #require(session.component(TrainCommands.self))
        let losses = train.lastRun { $0.steps.map(\.loss) }
        let reference = try #require(train.lastRun { $0.referenceLosses })
        #expect(reference.count == 2)
        #expect(losses == reference.map { Optional($0) })
        #expect(session.execute("expect train.reference_loss[1] == \(Double(reference[1]))") == .done)
    }

    /// Issue 14: PP × DP with ZeRO-1 from the command line trains like the reference on the global batch.
    @Test("train pp=2 dp=4 zero=1 equals the reference")
    func composedPipelineDataParallel() {
        final class Sink { var lines: [String] = [] }
        let sink = Sink()
        let session = ScenarioSession(output: { sink.lines.append($0) })
        #expect(session.execute("train pp=2 dp=4 zero=1 schedule=dualpipe microbatches=4 layers=2 steps=2") == .done)
        #expect(sink.lines.last?.hasPrefix("queued DualPipe pp=2 × dp=4 ZeRO-1 m=4 training") == true)
        #expect(sink.lines.last?.hasSuffix("on gpu0…gpu7") == true)
        #expect(session.execute("run") == .done)
        #expect(session.execute("expect train.max_param_diff <= 1e-5") == .done)
        #expect(session.execute("expect train.steps == 2") == .done)
    }

    /// Issue 18 item 10: f = 0.001 next to b = w = 1 used to shrink the cell until forwards overwrote each other.
    @Test("ops much shorter than the others get a cell each, in order")
    func shortForwards() {
        final class Sink { var lines: [String] = [] }
        let sink = Sink()
        let session = ScenarioSession(output: { sink.lines.append($0) })
        #expect(session.execute("schedule 1f1b pp=8 microbatches=20 f=0.001") == .done)
        #expect(session.execute("show schedule") == .done)
        let chart = (sink.lines.last ?? "").components(separatedBy: "\n")
        #expect(chart.first == "cells 0..<19 (1 cell = 1 time unit)")
        #expect(chart.dropFirst().first?.hasPrefix("d0 F0 |F1 |F2 |F3 |F4 |F5 |F6 |F7 |......") == true)
        #expect(chart.allSatisfy { $0.count <= 80 })
    }

    /// Interleaved 1F1B from the command line: bubble (1/v)(PP-1)/m of the ideal m·v·(f+b+w) = 48, i.e. 9 units.
    @Test("schedule interleaved analyses Megatron's virtual pipeline")
    func interleavedSchedule() {
        let session = ScenarioSession(output: { _ in })
        #expect(session.execute("schedule interleaved pp=4 microbatches=8 chunks=2") == .done)
        #expect(session.execute("expect schedule.bubble == 9") == .done)
        #expect(session.execute("expect schedule.parameter_copies[0] == 2") == .done)
    }
}
