import Testing

@testable import Scenario

/// `train … zero-overlap=on|off`: ZeRO-1 under the schedule or after it, stated on the train line and in
/// `show step`; on by default for the dsv3 presets only.
@Suite(.serialized) struct TrainZeROOverlapTests {
    static let malformed: [(line: String, error: String)] = [
        (
            "train pp=2 dp=2 zero-overlap=maybe",
            "t.moesim:1:30: error: 'maybe' is not valid for zero-overlap (one of on, off)"
        ),
        ("train pp=2 dp=2 zero-overlap=", "t.moesim:1:17: error: missing value after 'zero-overlap='"),
        (
            "train pp=2 zero-overlap=on",
            "t.moesim:1:12: error: zero-overlap= applies to data-parallel ranks; a pipeline run with dp=1 has none"
        ),
        (
            "train dp=2 zero-overlap=on",
            "t.moesim:1:12: error: zero-overlap= applies to the pipeline trainer (pp=, schedule= or ep=); the "
                + "data-parallel trainer runs BF16 without a schedule"
        ),
    ]

    @Test("bad zero-overlap= lines name the value", arguments: malformed.indices)
    func malformedLine(index: Int) {
        MalformedLineTests.check(Self.malformed[index])
    }

    @Test("completion offers the key and its values")
    func completion() {
        let session = ScenarioSession(output: { _ in })
        #expect(session.completions(for: "train zero-o") == ["zero-overlap="])
        #expect(session.completions(for: "train zero-overlap=o") == ["zero-overlap=on", "zero-overlap=off"])
    }

    /// Unit costs, DualPipe PP=4 × DP=2 (tiny, real): the train line and `show step` say which, the values equal
    /// the reference either way, and overlapped the step is shorter with less DP time exposed.
    @Test func unitCostDualPipeHidesDataParallelTime() throws {
        var printed: [String] = []
        let session = ScenarioSession(output: { printed.append($0) })
        func dualPipe(_ overlap: String) -> (step: Double, dp: Double) {
            printed = []
            let train = "train pp=4 dp=2 schedule=dualpipe microbatches=8 costs=unit zero-overlap=\(overlap)"
            for line in [train, "run", "expect train.max_param_diff < 1e-5", "show step"] {
                #expect(session.execute(line) == .done, "\(line): \(printed.last ?? "")")
            }
            let stated = overlap == "on" ? "ZeRO-1 overlapped (zero-overlap=on)" : "ZeRO-1 after the schedule"
            #expect(printed.contains { $0.hasPrefix("queued DualPipe") && $0.contains("zero-overlap=\(overlap))") })
            #expect(printed.contains { $0.hasPrefix(stated) }, "\(printed)")
            return (
                (try? session.metricValue("train.step_time")) ?? .nan,
                (try? session.metricValue("train.dp_comm")) ?? .nan
            )
        }
        let off = dualPipe("off")
        let on = dualPipe("on")
        #expect(on.step < off.step)
        #expect(on.dp < off.dp)
    }

    @Test("the default: off for tiny and small, on for dsv3-mini")
    func defaults() throws {
        var printed: [String] = []
        let session = ScenarioSession(output: { printed.append($0) })
        #expect(session.execute("train pp=2 dp=2") == .done)
        #expect(printed.last?.contains("ZeRO-1 after the schedule (zero-overlap=off)") == true, "\(printed)")
        var requests: [TrainRequest] = []
        session.register(
            Command("probe", synopsis: "probe", summary: "", argumentKeys: TrainRequest.allowedKeys) { line in
                requests.append(try TrainRequest(line, defaultSeed: 0))
            })
        for text in [
            "model=dsv3-mini phantom", "model=dsv3 phantom", "model=small", "model=dsv3-mini zero-overlap=off",
        ] {
            #expect(session.execute("probe " + text) == .done)
        }
        #expect(requests.map(\.zeroOverlap) == [true, true, false, false])
    }
}
