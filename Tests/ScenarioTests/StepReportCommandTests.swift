import Foundation
import Testing

@testable import Scenario

/// `show step` and the step-accounting metrics from the command line.
@Suite("show step", .serialized)
struct StepReportCommandTests {
    static let unitRun = ["train model=tiny pp=4 schedule=1f1b microbatches=8 costs=unit", "run"]

    @Test("show step after a unit-cost 1F1B run: the mean and slowest GPU's parts, HBM by kind (golden file)")
    func unitCostTable() throws {
        let text = TableGoldenTests.output(of: Self.unitRun + ["show step"])
        try HelpGoldenTests.check(text, against: "show-step-1f1b-unit.txt")
        // Unit costs time nothing on the GPUs: no MFU line.
        #expect(!text.contains("MFU"))
    }

    @Test("the step metrics: bubble = (PP-1)(f+b+w), nothing exposed under unit costs")
    func unitCostMetrics() {
        let session = ScenarioSession(output: { _ in })
        for line in Self.unitRun { #expect(session.execute(line) == .done) }
        for check in [
            "expect train.bubble == 9ms", "expect train.exposed_comm == 0ns", "expect train.ep_comm == 0ns",
            "expect train.pp_comm == 0ns", "expect train.dp_comm == 0ns", "expect train.compute_time == 24ms",
        ] {
            #expect(session.execute(check) == .done, "\(check)")
        }
        // No MFU under unit costs.
        #expect(session.execute("expect train.mfu > 0") != .done)
    }

    @Test("model costs on 2 nodes: exposed PP communication and MFU appear, with the DP exchange")
    func modelCostMetrics() {
        var lines: [String] = []
        let session = ScenarioSession(output: { lines.append($0) })
        for line in [
            "cluster nodes=2", "train model=tiny pp=2 dp=8 zero=1 schedule=1f1b microbatches=2 phantom", "run",
            "expect train.pp_comm > 0ns", "expect train.dp_comm > 0ns", "expect train.ep_comm == 0ns",
            "expect train.mfu > 0", "expect train.mfu < 1", "show step",
        ] {
            #expect(session.execute(line) == .done, "\(line)")
        }
        #expect(lines.contains { $0.hasPrefix("MFU ") && $0.contains("16 GPUs × 989 TFLOP/s dense BF16") })
        #expect(lines.contains { $0.hasPrefix("gpu15 ") })
        #expect(lines.contains { $0.hasPrefix("remainder ") && $0.contains(" 0ns ") })
    }

    static let malformed: [(line: String, error: String)] = [
        ("show step", "t.moesim:1:6: error: no train run has finished yet (train …, then run)"),
        ("show step steps=1", "t.moesim:1:11: error: unknown argument 'steps': 'show' takes step"),
        ("show step extra", "t.moesim:1:11: error: unexpected 'extra' after 'show' (see 'help show')"),
    ]

    @Test("malformed show step lines", arguments: malformed.indices)
    func malformedLine(index: Int) {
        MalformedLineTests.check(Self.malformed[index])
    }

    @Test("show step step= out of range or not a number, after a one-step run")
    func badStepIndex() {
        let setup = ["train model=tiny pp=2 microbatches=2 costs=unit", "run"]
        MalformedLineTests.check(
            ("show step step=1", "t.moesim:1:16: error: 1 is out of range (expected 0…0)"), after: setup)
        MalformedLineTests.check(
            ("show step step=x", "t.moesim:1:16: error: 'x' is not a whole number (expected 0…0)"), after: setup)
    }

    @Test("completion offers the topic and its step= key")
    func completion() {
        let session = ScenarioSession(output: { _ in })
        #expect(session.completions(for: "show st").contains("step"))
        #expect(session.completions(for: "show step s") == ["step="])
        #expect(session.completions(for: "print train.ex") == ["train.exposed_comm"])
    }
}
