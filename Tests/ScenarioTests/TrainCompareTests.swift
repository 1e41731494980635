import Testing

@testable import Scenario

/// `train … compare=`: the same run under other schedules on fresh worlds, for `show step` and
/// `train.compare[S].*`.
@Suite(.serialized) struct TrainCompareTests {
    static let malformed: [(line: String, error: String)] = [
        (
            "train pp=2 compare=zb1p,fast",
            "t.moesim:1:25: error: 'fast' is not a schedule compare= runs (one of gpipe, 1f1b, zb1p, dualpipe)"
        ),
        ("train pp=2 compare=zb1p,1f1b", "t.moesim:1:25: error: compare= names 1F1B as the run's own schedule"),
        ("train pp=2 compare=zb1p,zb1p", "t.moesim:1:25: error: compare= names ZB1P twice"),
        (
            "train pp=2 microbatches=3 compare=dualpipe",
            "t.moesim:1:35: error: compare=dualpipe: DualPipe needs an even number of micro-batches, got m=3"
        ),
        (
            "train pp=2 schedule=dualpipev compare=1f1b",
            "t.moesim:1:39: error: compare= needs a main schedule of pp devices (gpipe, 1f1b, zb1p or dualpipe), "
                + "not schedule=dualpipev"
        ),
        (
            "train dp=2 compare=1f1b",
            "t.moesim:1:12: error: compare= applies to the pipeline trainer (pp=, schedule= or ep=); the "
                + "data-parallel trainer runs BF16 without a schedule"
        ),
    ]

    @Test("bad compare= lines name the value", arguments: malformed.indices)
    func malformedLine(index: Int) {
        MalformedLineTests.check(Self.malformed[index])
    }

    @Test("unit costs: each compared schedule's bubble is its closed form; show step prints the table")
    func unitCostComparison() throws {
        var printed: [String] = []
        let session = ScenarioSession(output: { printed.append($0) })
        for line in [
            "train model=tiny pp=4 schedule=1f1b microbatches=8 costs=unit compare=zb1p,dualpipe", "run",
            // 1F1B (PP − 1)(f + b + w) = 9, ZB1P (PP − 1)(f + b − w) = 3, DualPipe (PP/2 − 1)(fb + b − 2w) = 2.
            "expect train.bubble == 9ms", "expect train.compare[zb1p].bubble == 3ms",
            "expect train.compare[dualpipe].bubble == 2ms", "expect train.compare[zb1p].step_time == 27ms",
            "show step",
        ] {
            #expect(session.execute(line) == .done, "\(line): \(printed.last ?? "")")
        }
        #expect(printed.contains { $0.hasPrefix("1F1B (this run)") && $0.contains("1.000×") })
        #expect(printed.contains { $0.hasPrefix("DualPipe ") && $0.contains("0.788×") })
        #expect(session.completions(for: "print train.compare[z").contains("train.compare[zb1p].bubble"))
        // The comparison belongs to that run: a new train forgets it.
        #expect(session.execute("train model=tiny pp=2 costs=unit") == .done)
        #expect(session.execute("run") == .done)
        #expect(session.execute("expect train.compare[zb1p].bubble == 3ms") != .done)
    }

    @Test("Ctrl-C during a compared run drops the comparison, keeps the main run and points back at its world")
    func interruptedComparison() throws {
        var printed: [String] = []
        let session = ScenarioSession(output: { printed.append($0) })
        var driven: [Bool] = []
        // What the executable's Ctrl-C does: stop the world being driven (here: at once).
        session.onSideRun { simulation in
            let isSide = simulation !== session.simulation
            driven.append(isSide)
            if isSide { simulation.executor.requestStop() }
        }
        #expect(session.execute("train model=tiny pp=2 costs=unit compare=zb1p") == .done)
        let outcome = "\(session.execute("run"))"
        #expect(driven == [true, false])
        #expect(
            outcome.contains("compare=zb1p:") && outcome.contains("interrupted (Ctrl-C) at t=0ns of the ZB1P run")
                && outcome.contains("the main run is kept"), "\(outcome)")
        #expect(session.execute("expect train.bubble == 3ms") == .done, "\(printed.last ?? "")")
        #expect(session.execute("print train.compare[zb1p].bubble") != .done)
    }

    @Test("completion offers the comparable schedules and the precisions")
    func completion() {
        let session = ScenarioSession(output: { _ in })
        #expect(session.completions(for: "train compare=z") == ["compare=zb1p"])
        #expect(session.completions(for: "train precision=f") == ["precision=fp8"])
        #expect(session.completions(for: "train compa") == ["compare="])
    }
}
