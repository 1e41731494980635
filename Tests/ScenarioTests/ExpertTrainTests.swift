import Testing

@testable import Scenario

/// `train … ep=N`: the composed PP × EP × DP run from the command language.
@Suite(.serialized) struct ExpertTrainTests {
    static let malformed: [(line: String, error: String)] = [
        ("train pp=2 dp=4 ep=3", "t.moesim:1:15: error: dp=4 must be a multiple of ep=3 (dp = ep × dp-replica)"),
        (
            "train pp=2 dp=2 ep=2 costs=unit",
            "t.moesim:1:28: error: ep=2 needs costs=model (the all-to-all runs on the fabric)"
        ),
        ("train pp=2 overlap=off", "t.moesim:1:20: error: overlap= applies to expert-parallel runs (ep > 1)"),
        ("train pp=2 mode=waved", "t.moesim:1:17: error: mode= applies to expert-parallel runs (ep > 1)"),
        (
            "train pp=2 dp=2 ep=2 schedule=1f1b overlap=on",
            "t.moesim:1:44: error: overlap= applies to schedule=dualpipe or dualpipev (their F&B cells pair two chunks)"
        ),
        (
            "train pp=2 dp=2 ep=2 mode=serial waves=2",
            "t.moesim:1:40: error: waves and experts-per-wave need mode=waved"
        ),
        (
            "train pp=2 dp=2 ep=2 dispatch=fp8",
            "t.moesim:1:31: error: dispatch=fp8 scales blocks of 128 values; hidden = 16 needs dispatch=bf16"
        ),
        (
            "train pp=2 dp=2 ep=2 comm-sms=132",
            "t.moesim:1:31: error: comm-sms=132 must leave compute SMs: 1...131 of the 132 SMs"
        ),
        (
            "train dp=2 comm-sms=20",
            "t.moesim:1:21: error: comm-sms= applies to pipeline (pp=) and expert-parallel (ep=) runs"
        ),
        (
            "train pp=2 dp=2 ep=2 mode=fast",
            "t.moesim:1:27: error: 'fast' is not valid for mode (one of serial, comet, waved)"
        ),
        ("train pp=2 dp=2 ep=16", "t.moesim:1:15: error: dp=2 must be a multiple of ep=16 (dp = ep × dp-replica)"),
        ("train pp=1 dp=6 ep=3", "t.moesim:1:20: error: ep=3: does not divide the model's 8 routed experts"),
    ]

    @Test("bad expert-parallel train lines name the value", arguments: malformed.indices)
    func malformedLine(index: Int) {
        MalformedLineTests.check(Self.malformed[index])
    }

    @Test("train pp=2 dp=8 ep=4 with DualPipe equals the reference")
    func composedRunEqualsTheReference() throws {
        var printed: [String] = []
        let session = ScenarioSession(output: { printed.append($0) })
        for line in [
            "cluster preset=2-nodes",
            "train model=tiny layers=4 pp=2 dp=8 ep=4 schedule=dualpipe microbatches=4 steps=1", "run",
            "expect train.max_param_diff <= 1e-5", "expect train.steps == 1",
        ] {
            #expect(session.execute(line) == .done, "\(line): \(printed.last ?? "")")
        }
        #expect(printed.contains { $0.contains("(ep=4 × dp-replica=2, bf16 dispatch, mode serial, F&B overlap on)") })
    }
}
