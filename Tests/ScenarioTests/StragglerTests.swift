import Testing

@testable import Scenario

/// `fault gpu=N slow=X` in the parallel commands: a straggler stretches its own kernels by exactly X, leaves
/// every other GPU's kernels alone, and the layer or step waits for it, so `moe.last.time` and
/// `train.step_time` grow by about its extra kernel time and never by more than X.
@Suite("Stragglers in the moe and train commands", .serialized)
struct StragglerTests {
    /// Runs `lines` in `session`, failing the test at the first one that does not succeed.
    private static func execute(_ session: ScenarioSession, _ lines: [String]) {
        for line in lines { #expect(session.execute(line) == .done, "\(line)") }
    }

    /// The value of `metric` now (time metrics in ns); nil when it has none.
    private static func value(_ session: ScenarioSession, _ metric: String) -> Double? {
        let token = Token(text: metric, column: 7, length: metric.count, isQuoted: false)
        let line = CommandLine(
            command: Token(text: "print", column: 1, length: 5, isQuoted: false), positionals: [], options: [],
            file: "t", lineNumber: 1, source: "print " + metric)
        return try? session.resolve(token, in: line).1
    }

    /// What one run measured: its time, and the compute-SM busy time it added on each GPU asked for.
    private struct Measure {
        var time: Double
        var busy: [Double]
    }

    /// Runs `work` (queue lines, then `run`) and measures `timeMetric` and the busy time it added on `gpus`.
    private static func measure(
        _ session: ScenarioSession, _ work: [String], timeMetric: String, gpus: [Int]
    ) throws -> Measure {
        let before = gpus.map { value(session, "gpu[\($0)].compute.busy") ?? 0 }
        execute(session, work + ["run", "check"])
        let time = try #require(value(session, timeMetric), "\(timeMetric) after \(work)")
        let after = gpus.map { value(session, "gpu[\($0)].compute.busy") ?? 0 }
        return Measure(time: time, busy: zip(after, before).map { $0 - $1 })
    }

    static let moeLayer = "moe tokens=256 hidden=1024 expert-hidden=512 experts=16 topk=2"

    @Test("slow=2 on gpu3 of an EP8 layer: gpu3's kernels take exactly 2x, the layer waits for them (≤ 2x)")
    func moeStraggler() throws {
        let session = ScenarioSession(output: { _ in })
        let healthy = try Self.measure(
            session, [Self.moeLayer + " group=gpu0-7 name=healthy"], timeMetric: "moe.last.time", gpus: [3, 2])
        Self.execute(session, ["fault gpu=3 slow=2"])
        let slow = try Self.measure(
            session, [Self.moeLayer + " group=gpu0-7 name=slow"], timeMetric: "moe.last.time", gpus: [3, 2])
        // Kernel by kernel the straggler's durations double exactly (whole ns × 2); gpu2 is untouched.
        #expect(slow.busy[0] == 2 * healthy.busy[0], "gpu3 busy \(healthy.busy[0]) -> \(slow.busy[0]) ns")
        #expect(slow.busy[1] == healthy.busy[1], "gpu2 busy \(healthy.busy[1]) -> \(slow.busy[1]) ns")
        // The layer ends when gpu3's experts have run: it grows by (nearly) all of gpu3's extra kernel time
        // (measured: 54.96 µs + 19.57 µs -> 74.53 µs), and by no more than the factor.
        #expect(slow.time >= healthy.time + 0.95 * healthy.busy[0], "\(healthy.time) -> \(slow.time) ns")
        #expect(slow.time <= 2 * healthy.time, "\(healthy.time) -> \(slow.time) ns")
        // A layer on GPUs the straggler is not part of takes exactly as long as without the fault.
        let outside = try Self.measure(
            session, [Self.moeLayer + " group=gpu4-7 name=outside"], timeMetric: "moe.last.time", gpus: [4])
        Self.execute(session, ["fault clear"])
        let outsideHealthy = try Self.measure(
            session, [Self.moeLayer + " group=gpu4-7 name=outside-healthy"], timeMetric: "moe.last.time", gpus: [4])
        #expect(outside.time == outsideHealthy.time)
    }

    @Test(
        "a straggler stage or rank stretches train.step_time by its extra kernel time (1% of the step), ≤ 2x",
        arguments: [
            "train model=tiny pp=2 schedule=1f1b microbatches=4", "train model=tiny dp=2 zero=1",
        ])
    func trainStraggler(train: String) throws {
        let session = ScenarioSession(output: { _ in })
        let healthy = try Self.measure(session, [train], timeMetric: "train.step_time", gpus: [1, 0])
        Self.execute(session, ["fault gpu=1 slow=2"])
        let slow = try Self.measure(session, [train], timeMetric: "train.step_time", gpus: [1, 0])
        #expect(slow.busy[0] == 2 * healthy.busy[0], "gpu1 busy \(healthy.busy[0]) -> \(slow.busy[0]) ns")
        #expect(slow.busy[1] == healthy.busy[1], "gpu0 busy \(healthy.busy[1]) -> \(slow.busy[1]) ns")
        // gpu1 (the last stage, or a DP rank whose gradients the all-reduce waits for) is on the critical path
        // for its whole busy time: the step grows by that time once more (pp: 995.0 -> 1811.2 µs against
        // 995.0 + 820.4; dp: 92.1 -> 176.7 µs against 92.1 + 84.3), within 1 % of the healthy step.
        let predicted = healthy.time + healthy.busy[0]
        #expect(abs(slow.time - predicted) <= 0.01 * healthy.time, "\(healthy.time) -> \(slow.time), \(predicted)")
        #expect(slow.time > healthy.time && slow.time <= 2 * healthy.time)
        // The straggler runs its kernels one after another inside the step.
        #expect(slow.time >= slow.busy[0])
    }
}
