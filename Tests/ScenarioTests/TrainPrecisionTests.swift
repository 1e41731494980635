import Parallelism
import Testing

@testable import Scenario

/// `train … precision=fp8|bf16`: the pipeline trainer's GEMM precisions, defaulting to the preset's step.
@Suite(.serialized) struct TrainPrecisionTests {
    static let malformed: [(line: String, error: String)] = [
        (
            "train pp=2 precision=fp4",
            "t.moesim:1:22: error: 'fp4' is not valid for precision (one of fp8, bf16)"
        ),
        (
            "train pp=2 costs=unit precision=fp8",
            "t.moesim:1:23: error: precision= applies only to costs=model (costs=unit times ops with f=, b=, w=)"
        ),
        (
            "train dp=2 precision=fp8",
            "t.moesim:1:12: error: precision= applies to the pipeline trainer (pp=, schedule= or ep=); the "
                + "data-parallel trainer runs BF16 without a schedule"
        ),
        (
            "train pp=2 gemm-rates=fast",
            "t.moesim:1:23: error: 'fast' is not valid for gemm-rates (one of published, peak)"
        ),
        (
            "train dp=2 gemm-rates=peak",
            "t.moesim:1:12: error: gemm-rates= applies to the pipeline trainer (pp=, schedule= or ep=); the "
                + "data-parallel trainer runs BF16 without a schedule"
        ),
        (
            "train model=small pp=2 dp=8 ep=4 schedule=dualpipe microbatches=4 a2a=flows real",
            "t.moesim:1:71: error: a2a=flows models phantom rows only (flows carry no values); use phantom or "
                + "a2a=messages"
        ),
        ("train pp=2 a2a=flows phantom", "t.moesim:1:16: error: a2a= applies to expert-parallel runs (ep > 1)"),
    ]

    @Test("bad precision= lines name the value", arguments: malformed.indices)
    func malformedLine(index: Int) {
        MalformedLineTests.check(Self.malformed[index])
    }

    private func request(_ text: String) throws -> TrainRequest {
        let session = ScenarioSession(output: { _ in })
        var result: TrainRequest?
        session.register(
            Command("probe", synopsis: "probe", summary: "", argumentKeys: TrainRequest.allowedKeys) { line in
                result = try TrainRequest(line, defaultSeed: 0)
            })
        #expect(session.execute("probe " + text) == .done)
        return try #require(result)
    }

    @Test("defaults: FP8 for the DeepSeek-V3 presets (experts too), BF16 for the test models; the key overrides")
    func defaults() throws {
        let mini = try request("model=dsv3-mini phantom")
        #expect(mini.precision == .deepSeekV3)
        #expect(mini.expertOptions.expertPrecision == .fp8 && mini.expertOptions.sharedExpertPrecision == .fp8)
        #expect(try request("model=dsv3 phantom").precision == .deepSeekV3)
        let tiny = try request("model=tiny")
        #expect(tiny.precision == .bf16 && tiny.expertOptions.expertPrecision == .bf16)
        #expect(try request("model=small").precision == .bf16)
        let bf16 = try request("model=dsv3-mini precision=bf16 phantom")
        #expect(bf16.precision == .bf16 && bf16.expertOptions.expertPrecision == .bf16)
        // expert-precision= still sets the routed experts.
        let fp4 = try request("model=small precision=fp8 expert-precision=fp4")
        #expect(fp4.expertOptions.expertPrecision == .fp4 && fp4.expertOptions.sharedExpertPrecision == .fp8)
    }

    /// Runs `line` on two nodes; returns the step time (ns) and the max parameter difference.
    private func run(_ line: String) -> (stepTime: Double?, difference: Double?, printed: [String], mfu: [Double?]) {
        var printed: [String] = []
        let session = ScenarioSession(output: { printed.append($0) })
        for text in ["cluster preset=2-nodes", line, "run"] {
            #expect(session.execute(text) == .done, "\(text): \(printed.last ?? "")")
        }
        return (
            try? session.metricValue("train.step_time"), try? session.metricValue("train.max_param_diff"), printed,
            ["train.mfu", "train.mfu_fp8", "train.tokens_per_day"].map { try? session.metricValue($0) }
        )
    }

    @Test("a real tiny PP × EP × DP run in FP8 has the reference's numbers; a phantom small one a shorter step")
    func fp8ChangesTimeOnly() throws {
        let real = "train model=tiny layers=4 pp=2 dp=8 ep=4 schedule=dualpipe microbatches=4"
        let fp8 = run(real + " precision=fp8")
        let bf16 = run(real)
        #expect(try #require(fp8.difference) <= 1e-5)
        #expect(fp8.difference == bf16.difference)
        #expect(
            fp8.printed.contains {
                $0.contains(
                    "fp8 GEMMs (attention core, head, gate bf16; DeepGEMM's published H800 rates where measured)")
            })
        #expect(!bf16.printed.contains { $0.contains("fp8 GEMMs") })
        #expect(
            run(real + " precision=fp8 gemm-rates=peak").printed.contains { $0.contains("gate bf16; datasheet peak)") })
        let phantom = "train model=small pp=2 dp=8 ep=4 schedule=dualpipe microbatches=4 phantom"
        let fp8Phantom = run(phantom + " precision=fp8")
        let fast = try #require(fp8Phantom.stepTime)
        let slow = run(phantom)
        #expect(fast < (try #require(slow.stepTime)))
        // MFU at the FP8 peak is below the BF16-equivalent MFU of the same run; a BF16 run has none.
        let mfu = try #require(fp8Phantom.mfu[0])
        #expect(try #require(fp8Phantom.mfu[1]) < mfu)
        #expect(slow.mfu[1] == nil)
        // 4 micro-batches × dp 8 × 4 sequences × 128 tokens in one step, × 86400 s / step time.
        let perDay = try #require(fp8Phantom.mfu[2])
        #expect(abs(perDay - 16_384 / (fast * 1e-9) * 86_400) <= 1e-6 * perDay)
    }
}

extension ScenarioSession {
    /// The current value of `metric` (throws naming it when it has none).
    func metricValue(_ metric: String) throws -> Double {
        let token = Token(text: metric, column: 7, length: metric.count, isQuoted: false)
        let line = CommandLine(
            command: Token(text: "print", column: 1, length: 5, isQuoted: false), positionals: [], options: [],
            file: "t", lineNumber: 1, source: "print " + metric)
        return try resolve(token, in: line).1
    }
}
