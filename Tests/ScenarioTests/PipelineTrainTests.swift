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
        (
            "train pp=2 ep=2 dp=2",
            "t.moesim:1:15: error: ep=2: expert-parallel MoE layers inside train are not built yet (issue 14); use "
                + "ep=1 (the moe command runs the EP layer)"
        ),
        (
            "train pp=2 schedule=1f1b model=dsv3 real",
            "t.moesim:1:37: error: model=dsv3 has no real parameters; use 'phantom'"
        ),
    ]

    @Test("bad pipeline train lines name the value", arguments: malformed.indices)
    func malformedLine(index: Int) {
        let (line, expected) = Self.malformed[index]
        let session = ScenarioSession(output: { _ in })
        guard case .failed(let error) = session.execute(line, file: "t.moesim", line: 1) else {
            Issue.record("'\(line)' should fail")
            return
        }
        #expect(error.description.components(separatedBy: "\n").first == expected)
        #expect(session.simulation.liveProcessCount == 0)
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
            F7b3 F&B pair: F of mb 7 with B of mb 3; UPPER travels down, lower up; . idle

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
